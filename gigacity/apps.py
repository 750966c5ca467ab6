from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class GigacityConfig(AppConfig):
    default = True
    name = "gigacity"
    verbose_name = _("Users and administrative divisions")

    def ready(self) -> None:
        # Signal receivers (tokens, the audit trail) and system checks.
        from . import authentication, checks  # noqa: F401
        from .audit import receivers  # noqa: F401


class AdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with our site (administrators only, every change audited) as the default;
    installed by its dotted path in INSTALLED_APPS."""

    default = False
    default_site = "gigacity.admin_site.AdminSite"
