from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SubmissionsConfig(AppConfig):
    name = "submissions"
    verbose_name = _("Survey forms")

    def ready(self) -> None:
        from . import kinds  # noqa: F401 - forms follow the designations (annual report or evaluation)
