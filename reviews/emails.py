"""E-mail copies of notifications, in the site's default language (Simplified Chinese)."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from .models import Notification
from .notifications import notification_title, notification_url


def send_notification_emails(notification_ids: list[int]) -> int:
    sent = 0
    pending = Notification.objects.filter(pk__in=notification_ids, emailed_at__isnull=True).select_related(
        "recipient", "city", "round", "actor", "submission"
    )
    with translation.override(settings.LANGUAGE_CODE):
        for notification in pending:
            with transaction.atomic():
                # Claim the row first, so that a retried task does not send the same e-mail twice.
                claimed = Notification.objects.filter(pk=notification.pk, emailed_at__isnull=True).update(
                    emailed_at=timezone.now()
                )
                if not claimed:
                    continue
                title = notification_title(notification)
                lines = [title]
                if notification.text:
                    lines += ["", _("Reason or note: %(text)s") % {"text": notification.text}]
                lines += ["", settings.GIGACITY_SITE_URL + notification_url(notification)]
                send_mail(
                    f"[{settings.GIGACITY_SYSTEM_NAME}] {title}",
                    "\n".join(lines),
                    settings.DEFAULT_FROM_EMAIL,
                    [notification.recipient.email],
                )
                sent += 1
    return sent
