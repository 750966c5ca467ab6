"""Who may read the audit trail: the ministry's security officer, which is a permission given to a
ministry account (or an administrator), not a role. A city or bureau account never reads it, even
if the permission was given by mistake."""

from __future__ import annotations

from django.db.models import Q

AUDIT_PERMISSION = "gigacity.browse_audit"


def may_browse_audit(user) -> bool:
    if not (user is not None and user.is_authenticated and user.is_active and user.has_national_scope):
        return False
    if user.is_superuser or hasattr(user, "_perm_cache"):
        return user.has_perm(AUDIT_PERMISSION)  # all of them known already (or all granted)
    # Every page's navigation asks this: one EXISTS for this permission, given to the account or to
    # one of its groups, instead of loading every permission of both (Django's `has_perm`), which
    # cost more than the rest of a cached dashboard page.
    from django.contrib.auth.models import Permission

    app_label, codename = AUDIT_PERMISSION.split(".")
    return (
        Permission.objects.filter(content_type__app_label=app_label, codename=codename)
        .filter(Q(user=user) | Q(group__user=user))
        .exists()
    )
