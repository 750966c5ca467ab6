from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReviewsConfig(AppConfig):
    name = "reviews"
    verbose_name = _("Review and decisions")

    def ready(self) -> None:
        from submissions import selectors, workflow

        from . import receivers  # noqa: F401 - notifications follow every workflow transition
        from .evidence import unsettled_evidence_refusal
        from .history import CHECK_HISTORY

        # An evidence request not settled stops recommending and approving (one rule, reviews.evidence).
        if unsettled_evidence_refusal not in workflow.preconditions:
            workflow.preconditions.append(unsettled_evidence_refusal)
        # Evidence requests and sample checks appear in the form's history.
        if CHECK_HISTORY not in selectors.history_sources:
            selectors.history_sources.append(CHECK_HISTORY)
