"""Recording what happens wherever it comes from: Django's sign-in signals (the login page, the
admin, any password page), django-axes' lockout, the session lifetime, API tokens, and every save of
an account (its role and scope, its permissions, its password).

Passwords: a changed hash is a password change, except Django's own rehash of the same password at
sign-in (`check_password` saves only the password, with no new plain password set). Who changed it
tells which kind it was: the account's owner (changed), nobody signed in (reset through an e-mailed
link), somebody else or the command line (set by an administrator).
"""

from __future__ import annotations

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save
from django.dispatch import receiver
from rest_framework.authtoken.models import Token, TokenProxy

from gigacity.models import AuditKind, User

from .context import current_request
from .record import HIDDEN, audit_record, changed_values, redacted, snapshot

# What an account is: who, which role and scope, whether it can sign in and reach the admin.
ACCOUNT_FIELDS = (
    "username",
    "role",
    "city",
    "province",
    "is_active",
    "is_staff",
    "is_superuser",
    "full_name",
    "email",
    "phone",
    "first_name",
    "last_name",
)
SESSION_CLIENT_KEY = "gigacity_audit_client"


def account_state(user: User) -> dict:
    values = snapshot(user, related=False)
    return {name: values[name] for name in ACCOUNT_FIELDS}


# ------------------------------------------------------------------------------------------------
# Signing in and out
# ------------------------------------------------------------------------------------------------
@receiver(user_logged_in, dispatch_uid="gigacity.audit.login")
def on_login(sender, request, user, **kwargs):
    event = audit_record(kind=AuditKind.LOGIN, actor=user, request=request)
    session = getattr(request, "session", None)
    if session is not None:
        # Kept with the session, so that its expiry, found later by a task, says where it was used.
        session[SESSION_CLIENT_KEY] = {"ip": event.ip_address, "ua": event.user_agent}


@receiver(user_login_failed, dispatch_uid="gigacity.audit.login_failed")
def on_login_failed(sender, credentials, request=None, **kwargs):
    # django-axes handles this signal first (its app is installed before ours); an attempt it refused
    # or that started a lockout is recorded once, as a lockout, by the receiver below.
    if request is not None and getattr(request, "axes_locked_out", False):
        return
    audit_record(
        kind=AuditKind.LOGIN_FAILED, actor=None, request=request, username=str(credentials.get("username") or "")
    )


@receiver(user_locked_out, dispatch_uid="gigacity.audit.lockout")
def on_lockout(sender, request, username=None, ip_address=None, **kwargs):
    audit_record(kind=AuditKind.LOCKOUT, actor=None, request=request, username=str(username or ""))


@receiver(user_logged_out, dispatch_uid="gigacity.audit.logout")
def on_logout(sender, request, user, **kwargs):
    if user is None:
        return  # signing out while not signed in
    if getattr(request, "gigacity_session_expired", False):
        audit_record(
            kind=AuditKind.SESSION_EXPIRED, actor=user, request=request, details={"reason": "absolute lifetime"}
        )
    else:
        audit_record(kind=AuditKind.LOGOUT, actor=user, request=request)


# ------------------------------------------------------------------------------------------------
# API tokens (the admin's token pages use the proxy model)
# ------------------------------------------------------------------------------------------------
@receiver(post_save, sender=Token, dispatch_uid="gigacity.audit.token_created")
@receiver(post_save, sender=TokenProxy, dispatch_uid="gigacity.audit.token_proxy_created")
def on_token_created(sender, instance, created, raw=False, **kwargs):
    if not created or raw:
        return
    request = current_request()
    signed_in = getattr(request, "user", None)
    actor = signed_in if signed_in is not None and signed_in.is_authenticated else instance.user
    audit_record(kind=AuditKind.TOKEN_CREATED, actor=actor, target=instance.user)


@receiver(post_delete, sender=Token, dispatch_uid="gigacity.audit.token_revoked")
@receiver(post_delete, sender=TokenProxy, dispatch_uid="gigacity.audit.token_proxy_revoked")
def on_token_revoked(sender, instance, **kwargs):
    user = User.objects.filter(pk=instance.user_id).first()
    audit_record(
        kind=AuditKind.TOKEN_REVOKED,
        target=user,
        target_label="" if user else str(instance.user_id),
    )


