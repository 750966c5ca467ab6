"""Forms of the reviews pages."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from gigacity.i18n import pick
from indicators.catalogue import INDICATORS
from indicators.models import ReferenceValue

from .models import ExportKind


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
                initial=ref.value if ref else None,
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
