"""Template helpers: indicator values in MIIT's units, status badges, bilingual catalogue names."""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from gigacity.i18n import pick
from indicators.catalogue import INDICATORS_BY_CODE, INPUTS_BY_NAME, IndicatorSpec

register = template.Library()

STATUS_LABELS = {
    "not_started": lambda: _("Not started"),
}


@register.filter
def spec_name(spec) -> str:
    """The name of an indicator or input spec (or its code) in the active language."""
    if isinstance(spec, str):
        spec = INDICATORS_BY_CODE.get(spec) or INPUTS_BY_NAME.get(spec)
        if spec is None:
            return ""
    if hasattr(spec, "name_zh"):
        return pick(spec.name_zh, spec.name_en)
    return pick(spec.label_zh, spec.label_en)


@register.filter
def spec_unit(spec) -> str:
    if isinstance(spec, str):
        spec = INDICATORS_BY_CODE.get(spec) or INPUTS_BY_NAME[spec]
    return pick(spec.unit_zh, spec.unit_en)


@register.filter
def indicator(value, spec: IndicatorSpec | str) -> str:
    """A value in MIIT's published form: one decimal for rates and per-10k, whole numbers for counts,
    with thousands separators; "—" when it cannot be computed."""
    if isinstance(spec, str):
        spec = INDICATORS_BY_CODE[spec]
    if value in (None, ""):
        return "—"
    number = f"{Decimal(value):,.{spec.decimals}f}"
    unit = pick(spec.unit_zh, spec.unit_en)
    return f"{number}%" if unit == "%" else f"{number} {unit}"


@register.filter
def count(value) -> str:
    if value in (None, ""):
        return "—"
    return f"{int(value):,}"


@register.simple_tag
def status_badge(status: str, label: str | None = None, kind: str = ""):
    """A form's state; with its `kind`, in the words of that kind (an annual report is confirmed,
    not approved)."""
    if label is None:
        from submissions.models import status_label

        label = STATUS_LABELS[status]() if status in STATUS_LABELS else status_label(status, kind or "evaluation")
    return format_html('<span class="badge badge-{}">{}</span>', status, label)


@register.simple_tag
def kind_badge(kind: str):
    """Which kind a form is: an evaluation (评估申报) or a Gigabit City's annual report (年度复核)."""
    from submissions.models import FormKind

    try:
        label = FormKind(kind).label
    except ValueError:
        return ""
    return format_html('<span class="badge badge-kind badge-{}">{}</span>', kind.replace("_", "-"), label)


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if mapping else None


@register.simple_tag(takes_context=True)
def choice_options(context, choices, selected=None):
    """The `<option>`s of `choices` ((value, label) pairs), `selected` marked: the same as a template
    loop over them, the values and labels escaped once for all the selects of a template that
    repeat the same list."""
    key = ("choice_options", id(choices))
    escaped = context.render_context.get(key)
    if escaped is None:
        escaped = context.render_context[key] = [
            (value, conditional_escape(value), conditional_escape(label)) for value, label in choices
        ]
    return mark_safe(
        "".join(
            f'<option value="{value}"{" selected" if raw == selected else ""}>{label}</option>'
            for raw, value, label in escaped
        )
    )
