"""The security audit trail: one function records an event (`audit_record`); signal receivers
record what happens wherever it comes from (sign-ins, sessions, tokens, passwords, accounts); the
admin records every change it makes; a periodic task prunes what is past its keeping time.

Pages and services that do something the trail must show call `audit_record` in the same
transaction as the change, so the record and the change are kept or lost together.
"""

from gigacity.models import AuditEvent, AuditKind

from .context import audit_reason, current_request
from .record import audit_record, changed_values, snapshot

__all__ = [
    "AuditEvent",
    "AuditKind",
    "audit_reason",
    "audit_record",
    "changed_values",
    "current_request",
    "snapshot",
]