# ------------------------------------------------------------------------------------------------
# Accounts: role, scope, flags, password, permissions
# ------------------------------------------------------------------------------------------------
_UNCHANGED = object()


@receiver(pre_save, sender=User, dispatch_uid="gigacity.audit.account_before")
def remember_account(sender, instance: User, raw=False, update_fields=None, **kwargs):
    instance._audit_before = None
    if raw or instance.pk is None or instance._state.adding:
        return
    fields = set(update_fields or ())
    if update_fields is not None and fields <= {"last_login"}:
        instance._audit_before = _UNCHANGED  # every sign-in saves last_login alone
        return
    if fields == {"password"} and getattr(instance, "_password", None) is None:
        instance._audit_before = _UNCHANGED  # Django rehashing the same password at sign-in
        return
    current = User.objects.filter(pk=instance.pk).first()
    instance._audit_before = (account_state(current), current.password) if current else None


@receiver(post_save, sender=User, dispatch_uid="gigacity.audit.account_after")
def record_account(sender, instance: User, created, raw=False, **kwargs):
    remembered, instance._audit_before = getattr(instance, "_audit_before", None), None
    if raw:
        return
    if created:
        audit_record(kind=AuditKind.ACCOUNT_CREATED, target=instance, after=redacted(account_state(instance)))
        return
    if remembered is None or remembered is _UNCHANGED:
        return
    state, password = remembered
    before, after = changed_values(state, account_state(instance))
    if before or after:
        audit_record(kind=AuditKind.ACCOUNT_CHANGED, target=instance, before=before, after=after)
    if password != instance.password:
        audit_record(
            kind=_password_kind(instance), target=instance, before={"password": HIDDEN}, after={"password": HIDDEN}
        )


def _password_kind(user: User) -> AuditKind:
    request = current_request()
    if request is None:
        return AuditKind.PASSWORD_SET  # manage.py (add_user, changepassword) or a script
    signed_in = getattr(request, "user", None)
    if signed_in is None or not signed_in.is_authenticated:
        return AuditKind.PASSWORD_RESET
    return AuditKind.PASSWORD_CHANGED if signed_in.pk == user.pk else AuditKind.PASSWORD_SET


@receiver(post_delete, sender=User, dispatch_uid="gigacity.audit.account_deleted")
def record_account_deleted(sender, instance: User, **kwargs):
    audit_record(kind=AuditKind.ACCOUNT_DELETED, target=instance, before=redacted(account_state(instance)))


def _on_access_changed(field: str):
    def handler(sender, instance, action, reverse, model, pk_set, **kwargs):
        if action == "pre_clear":
            # What a clear removes is only known before it happens.
            if reverse:
                instance._audit_cleared = list(instance.user_set.all())
            else:
                instance._audit_cleared = sorted(str(obj) for obj in getattr(instance, field).all())
            return
        if action not in ("post_add", "post_remove", "post_clear"):
            return
        verb = "added" if action == "post_add" else "removed"
        if not reverse:
            if action == "post_clear":
                labels = getattr(instance, "_audit_cleared", [])
            else:
                labels = sorted(str(obj) for obj in model.objects.filter(pk__in=pk_set))
            if labels:
                audit_record(kind=AuditKind.PERMISSIONS_CHANGED, target=instance, details={field: {verb: labels}})
            return
        # From the other side (group.user_set.add(user), permission.user_set.remove(...)).
        users = (
            getattr(instance, "_audit_cleared", []) if action == "post_clear" else User.objects.filter(pk__in=pk_set)
        )
        for user in users:
            audit_record(kind=AuditKind.PERMISSIONS_CHANGED, target=user, details={field: {verb: [str(instance)]}})

    return handler


_groups_changed = _on_access_changed("groups")
_permissions_changed = _on_access_changed("user_permissions")
m2m_changed.connect(_groups_changed, sender=User.groups.through, dispatch_uid="gigacity.audit.groups")
m2m_changed.connect(
    _permissions_changed, sender=User.user_permissions.through, dispatch_uid="gigacity.audit.permissions"
)
