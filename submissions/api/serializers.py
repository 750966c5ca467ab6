"""The submission as the API reads it, and the small bodies of its own operations. Writes of the
form's data go through `parsing.parse_submission_body`; the workflow actions' bodies are declared in
`reviews.actions`."""

from __future__ import annotations

from typing import Any

from django import forms
from django.urls import reverse
from django.utils.translation import gettext as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from indicators.catalogue import INDICATORS_BY_CODE, INPUTS, KEY_SITE_CATEGORIES, key_site_field
from indicators.rules import quantize

from ..models import Attachment, Case, FormKind, Status, Submission
from ..public import CONTACT, PRACTICES
from ..snapshots import CASE_FIELDS


class AttachmentSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="original_name")
    url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = ["id", "name", "kind", "size", "content_type", "case", "uploaded_at", "url"]

    def get_url(self, attachment) -> str:
        return reverse("submissions:attachment", args=[attachment.pk])


class CaseSerializer(serializers.ModelSerializer):
    attachments = AttachmentSerializer(many=True, read_only=True)
    carried_from_year = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="Last year's case, carried over and not changed since"
    )

    class Meta:
        model = Case
        fields = ["id", *CASE_FIELDS, "is_excellent", "carried_from_year", "attachments"]


class DecisionSerializer(serializers.Serializer):
    shortfall = serializers.ListField(child=serializers.CharField(), help_text="Indicator codes")
    improvement_due = serializers.DateField(allow_null=True)


class SubmissionSerializer(serializers.ModelSerializer):
    """A submission as the API reads it (writes go through `parse_submission_body`)."""

    city = serializers.CharField(source="city_id")
    city_name = serializers.CharField(source="city.name")
    province = serializers.CharField(source="city.province_id")
    round = serializers.IntegerField(source="round.year")
    kind = serializers.ChoiceField(
        choices=FormKind.choices,
        read_only=True,
        help_text="evaluation (评估申报: a city not yet named) or annual_report (年度复核: a Gigabit City's "
        "report in a later round)",
    )
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    status_label = serializers.CharField(read_only=True, help_text="The state in the words of the form's kind")
    decision = serializers.SerializerMethodField(
        help_text="An annual report not confirmed: the indicators that fell short and the date for improvement"
    )
    carried_over_from = serializers.SerializerMethodField(
        help_text="The year of the form this one started from (contact, practices and cases carried over)"
    )
    contact = serializers.SerializerMethodField()
    inputs = serializers.SerializerMethodField()
    key_sites = serializers.SerializerMethodField()
    practices = serializers.SerializerMethodField()
    cases = CaseSerializer(many=True, read_only=True)
    indicators = serializers.SerializerMethodField()
    scoring = serializers.SerializerMethodField()
    editable = serializers.SerializerMethodField(help_text="Whether the caller may change the form now")
    not_editable_reason = serializers.SerializerMethodField(
        help_text="Why the caller may not change the form now (null when they may)"
    )
    updated_by = serializers.StringRelatedField()

    class Meta:
        model = Submission
        fields = [
            "id",
            "city",
            "city_name",
            "province",
            "round",
            "kind",
            "kind_label",
            "status",
            "status_label",
            "decision",
            "carried_over_from",
            "version",
            "data_as_of",
            "contact",
            "inputs",
            "key_sites",
            "practices",
            "cases",
            "indicators",
            "scoring",
            "editable",
            "not_editable_reason",
            "submitted_at",
            "updated_at",
            "updated_by",
        ]

    @extend_schema_field(DecisionSerializer(allow_null=True))
    def get_decision(self, s) -> dict[str, Any] | None:
        if not s.shortfall and s.improvement_due is None:
            return None
        return DecisionSerializer({"shortfall": s.shortfall, "improvement_due": s.improvement_due}).data

    def get_carried_over_from(self, s) -> int | None:
        return s.carried_from.round.year if s.carried_from_id and s.carried_from else None

    def get_contact(self, s) -> dict[str, str]:
        return {public: getattr(s, model) for public, model in CONTACT.items()}

    def get_inputs(self, s) -> dict[str, int | None]:
        return s.inputs

    def get_key_sites(self, s) -> dict[str, dict[str, int | None]]:
        return {
            c.key: {part: getattr(s, key_site_field(c.key, part)) for part in ("total", "covered")}
            for c in KEY_SITE_CATEGORIES
        }

    def get_practices(self, s) -> dict[str, str]:
        return {public: getattr(s, model) for public, model in PRACTICES.items()}

    def get_indicators(self, s) -> dict[str, str | None]:
        # At the published precision (one decimal for rates and per-10k, whole numbers for counts).
        return {
            code: None if value is None else str(quantize(value, INDICATORS_BY_CODE[code].decimals))
            for code, value in s.indicator_values.items()
        }

    def _refusal(self, s):
        return s.edit_refusal(self.context["request"].user)

    def get_editable(self, s) -> bool:
        return self._refusal(s) is None

    def get_not_editable_reason(self, s) -> str | None:
        refusal = self._refusal(s)
        return None if refusal is None else str(refusal.message)

    def get_scoring(self, s) -> dict[str, Any]:
        return {
            "state": s.scoring_state,
            "meets_all": s.meets_all,
            "missed": s.missed_count,
            "flag_severity": s.flag_severity,
            "flags": s.flags_count,
        }


