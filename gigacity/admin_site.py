"""The Django admin site: for administrators only, and every change it makes is audited.

Installed as the default site (`gigacity.apps.AdminConfig`), so every `admin.site.register` and
`@admin.register`, ours and third-party apps', lands here."""

from __future__ import annotations

from django.contrib import admin

from .audit.admin_changes import AuditedModelAdmin
from .models import Role


class AdminSite(admin.AdminSite):
    def has_permission(self, request) -> bool:
        # Staff status alone is not enough: the account's role must be administrator (least
        # privilege; the database also refuses staff status on any other role).
        user = request.user
        return bool(user.is_active and user.is_staff and getattr(user, "role", None) == Role.ADMIN)

    def register(self, model_or_iterable, admin_class=None, **options):
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, AuditedModelAdmin):
            admin_class = type(
                admin_class.__name__, (AuditedModelAdmin, admin_class), {"__module__": admin_class.__module__}
            )
        return super().register(model_or_iterable, admin_class, **options)
