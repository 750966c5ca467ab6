"""Who may read the audit trail: the ministry's security officer, which is a permission given to a
ministry account (or an administrator), not a role. A city or bureau account never reads it, even
if the permission was given by mistake."""

from __future__ import annotations

AUDIT_PERMISSION = "gigacity.browse_audit"


def may_browse_audit(user) -> bool:
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_active
        and user.has_national_scope
        and user.has_perm(AUDIT_PERMISSION)
    )
