"""Admin of rounds (thresholds change through the same service as the ministry's page, so history is
kept and the round is re-scored), submissions (read-only: they change through the workflow only) and
notifications."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gigacity.errors import ApplicationError
from gigacity.i18n import pick
from indicators.catalogue import CATALOGUE_BY_CODE
from indicators.models import ROUND_SETTINGS, Round, RoundStatus, Threshold
from indicators.rules import indicator_value_problem
from submissions.models import Case, Submission, SubmissionEvent

from .models import ExportJob, Notification
from .services import round_set_status, thresholds_update


class ThresholdInlineForm(forms.ModelForm):
    """A threshold no city could report is refused at its row, before anything is saved."""

    def clean_value(self):
        value = self.cleaned_data["value"]
        spec = CATALOGUE_BY_CODE.get(self.instance.indicator_id)
        if value is not None and spec is not None and (problem := indicator_value_problem(spec, value)):
            raise ValidationError(pick(*problem))
        return value


class ThresholdInline(admin.TabularInline):
    model = Threshold
    form = ThresholdInlineForm
    extra = 0
    can_delete = False
    fields = ("indicator", "value")
    readonly_fields = ("indicator",)

    def has_add_permission(self, request, obj=None):
        return False


class RoundAdminForm(forms.ModelForm):
    threshold_reason = forms.CharField(
        label=gettext_lazy("Reason for changing thresholds"),
        required=False,
        max_length=500,
        help_text=gettext_lazy("Kept in the threshold history. Changing a threshold re-scores the round."),
    )

    class Meta:
        model = Round
        # The status changes only through the actions below (open, close, publish), which follow the
        # allowed steps: a published round cannot be reopened by editing a field.
        fields = ("year", *ROUND_SETTINGS)


@admin.register(Round)
class RoundAdmin(admin.ModelAdmin):
    form = RoundAdminForm
    list_display = (
        "year",
        "status",
        "opens_on",
        "deadline",
        "data_as_of",
        "published_on",
        "threshold_version",
        "thresholds_provisional",
    )
    list_filter = ("status",)
    readonly_fields = ("status", "published_on", "threshold_version")
    inlines = [ThresholdInline]
    actions = ["open_rounds", "close_rounds", "publish_rounds"]

    def _set_status(self, request, queryset, status: str) -> None:
        for round_ in queryset:
            try:
                round_set_status(round_=round_, status=status, actor=request.user)
            except ApplicationError as exc:
                self.message_user(request, f"{round_.year}: {exc.message}", level=messages.ERROR)
            else:
                self.message_user(
                    request,
                    _("%(year)s round: %(status)s") % {"year": round_.year, "status": RoundStatus(status).label},
                )

    @admin.action(description=gettext_lazy("Open the selected rounds"))
    def open_rounds(self, request, queryset):
        self._set_status(request, queryset, RoundStatus.OPEN)

    @admin.action(description=gettext_lazy("Close the selected rounds"))
    def close_rounds(self, request, queryset):
        self._set_status(request, queryset, RoundStatus.CLOSED)

    @admin.action(description=gettext_lazy("Publish the results of the selected rounds"))
    def publish_rounds(self, request, queryset):
        self._set_status(request, queryset, RoundStatus.PUBLISHED)

    def save_formset(self, request, form, formset, change):
        if formset.model is not Threshold:
            return super().save_formset(request, form, formset, change)
        # Saved by the service, not by the formset; the admin's change message still reads these.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        values = {
            f.instance.indicator_id: f.cleaned_data["value"]
            for f in formset.forms
            if f.has_changed() and f.cleaned_data
        }
        if values:
            try:
                thresholds_update(
                    round_=form.instance,
                    values=values,
                    actor=request.user,
                    reason=form.cleaned_data.get("threshold_reason") or _("Changed in the admin"),
                )
            except ApplicationError as exc:
                self.message_user(request, exc.message, level=messages.ERROR)
            except ValidationError as exc:
                self.message_user(request, " ".join(exc.messages), level=messages.ERROR)
        return None


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class CaseInline(ReadOnlyInline):
    model = Case
    fields = ("position", "title", "domain", "is_excellent")


class EventInline(ReadOnlyInline):
    model = SubmissionEvent
    fields = ("created_at", "action", "from_status", "to_status", "actor", "actor_role", "reason")


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin):
    list_display = (
        "city",
        "round",
        "status",
        "version",
        "scoring_state",
        "meets_all",
        "flag_severity",
        "updated_at",
    )
    list_filter = ("round", "status", "scoring_state", "city__province__region", "city__province")
    search_fields = ("city__name", "city__code", "contact_name")
    list_select_related = ("city", "round")
    inlines = [CaseInline, EventInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("created_at", "recipient", "kind", "city", "round", "read_at", "emailed_at")
    list_filter = ("kind", "round")
    search_fields = ("recipient__username", "city__name")


@admin.register(ExportJob)
class ExportJobAdmin(admin.ModelAdmin):
    """Read-only: administrators see which exports failed and why; the files are for their requesters."""

    list_display = ("created_at", "requested_by", "kind", "round", "province", "state", "progress", "rows", "error")
    list_filter = ("state", "kind", "round")
    list_select_related = ("requested_by", "round", "province")
    exclude = ("file",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
