"""Template helpers of the survey form."""

from django import template

from submissions import detail_html
from submissions.form_html import CaseCards, FormFields
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


def _form_fields(context) -> FormFields:
    fields = context.render_context.get(FormFields)
    if fields is None:
        fields = context.render_context[FormFields] = FormFields(context)
    return fields


@register.simple_tag(takes_context=True)
def number_field(context, name, label, unit=""):
    """A number field of the survey form (see submissions.form_html)."""
    return _form_fields(context).number(name, label, unit)


@register.simple_tag(takes_context=True)
def indicator_group(context, group):
    """An indicator's fieldset of the survey form, with its inputs (see submissions.form_html)."""
    return _form_fields(context).group(group)


@register.simple_tag(takes_context=True)
def text_field(context, name, label, **options):
    """A text field of the survey form: `type`, `maxlength`, `autocomplete`, `help`, `multiline`."""
    return _form_fields(context).text(name, label, **options)


# The submission page's repeated parts (see submissions.detail_html), as tags of the same names.
for _part in (
    detail_html.last_activity,
    detail_html.history_entries,
    detail_html.diff_rows,
    detail_html.input_rows,
    detail_html.case_articles,
    detail_html.excellent_choices,
    detail_html.comment_rows,
    detail_html.indicator_rows,
    detail_html.explained_indicators,
    detail_html.flag_items,
):
    register.simple_tag(_part)


# The submission page's parts that read the page's context (see submissions.detail_html).
for _part in (detail_html.review_actions, detail_html.review_context, detail_html.score_summary):
    register.simple_tag(_part, takes_context=True)
