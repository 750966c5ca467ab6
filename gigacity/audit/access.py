"""Who may read the audit trail: the ministry's security officer, which is a permission given to a
ministry account (or an administrator), not a role. A city or bureau account never reads it, even
if the permission was given by mistake."""

from __future__ import annotations

from functools import cache

from django.db import connection

from gigacity.statements import numbered, prepared

AUDIT_PERMISSION = "gigacity.browse_audit"


@cache
def _permission_sql() -> str:
    from django.contrib.auth.models import Group, Permission
    from django.contrib.contenttypes.models import ContentType

    from gigacity.models import User

    user_permissions = User.user_permissions.through._meta.db_table
    user_groups = User.groups.through._meta.db_table
    group_permissions = Group.permissions.through._meta.db_table
    return (
        f"SELECT EXISTS (SELECT 1 FROM {Permission._meta.db_table} p"
        f" JOIN {ContentType._meta.db_table} t ON t.id = p.content_type_id"
        " WHERE t.app_label = %s AND p.codename = %s AND ("
        f"p.id IN (SELECT permission_id FROM {user_permissions} WHERE user_id = %s)"
        f" OR p.id IN (SELECT gp.permission_id FROM {group_permissions} gp"
        f" JOIN {user_groups} ug ON ug.group_id = gp.group_id WHERE ug.user_id = %s)))"
    )


@cache
def _prepared_permission_sql() -> tuple[str, tuple[str, ...]]:
    """`_permission_sql` with PostgreSQL's placeholders, and its parameters' types."""
    return numbered(_permission_sql()), ("text", "text", "bigint", "bigint")


def may_browse_audit(user) -> bool:
    if not (user is not None and user.is_authenticated and user.is_active and user.has_national_scope):
        return False
    if user.is_superuser or hasattr(user, "_perm_cache"):
        return user.has_perm(AUDIT_PERMISSION)  # all of them known already (or all granted)
    # Every page's navigation asks this: one EXISTS for this one permission, given to the account or
    # to one of its groups (what Django's ModelBackend grants), instead of `has_perm` loading every
    # permission of both through the ORM, which cost more than the rest of a cached dashboard page.
    # Prepared once per database connection: PostgreSQL took longer to plan it than to answer it.
    app_label, codename = AUDIT_PERMISSION.split(".")
    execute = prepared(connection, "gigacity_may_browse_audit", *_prepared_permission_sql())
    with connection.cursor() as cursor:
        cursor.execute(execute or _permission_sql(), [app_label, codename, user.pk, user.pk])
        return bool(cursor.fetchone()[0])
