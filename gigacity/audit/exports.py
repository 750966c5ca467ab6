"""The audit trail as a workbook, for the security officer to keep or hand on."""

from __future__ import annotations

import json
from typing import IO

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook

from gigacity.models import AuditEvent, AuditKind, Role
from gigacity.xlsx import safe_text

# More than a spreadsheet program opens comfortably; the page asks for narrower filters instead.
MAX_EXPORT_ROWS = 200_000


def audit_workbook(*, events: QuerySet[AuditEvent], out: IO[bytes]) -> int:
    """Write the records (one row each, before/after as JSON text) and return how many."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Audit trail"))
    sheet.append(
        [
            _("Time"),
            _("Event"),
            _("Username"),
            _("Role"),
            _("Address"),
            _("Browser or program"),
            _("Page"),
            _("Object type"),
            _("Object id"),
            _("Object"),
            _("Before"),
            _("After"),
            _("Details"),
        ]
    )
    kinds, roles = dict(AuditKind.choices), dict(Role.choices)
    count = 0
    for event in events.iterator(chunk_size=2000):
        sheet.append(
            [
                timezone.localtime(event.at).strftime("%Y-%m-%d %H:%M:%S"),
                str(kinds.get(event.kind, event.kind)),
                safe_text(event.username),
                str(roles.get(event.role, event.role)),
                event.ip_address or "",
                safe_text(event.user_agent),
                safe_text(event.path),
                event.target_type,
                safe_text(event.target_id),
                safe_text(event.target_label),
                _as_text(event.before),
                _as_text(event.after),
                _as_text(event.details),
            ]
        )
        count += 1
    workbook.save(out)
    return count


def _as_text(value) -> str:
    if value in (None, {}, []):
        return ""
    return safe_text(json.dumps(value, ensure_ascii=False, sort_keys=True))