# ------------------------------------------------------------------------------------------------
# Input


@extend_schema_field({"type": "integer", "minimum": 1900, "maximum": 9999})
class YearFilter(filters.NumberFilter):
    """A round's year: a whole number 1900–9999 (`?round=0.5` is a 400, not an empty list)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        super().__init__(*args, min_value=1900, max_value=9999, **kwargs)


class CodeField(forms.RegexField):
    def __init__(self, *args, **kwargs):
        super().__init__(r"^\d{6}$", *args, **kwargs)


@extend_schema_field({"type": "string", "pattern": r"^\d{6}$"})
class CodeFilter(filters.CharFilter):
    """A 6-digit administrative code; anything else is a 400 (not an empty list)."""

    field_class = CodeField


class SubmissionFilter(filters.FilterSet):
    round = YearFilter(field_name="round__year")
    city = CodeFilter(field_name="city_id")
    province = CodeFilter(field_name="city__province_id")
    status = filters.MultipleChoiceFilter(choices=Status.choices)

    class Meta:
        model = Submission
        fields = ["round", "city", "province", "status"]

    def is_valid(self):
        # django-filter takes `?city=` for no filter at all; an empty code or year is no code or year.
        valid = super().is_valid()
        for name in ("round", "city", "province"):
            if name in self.data and not self.data.get(name):
                self.form.add_error(name, _("This field may not be blank."))
                valid = False
        return valid


# The sections a write sends, for the schema (parsing.parse_submission_body reads them): each names
# its keys, so an unknown one is an error there and here.
class InputsWrite(serializers.Serializer):
    def get_fields(self):
        return {
            spec.name: serializers.IntegerField(
                required=False, allow_null=True, min_value=0, max_value=spec.maximum, help_text=spec.label_en
            )
            for spec in INPUTS
        }


class ContactWrite(serializers.Serializer):
    name = serializers.CharField(required=False, allow_blank=True, max_length=50)
    phone = serializers.CharField(required=False, allow_blank=True, max_length=30)
    email = serializers.EmailField(required=False, allow_blank=True)


class PracticesWrite(serializers.Serializer):
    def get_fields(self):
        return {public: serializers.CharField(required=False, allow_blank=True) for public in PRACTICES}


class KeySiteWrite(serializers.Serializer):
    total = serializers.IntegerField(required=False, allow_null=True, min_value=0)
    covered = serializers.IntegerField(required=False, allow_null=True, min_value=0)


class KeySitesWrite(serializers.Serializer):
    def get_fields(self):
        return {c.key: KeySiteWrite(required=False) for c in KEY_SITE_CATEGORIES}


SECTIONS = {
    "data_as_of": serializers.DateField(required=False),
    "contact": ContactWrite(required=False),
    "inputs": InputsWrite(required=False),
    "key_sites": KeySitesWrite(required=False),
    "practices": PracticesWrite(required=False),
    "cases": serializers.ListField(child=serializers.DictField(), required=False),
}


class CreateInput(serializers.Serializer):
    city = serializers.RegexField(r"^\d{6}$", help_text="The city's 6-digit administrative code")
    round = serializers.IntegerField(min_value=1900, max_value=9999, help_text="The round's year")
    # Optional: the form's content in the same sections as PATCH, saved with the new draft.
    data_as_of = serializers.DateField(required=False)
    contact = ContactWrite(required=False)
    inputs = InputsWrite(required=False)
    key_sites = KeySitesWrite(required=False)
    practices = PracticesWrite(required=False)
    cases = serializers.ListField(child=serializers.DictField(), required=False)
