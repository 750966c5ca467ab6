"""Forms of the reviewers' pages. They only check shape; the services decide what is allowed."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django import forms
from django.core.validators import MaxValueValidator
from django.utils.translation import gettext_lazy as _

from gigacity.i18n import pick
from indicators.catalogue import CATALOGUE, INDICATORS
from indicators.models import ROUND_SETTINGS, ReferenceValue, Round
from indicators.rules import indicator_value_problem
from submissions.operators import parse_tolerance

from .models import ExportKind

MAX_COMMENTS = 30


class ExtensionForm(forms.Form):
    until = forms.DateField(
        label=_("Extended until"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    reason = forms.CharField(label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))


def percent_field(label, help_text, max_value: int) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        help_text=help_text,
        min_value=Decimal(0),
        max_value=Decimal(max_value),
        max_digits=5,
        decimal_places=1,
        widget=forms.NumberInput(attrs={"step": "0.1", "inputmode": "decimal"}),
    )


# Flag settings that a person reads as percentages (3 %, 50 %) but that the round stores, and the
# scoring rules use, as fractions (0.030, 0.5): the form converts both ways at its boundary, so the
# stored values keep their meaning. (A fraction of 3 decimal places is a percentage of 1.)
PERCENT_SETTINGS = ("borderline_margin", "jump_ratio", "population_change_limit")


class RoundForm(forms.ModelForm):
    FLAG_SETTINGS = (*PERCENT_SETTINGS, "outlier_z")  # laid out as a number with its unit

    borderline_margin = percent_field(
        _("Borderline margin"),
        _("A value that passes its threshold by less than this percentage of the threshold is flagged as borderline."),
        100,
    )
    jump_ratio = percent_field(
        _("Jump against the previous round"),
        _("A value that changed by more than this percentage against the city's previous round is flagged."),
        1000,
    )
    population_change_limit = percent_field(
        _("Population change limit"),
        _("A resident population that changed by more than this percentage against the previous round is flagged."),
        1000,
    )

    class Meta:
        model = Round
        fields = ROUND_SETTINGS
        widgets = {
            name: forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
            for name in ("opens_on", "deadline", "data_as_of")
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in PERCENT_SETTINGS:
            self.initial[name] = plain(getattr(self.instance, name) * 100)
            self.fields[name].unit = "%"
        self.initial["outlier_z"] = plain(self.instance.outlier_z)
        self.fields["outlier_z"].unit = ""

    def _fraction(self, name: str) -> Decimal | None:
        value = self.cleaned_data.get(name)
        return None if value is None else value / 100

    def clean_borderline_margin(self):
        return self._fraction("borderline_margin")

    def clean_jump_ratio(self):
        return self._fraction("jump_ratio")

    def clean_population_change_limit(self):
        return self._fraction("population_change_limit")

    def clean(self):
        cleaned = super().clean()
        opens, deadline = cleaned.get("opens_on"), cleaned.get("deadline")
        if opens and deadline and deadline < opens:
            self.add_error("deadline", _("The deadline must not be before the opening date."))
        return cleaned


def plain(value: Decimal | None) -> Decimal | None:
    """A stored value as an official would type it: 95, 15.7, not 95.00 or 15.70."""
    if value is None:
        return None
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value.normalize()


class ThresholdsForm(forms.Form):
    """One field per indicator (and the case requirement), plus the reason kept in the history."""

    # Needed only when a threshold changes: saving an unchanged form says so and does nothing.
    reason = forms.CharField(
        label=_("Reason for the change"),
        max_length=500,
        required=False,
        help_text=_("Kept in the history; every submission of the round is scored again."),
    )

    def __init__(self, *args, round_: Round, preview: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        # A preview (what-if) saves nothing, so it needs no reason and takes blanks as "unchanged".
        self.preview = preview
        self.current = round_.threshold_map()
        self.changed_codes: list[str] = []
        for spec in CATALOGUE:
            initial = plain(self.current.get(spec.code))
            self.fields[spec.code] = forms.DecimalField(
                label=pick(spec.name_zh, spec.name_en),
                min_value=0,
                max_digits=14,
                decimal_places=2,
                initial=initial,
                required=not preview,
                help_text=pick(spec.unit_zh, spec.unit_en),
                # The page asks before rescoring only when a value differs from this one.
                widget=forms.NumberInput(
                    attrs={"step": "any", "inputmode": "decimal", "data-initial": "" if initial is None else initial}
                ),
            )

    def clean(self):
        cleaned = super().clean()
        for spec in CATALOGUE:
            value = cleaned.get(spec.code)
            if value is not None and (problem := indicator_value_problem(spec, value)):
                self.add_error(spec.code, pick(*problem))
        self.changed_codes = [
            spec.code
            for spec in CATALOGUE
            if cleaned.get(spec.code) is not None and cleaned[spec.code] != self.current.get(spec.code)
        ]
        if self.changed_codes and not self.preview and not cleaned.get("reason", "").strip():
            self.add_error("reason", _("Please give the reason for the change; it is kept in the history."))
        return cleaned

    def values(self) -> dict:
        return {spec.code: self.cleaned_data[spec.code] for spec in CATALOGUE}

    def candidate(self) -> dict:
        """The typed values of a preview (blanks keep the current value)."""
        return {
            spec.code: self.cleaned_data[spec.code]
            for spec in CATALOGUE
            if self.cleaned_data.get(spec.code) is not None
        }


class ToleranceForm(forms.Form):
    """The round's tolerance against the operators' figures (a percentage), the reason kept in its
    history, and the value the page showed (a change made meanwhile by somebody else is refused
    rather than overwritten)."""

    tolerance = forms.CharField(
        label=_("Tolerance against the operators' figures"),
        max_length=20,
        error_messages={"required": _("Enter a percentage between 0 and 100.")},
        help_text=_("A city's count that differs from the sum of the operators' counts by more than this is flagged."),
        widget=forms.NumberInput(attrs={"step": "0.01", "min": "0", "max": "100", "inputmode": "decimal"}),
    )
    reason = forms.CharField(
        label=_("Reason for the change"),
        max_length=500,
        required=False,
        help_text=_("Kept in the history; every submission of the round is scored again."),
    )
    tolerance_was = forms.DecimalField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, round_: Round, **kwargs):
        # Ids of its own: the thresholds' form on the same page has a "reason" field too.
        kwargs.setdefault("auto_id", "tolerance_%s")
        super().__init__(*args, **kwargs)
        self.current = round_.operator_tolerance
        self.fields["tolerance"].unit = "%"
        self.initial.update(tolerance=plain(self.current), tolerance_was=self.current)
        self.changed = False

    def clean_tolerance(self):
        value, problem = parse_tolerance(self.cleaned_data["tolerance"])
        if problem:
            raise forms.ValidationError(problem)
        return value

    def clean(self):
        cleaned = super().clean()
        value = cleaned.get("tolerance")
        self.changed = value is not None and value != (cleaned.get("tolerance_was") or self.current)
        if self.changed and not cleaned.get("reason", "").strip():
            self.add_error("reason", _("Please give the reason for the change; it is kept in the history."))
        return cleaned


class VersionCompareForm(forms.Form):
    """Two saved threshold versions of a round to compare (what-if between saved versions)."""

    base_version = forms.IntegerField(label=_("From version"), min_value=1)
    version = forms.IntegerField(label=_("To version"), min_value=1)

    def __init__(self, *args, round_: Round, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("base_version", "version"):
            self.fields[name].max_value = round_.threshold_version
            self.fields[name].validators.append(MaxValueValidator(round_.threshold_version))
            self.fields[name].widget.attrs["max"] = round_.threshold_version


def parse_comments(post) -> dict[str, str]:
    """Per-field comments of a return form: pairs comment_field_N / comment_text_N."""
    comments: dict[str, str] = {}
    for index in range(MAX_COMMENTS):
        field, text = post.get(f"comment_field_{index}", ""), post.get(f"comment_text_{index}", "").strip()
        if field and text:
            comments[field] = f"{comments[field]}\n{text}" if field in comments else text
    return comments


def default_extension_date(round_: Round) -> datetime.date | None:
    return round_.deadline + datetime.timedelta(days=7) if round_.deadline else None


class ReferenceValuesForm(forms.Form):
    """The national reference value of each indicator for one round, with where it comes from.
    An empty value removes it (the dashboard then shows none)."""

    def __init__(self, *args, references: list[ReferenceValue], **kwargs):
        super().__init__(*args, **kwargs)
        current = {ref.indicator_id: ref for ref in references}
        self.rows = []
        for spec in INDICATORS:
            ref = current.get(spec.code)
            self.fields[f"value_{spec.code}"] = forms.DecimalField(
                label=pick(spec.name_zh, spec.name_en),
                required=False,
                min_value=Decimal(0),
                max_digits=14,
                decimal_places=2,
                initial=plain(ref.value) if ref else None,
                widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
            )
            self.fields[f"source_{spec.code}"] = forms.CharField(
                label=_("Source"),
                required=False,
                max_length=200,
                initial=ref.source if ref else "",
            )
            self.rows.append((spec, self[f"value_{spec.code}"], self[f"source_{spec.code}"]))

    def values(self) -> dict[str, tuple[Decimal | None, str]]:
        return {
            spec.code: (self.cleaned_data[f"value_{spec.code}"], self.cleaned_data[f"source_{spec.code}"].strip())
            for spec in INDICATORS
        }


class ExportRequestForm(forms.Form):
    kind = forms.ChoiceField(label=_("Export"), choices=ExportKind.choices)
    round = forms.IntegerField(label=_("Round"), min_value=1900, max_value=9999)
    province = forms.RegexField(regex=r"^\d{6}$", required=False)
    cumulative = forms.BooleanField(label=_("All Gigabit Cities so far"), required=False)
    # The case collection as a document: every case of the recommended forms, the excellent ones first.
    all_cases = forms.BooleanField(required=False)
