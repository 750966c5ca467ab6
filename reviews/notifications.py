"""Who is told what, and how it reads. Notifications are rows (the bell) and, for people with an
e-mail address, an e-mail sent by the worker after the transaction commits."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from gigacity.models import Role, User
from gigacity.params import int_param
from submissions.forms import field_label
from submissions.models import Action, Extension, FormKind, Status, Submission, SubmissionEvent

from .models import Notification, NotificationKind

TITLES = {
    NotificationKind.SUBMITTED: lambda n: _("%(city)s submitted its %(year)s %(form)s") % _subjects(n),
    NotificationKind.RESUBMITTED: lambda n: _("%(city)s resubmitted its %(year)s %(form)s") % _subjects(n),
    NotificationKind.RETURNED: lambda n: _("The %(year)s %(form)s of %(city)s was returned for changes") % _subjects(n),
    NotificationKind.RECOMMENDED: lambda n: _("%(city)s was recommended to the ministry (%(year)s)") % _subjects(n),
    NotificationKind.APPROVED: lambda n: _("%(city)s was named a %(year)s Gigabit City") % _subjects(n),
    NotificationKind.REJECTED: lambda n: (
        _("%(city)s was not named a Gigabit City this round (%(year)s)") % _subjects(n)
    ),
    NotificationKind.SENT_BACK: lambda n: _("The ministry sent %(city)s back to the bureau (%(year)s)") % _subjects(n),
    NotificationKind.CONFIRMED: lambda n: (
        _("The %(year)s annual report of %(city)s was confirmed: it still meets the Gigabit City standard")
        % _subjects(n)
    ),
    NotificationKind.NOT_CONFIRMED: lambda n: (
        _("The %(year)s annual report of %(city)s was not confirmed: improve by %(due)s")
        % {**_subjects(n), "due": n.extra.get("improvement_due", "")}
    ),
    NotificationKind.EXTENSION: lambda n: (
        _("%(city)s may submit until %(until)s (extension)") % {**_subjects(n), "until": n.extra.get("until", "")}
    ),
    NotificationKind.REMINDER: lambda n: (
        _("%(days)s day(s) left: the %(year)s %(form)s of %(city)s is not submitted")
        % {**_subjects(n), "days": n.extra.get("days", "")}
    ),
    NotificationKind.EVIDENCE_REQUESTED: lambda n: (
        _("Evidence requested on “%(field)s” of the %(year)s %(form)s of %(city)s, answer by %(due)s")
        % {**_subjects(n), "field": evidence_field(n), "due": n.extra.get("due", "")}
    ),
    NotificationKind.EVIDENCE_ANSWERED: lambda n: (
        _("%(city)s answered the evidence request on “%(field)s” (%(year)s)")
        % {**_subjects(n), "field": evidence_field(n)}
    ),
    NotificationKind.EVIDENCE_ACCEPTED: lambda n: (
        _("The evidence on “%(field)s” of %(city)s was accepted (%(year)s)")
        % {**_subjects(n), "field": evidence_field(n)}
    ),
    NotificationKind.EVIDENCE_REJECTED: lambda n: (
        _("The evidence on “%(field)s” of %(city)s was not accepted: please answer again (%(year)s)")
        % {**_subjects(n), "field": evidence_field(n)}
    ),
    NotificationKind.EVIDENCE_WITHDRAWN: lambda n: (
        _("The evidence request on “%(field)s” of %(city)s was withdrawn (%(year)s)")
        % {**_subjects(n), "field": evidence_field(n)}
    ),
    NotificationKind.EVIDENCE_OVERDUE: lambda n: (
        _("The evidence on “%(field)s” of the %(year)s %(form)s of %(city)s was due on %(due)s: please answer now")
        % {**_subjects(n), "field": evidence_field(n), "due": n.extra.get("due", "")}
    ),
    NotificationKind.EVIDENCE_UNANSWERED: lambda n: (
        _("%(city)s has not answered the evidence request on “%(field)s”, due on %(due)s (%(year)s)")
        % {**_subjects(n), "field": evidence_field(n), "due": n.extra.get("due", "")}
    ),
    NotificationKind.REOPENED: lambda n: (
        _("A sample check found problems in the %(year)s %(form)s of %(city)s: it is back with the bureau")
        % _subjects(n)
    ),
}


def evidence_field(notification: Notification) -> str:
    """The field an evidence notification is about, named in the reader's language (and a case by its
    title when the request was made); a notification made before the key was kept names it as it
    was written then."""
    key = notification.extra.get("field_key")
    if not key:
        return notification.extra.get("field", "")
    title = notification.extra.get("case_title")
    case_id = int_param(key[5:].partition(".")[0]) if key.startswith("case:") else None
    return field_label(key, {case_id: title} if title else None)


def form_noun(kind: str) -> str:
    """What the form is called in a message: a Gigabit City's annual report, or the survey form of an
    evaluation."""
    return str(_("annual report") if kind == FormKind.ANNUAL_REPORT else _("survey form"))


def _subjects(notification: Notification) -> dict[str, object]:
    submission = notification.submission
    return {
        "city": notification.city.name,
        "year": notification.round.year,
        "form": form_noun(submission.kind if submission is not None else notification.extra.get("kind", "")),
    }


def notification_title(notification: Notification) -> str:
    return TITLES[NotificationKind(notification.kind)](notification)


def notification_url(notification: Notification) -> str:
    if notification.submission_id is None:
        return reverse("submissions:home")
    return reverse("submissions:detail", args=[notification.submission_id])


def city_officials(city_id: str) -> list[User]:
    return list(User.objects.filter(role=Role.CITY, city_id=city_id, is_active=True))


def bureau_reviewers(province_id: str) -> list[User]:
    return list(User.objects.filter(role=Role.BUREAU, province_id=province_id, is_active=True))


def ministry_staff() -> list[User]:
    return list(User.objects.filter(role=Role.MINISTRY, is_active=True))


def notify(
    recipients: Iterable[User],
    *,
    kind: str,
    city_id: str,
    round_id: int,
    submission: Submission | None = None,
    actor: User | None = None,
    text: str = "",
    extra: dict | None = None,
) -> list[Notification]:
    """Create one notification per recipient (never to the actor), and e-mail them after commit."""
    seen: set[int] = set()
    rows = []
    for user in recipients:
        if user.pk in seen or (actor is not None and user.pk == actor.pk):
            continue
        seen.add(user.pk)
        rows.append(
            Notification(
                recipient=user,
                kind=kind,
                submission=submission,
                city_id=city_id,
                round_id=round_id,
                actor=actor,
                text=text,
                extra=extra or {},
            )
        )
    created = Notification.objects.bulk_create(rows)
    ids = [n.pk for n in created if n.recipient.email]
    if ids:
        from .tasks import send_notification_emails

        transaction.on_commit(lambda: _enqueue_emails(send_notification_emails, ids), robust=True)
    return created


def _enqueue_emails(task, ids: list[int]) -> None:
    try:
        task.apply_async((ids,), retry=False)
    except Exception:  # e-mail is a courtesy; the bell already has the notification
        import logging

        logging.getLogger(__name__).warning("could not enqueue notification e-mails %s", ids, exc_info=True)


def notify_transition(submission: Submission, event: SubmissionEvent) -> None:
    """Tell the people who need to act, or who wait for the outcome, about a workflow step."""
    city, province = submission.city_id, submission.city.province_id
    action = Action(event.action)
    if action == Action.SUBMIT:
        kind = NotificationKind.RESUBMITTED if event.from_status == Status.RETURNED else NotificationKind.SUBMITTED
        recipients = bureau_reviewers(province)
    elif action == Action.RETURN:
        kind, recipients = NotificationKind.RETURNED, city_officials(city)
    elif action == Action.RECOMMEND:
        kind, recipients = NotificationKind.RECOMMENDED, ministry_staff() + city_officials(city)
    elif action == Action.APPROVE:
        kind, recipients = NotificationKind.APPROVED, city_officials(city) + bureau_reviewers(province)
    elif action == Action.REJECT:
        kind, recipients = NotificationKind.REJECTED, city_officials(city) + bureau_reviewers(province)
    elif action == Action.CONFIRM:
        kind, recipients = NotificationKind.CONFIRMED, city_officials(city) + bureau_reviewers(province)
    elif action == Action.NOT_CONFIRM:
        kind, recipients = NotificationKind.NOT_CONFIRMED, city_officials(city) + bureau_reviewers(province)
    elif action == Action.REOPEN:
        kind, recipients = NotificationKind.REOPENED, bureau_reviewers(province) + city_officials(city)
    else:
        kind, recipients = NotificationKind.SENT_BACK, bureau_reviewers(province)
    notify(
        recipients,
        kind=kind,
        city_id=city,
        round_id=submission.round_id,
        submission=submission,
        actor=event.actor,
        text=event.reason,
        extra={"improvement_due": event.details["improvement_due"]} if action == Action.NOT_CONFIRM else None,
    )


def notify_extension(extension: Extension) -> None:
    submission = Submission.objects.filter(city_id=extension.city_id, round_id=extension.round_id).first()
    notify(
        city_officials(extension.city_id),
        kind=NotificationKind.EXTENSION,
        city_id=extension.city_id,
        round_id=extension.round_id,
        submission=submission,
        actor=extension.granted_by,
        text=extension.reason,
        extra={"until": extension.until.isoformat()},
    )
