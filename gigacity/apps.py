from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GigacityConfig(AppConfig):
    name = "gigacity"
    verbose_name = _("Users and administrative divisions")

    def ready(self) -> None:
        from . import authentication, checks  # noqa: F401 - registers the signal receivers and system checks
