"""Admin of the indicator catalogue, designations, published figures and reference values. Rounds and
thresholds are in reviews/admin.py because changing a threshold re-scores submissions."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import (
    Designation,
    Indicator,
    Operator,
    PublishedFigure,
    ReferenceValue,
    Round,
    ThresholdChange,
    ToleranceChange,
)
from .published import published_load


@admin.register(Indicator)
class IndicatorAdmin(admin.ModelAdmin):
    list_display = ("code", "name_zh", "name_en", "unit_zh", "kind", "category", "order")
    list_filter = ("kind", "category")
    search_fields = ("code", "name_zh", "name_en")
    readonly_fields = ("code", "kind", "inputs", "decimals")


@admin.register(Operator)
class OperatorAdmin(admin.ModelAdmin):
    list_display = ("code", "name_zh", "name_en", "order")
    readonly_fields = ("code",)


@admin.register(ToleranceChange)
class ToleranceChangeAdmin(admin.ModelAdmin):
    """The history of the tolerance against the operators' figures: read only (it is the record)."""

    list_display = ("round", "old_value", "new_value", "changed_by", "changed_at", "reason")
    list_filter = ("round",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Designation)
class DesignationAdmin(admin.ModelAdmin):
    list_display = ("city", "round", "source", "designated_on")
    list_filter = ("round", "source", "city__province__region", "city__province")
    search_fields = ("city__name", "city__code")
    autocomplete_fields = ("city",)
    list_select_related = ("city", "round")


@admin.register(ReferenceValue)
class ReferenceValueAdmin(admin.ModelAdmin):
    list_display = ("round", "indicator", "value", "source")
    list_filter = ("round", "indicator")


@admin.register(ThresholdChange)
class ThresholdChangeAdmin(admin.ModelAdmin):
    list_display = (
        "round",
        "indicator",
        "old_value",
        "new_value",
        "version",
        "changed_by",
        "changed_at",
        "reason",
    )
    list_filter = ("round", "indicator")
    search_fields = ("reason",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class PublishedTableForm(forms.Form):
    round = forms.ModelChoiceField(
        label=gettext_lazy("Round"), queryset=Round.objects.order_by("-year"), to_field_name="year"
    )
    file = forms.FileField(
        label=gettext_lazy("Published table (.csv or .xlsx)"),
        help_text=gettext_lazy(
            "MIIT's columns: 省份, 千兆城市, 每万人拥有5G基站数, 5G用户占比, 10G-PON端口占比, 500M及以上用户占比, 备注 "
            "(the batch, e.g. 2021年度)."
        ),
    )
    dry_run = forms.BooleanField(label=gettext_lazy("Only check, load nothing"), required=False)


@admin.register(PublishedFigure)
class PublishedFigureAdmin(admin.ModelAdmin):
    """The figures MIIT published for a round, loaded from its table (read-only here: a corrected table
    is loaded again, whole)."""

    list_display = ("round", "city", "batch", "value_bs5g_per_10k", "value_users_5g_share", "value_pon_10g_share")
    list_filter = ("round", "batch", "city__province")
    search_fields = ("city__name", "city__code")
    list_select_related = ("round", "city")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_urls(self):
        return [
            path("upload/", self.admin_site.admin_view(self.upload_view), name="indicators_publishedfigure_upload"),
            *super().get_urls(),
        ]

    def upload_view(self, request):
        """Every row of the table or none: a wrong row loads nothing and is named by its row number."""
        form = PublishedTableForm(request.POST or None, request.FILES or None)
        errors: list[str] = []
        if request.method == "POST" and form.is_valid():
            upload, round_ = form.cleaned_data["file"], form.cleaned_data["round"]
            try:
                result = published_load(
                    round_=round_,
                    upload=upload,
                    name=upload.name,
                    actor=request.user,
                    dry_run=form.cleaned_data["dry_run"],
                )
            except ValidationError as exc:
                errors = exc.messages
            else:
                if form.cleaned_data["dry_run"]:
                    messages.info(request, _("Checked, nothing loaded: %(summary)s") % {"summary": result.summary()})
                else:
                    messages.success(
                        request,
                        _("%(year)s published figures loaded: %(summary)s")
                        % {"year": round_.year, "summary": result.summary()},
                    )
                    return redirect("admin:indicators_publishedfigure_changelist")
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "errors": errors,
            "title": _("Load a published table"),
            "opts": self.model._meta,
        }
        return render(request, "admin/indicators/publishedfigure/upload.html", context, status=400 if errors else 200)
