"""Reading the audit trail: the security officer's filters, shared by the page and the export."""

from __future__ import annotations

import datetime

from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gigacity.models import AuditEvent, AuditKind

# The kinds in the order and groups a security officer thinks of them.
KIND_GROUPS = (
    (
        _("Signing in"),
        (AuditKind.LOGIN, AuditKind.LOGIN_FAILED, AuditKind.LOCKOUT, AuditKind.LOGOUT, AuditKind.SESSION_EXPIRED),
    ),
    (
        _("Passwords and tokens"),
        (
            AuditKind.PASSWORD_CHANGED,
            AuditKind.PASSWORD_RESET,
            AuditKind.PASSWORD_RESET_REQUESTED,
            AuditKind.PASSWORD_SET,
            AuditKind.TOKEN_CREATED,
            AuditKind.TOKEN_REVOKED,
        ),
    ),
    (
        _("Accounts"),
        (
            AuditKind.ACCOUNT_CREATED,
            AuditKind.ACCOUNT_CHANGED,
            AuditKind.ACCOUNT_DELETED,
            AuditKind.PERMISSIONS_CHANGED,
        ),
    ),
    (_("Administration"), (AuditKind.ADMIN_ADDED, AuditKind.ADMIN_CHANGED, AuditKind.ADMIN_DELETED)),
    (
        _("Rounds and thresholds"),
        (AuditKind.THRESHOLDS_CHANGED, AuditKind.ROUND_STATUS_CHANGED, AuditKind.ROUND_CHANGED),
    ),
    (_("Data leaving the system"), (AuditKind.EXPORT,)),
    (_("System"), (AuditKind.BACKUP_MADE, AuditKind.RESTORED, AuditKind.AUDIT_PRUNED)),
)


def _kind_choices():
    return [("", _("All"))] + [(str(group), [(k.value, k.label) for k in kinds]) for group, kinds in KIND_GROUPS]


class AuditFilterForm(forms.Form):
    kind = forms.ChoiceField(label=_("Event"), required=False, choices=_kind_choices)
    who = forms.CharField(label=_("Username"), required=False, max_length=150)
    address = forms.CharField(label=_("Address"), required=False, max_length=45)
    target = forms.CharField(label=_("Object"), required=False, max_length=200)
    since = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            raise forms.ValidationError(_("The first day comes after the last."))
        return data


def audit_events(*, user, filters: dict) -> QuerySet[AuditEvent]:
    """The records the user may read (all of them for the security officer, none for anybody else),
    narrowed by the filters of `AuditFilterForm`, newest first."""
    events = AuditEvent.objects.visible_to(user)
    if kind := filters.get("kind"):
        events = events.filter(kind=kind)
    if who := (filters.get("who") or "").strip():
        events = events.filter(username__icontains=who)
    if address := (filters.get("address") or "").strip():
        events = events.filter(ip_address__startswith=address)
    if target := (filters.get("target") or "").strip():
        events = events.filter(Q(target_label__icontains=target) | Q(target_id=target))
    if since := filters.get("since"):
        events = events.filter(at__gte=_start_of(since))
    if until := filters.get("until"):
        events = events.filter(at__lt=_start_of(until + datetime.timedelta(days=1)))
    return events.order_by("-at", "-pk")


def _start_of(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
