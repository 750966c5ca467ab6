from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReviewsConfig(AppConfig):
    name = "reviews"
    verbose_name = _("Review and decisions")

    def ready(self) -> None:
        from . import receivers  # noqa: F401 - notifications follow every workflow transition
