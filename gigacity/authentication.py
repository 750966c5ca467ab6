"""API tokens that expire, and that stop working when the password changes."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models.signals import pre_save
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed

from .audit.context import audit_reason
from .models import User


def token_cutoff():
    return timezone.now() - timedelta(days=settings.GIGACITY_API_TOKEN_DAYS)


class ExpiringTokenAuthentication(TokenAuthentication):
    """DRF's token authentication, refusing tokens older than GIGACITY_API_TOKEN_DAYS."""

    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        if token.created < token_cutoff():
            with audit_reason("expired"):
                token.delete()
            raise AuthenticationFailed(_("The token has expired; ask for a new one at /api/v1/auth/token/."))
        return user, token


@receiver(pre_save, sender=User, dispatch_uid="gigacity.revoke_tokens_on_password_change")
def revoke_tokens_on_password_change(sender, instance: User, **kwargs) -> None:
    """A new password ends every session (Django's session hash) and, here, every API token: whoever
    sets it (the password pages, the admin, `changepassword`, the user workbook)."""
    if instance.pk is None:
        return
    # Django rehashes a correct password at login when its hasher's settings change, and marks that by
    # leaving _password unset; it is the same password, so the tokens stay. A password made unusable
    # is not a hash upgrade.
    if instance._password is None and instance.has_usable_password():
        return
    old = User.objects.filter(pk=instance.pk).values_list("password", flat=True).first()
    if old is not None and old != instance.password:
        with audit_reason("password changed"):
            Token.objects.filter(user_id=instance.pk).delete()
