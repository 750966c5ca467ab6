"""Workflow transitions are followed by notifications, in the same transaction."""

from django.dispatch import receiver

from submissions.workflow import transitioned

from . import publication  # noqa: F401 - the public lists' cache follows rounds and designations
from .notifications import notify_transition


@receiver(transitioned, dispatch_uid="reviews.notify_transition")
def on_transition(sender, submission, event, **kwargs):
    notify_transition(submission, event)
