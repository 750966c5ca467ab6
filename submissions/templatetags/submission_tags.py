"""Template helpers of the survey form."""

from django import template

from gigacity.i18n import pick
from indicators.catalogue import CATALOGUE_BY_CODE
from indicators.rules import ScoreResult
from submissions.form_html import CaseCards, NumberFields
from submissions.forms import change_display
from submissions.forms import field_label as _field_label

register = template.Library()


@register.filter
def field_label(name: str, case_titles=None) -> str:
    return _field_label(name, case_titles)


@register.simple_tag
def change_value(name: str, value, case_titles=None) -> str:
    """A value of field `name` in a diff or the history as people read it (no codes)."""
    return change_display(name, value, case_titles)


@register.filter
def missed_names(result: ScoreResult) -> str:
    """The indicators a score result misses, by name in the active language."""
    specs = [CATALOGUE_BY_CODE[r.code] for r in result.results if not r.passed]
    return pick("、", ", ").join(pick(spec.name_zh, spec.name_en) for spec in specs)


@register.simple_tag(takes_context=True)
def case_card(context, case, index):
    """A case's card on the survey form (see submissions.form_html): the page's labels, domains and
    evidence requests are read once for all its cards."""
    cards = context.render_context.get(CaseCards)
    if cards is None:
        cards = context.render_context[CaseCards] = CaseCards(
            context["domain_choices"], context["case_text_fields"], context.get("evidence_fields")
        )
    return cards.render(case, str(index))


@register.simple_tag(takes_context=True)
def number_field(context, name, label, unit=""):
    """A number field of the survey form (see submissions.form_html)."""
    fields = context.render_context.get(NumberFields)
    if fields is None:
        fields = context.render_context[NumberFields] = NumberFields(context)
    return fields.render(name, label, unit)
