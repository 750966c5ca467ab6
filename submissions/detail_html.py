"""The submission page's repeated parts, written in Python: the history's entries, the bureau's diff,
the raw inputs, the cases, the indicators' table, the explanation of each result, the score's flags,
and the review's choices of cases and of fields to comment on.

The page is what the bureau and the ministry read before each decision, and the city's page of its
form: its history holds every saved change field by field, and through the template engine each of
those cells (a label, two values) cost more than all of the page's reads. The HTML is the one the
templates wrote, character for character (`submissions/form_html.py` did the same for the survey form)."""

from __future__ import annotations

from django.template.defaultfilters import filesizeformat, floatformat, linebreaksbr, truncatechars
from django.template.defaulttags import CsrfTokenNode
from django.urls import reverse
from django.utils.formats import localize
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import template_localtime
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

from gigacity.html import escape, url_for
from gigacity.i18n import pick
from gigacity.models import Role
from gigacity.templatetags.gigacity_tags import count, indicator, spec_name, spec_unit, status_badge
from indicators.catalogue import CATALOGUE_BY_CODE

from .forms import change_display, field_label
from .models import Action, CaseDomain, ChangeSource, Flag
from .snapshots import DATA_FIELDS


def _time(value) -> str:
    """`<time>` of a moment, in the active time zone: `{{ value|date:"c" }}` and `{{ value|date:"Y-m-d H:i" }}`."""
    local = template_localtime(value)
    return f'<time datetime="{local.isoformat()}">{local:%Y-%m-%d %H:%M}</time>'


def _minute(value) -> str:
    """`{{ value|date:"Y-m-d H:i" }}`, in the active time zone."""
    return f"{template_localtime(value):%Y-%m-%d %H:%M}"


def _display(choices, value) -> str:
    """`get_<field>_display()` of a field with these choices, without building their table on each call."""
    try:
        return choices(value).label
    except ValueError:
        return value


def _text(value) -> str:
    """`{{ value|linebreaksbr }}`."""
    return linebreaksbr(value, autoescape=True)


def _or_dash(text: str) -> str:
    """`…|default:"—"`."""
    return text or "—"


# The names of the form's own fields in each language, escaped. A case's field is named after the case
# (its title) and an attachment's by its id: those are looked up each time.
_LABELS: dict[tuple[str, str], str] = {}


class Labels:
    """The fields' names as people read them (`forms.field_label`), escaped."""

    def __init__(self, case_titles):
        self.case_titles = case_titles
        self.language = get_language()

    def __call__(self, name: str) -> str:
        if ":" in name or "[" in name:
            return escape(field_label(name, self.case_titles))
        label = _LABELS.get((self.language, name))
        if label is None:
            label = _LABELS[self.language, name] = escape(field_label(name))
        return label

    def value(self, name: str, value) -> str:
        return escape(change_display(name, value, self.case_titles))


def last_activity(activity) -> SafeString:
    """The last change of the data and the last workflow step, apart (`selectors.last_activity`): a
    return or a decision moves the version but changes no data. In the heading of every page of a
    form."""
    saved, step = getattr(activity, "saved", None), getattr(activity, "step", None)
    if saved:
        text = (
            _("last saved %(when)s (%(who)s, on the city's behalf)")
            if saved.on_behalf
            else _("last saved %(when)s (%(who)s)")
        ) % {"when": _minute(saved.created_at), "who": escape(saved.actor)}
    else:
        text = _("not saved yet")
    out = f'\n · <span data-testid="last-saved">{text}</span>\n'
    if step:
        text = _("last step: %(action)s (%(who)s, %(when)s)") % {
            "action": escape(_display(Action, step.action)),
            "who": escape(step.actor),
            "when": _minute(step.created_at),
        }
        out += f' · <span data-testid="last-step">{text}</span>'
    return mark_safe(f"{out}\n\n")


def history_entries(history, kind: str, case_titles) -> SafeString:
    """The `<li>`s of the page's history (`selectors.submission_history`), oldest first."""
    labels = Labels(case_titles)
    out = []
    for item in history:
        out.append(f"\n      <li>\n        {_time(item.created_at)}\n        ")
        figures = getattr(item, "is_figures", False)
        if figures:
            out.append(
                f"\n          <strong>{escape(item.actor)}</strong> "
                f'<span data-testid="history-figures">{escape(item.text)}</span>\n        '
            )
        else:
            out.append(
                f"\n        <strong>{escape(item.actor)}</strong> "
                f'<span class="muted">({escape(_display(Role, item.actor_role))})</span>\n        '
            )
        out.append("\n        ")
        if figures:
            pass
        elif getattr(item, "is_check", False):
            out.append(_check(item, labels))
        elif getattr(item, "action", None):
            reason = f'<div class="timeline-reason">{_text(item.reason)}</div>' if item.reason else ""
            out.append(
                f"\n          {escape(_display(Action, item.action))}: {status_badge(item.from_status, kind=kind)} → "
                f"{status_badge(item.to_status, kind=kind)}\n          {reason}\n        "
            )
        else:
            out.append(_data_change(item, labels))
        out.append("\n      </li>\n    ")
    return mark_safe("".join(out))


def _check(item, labels: Labels) -> str:
    field = f': <span class="muted">{labels(item.request.field)}</span>' if item.request_id else ""
    details = item.details or {}
    outcome = ""
    if details.get("outcome"):
        outcome = " — " + (_("Verified") if details["outcome"] == "passed" else _("Problems found"))
        if details.get("reopened"):
            outcome += " · " + _("reopened to the bureau")
    text = f'<div class="timeline-reason">{_text(item.text)}</div>' if item.text else ""
    return (
        f"\n          {escape(item.get_kind_display())}{field}\n          {outcome}\n          {text}\n                "
    )


def _data_change(item, labels: Labels) -> str:
    edited = _("edited the data on the city's behalf") if item.on_behalf else _("edited the data")
    n = len(item.changes)
    changes = ngettext("%(n)s change", "%(n)s changes", n) % {"n": n}
    rows = "".join(
        f"<tr><td>{labels(name)}</td><td>{labels.value(name, pair[0])}</td><td>{labels.value(name, pair[1])}</td></tr>"
        for name, pair in item.changes.items()
    )
    return (
        f"\n          {edited}\n"
        f'          <span class="muted small">({escape(_display(ChangeSource, item.source))}, {changes})</span>\n'
        f"          <details><summary>{_('Show changes')}</summary>\n"
        '            <table class="table table-compact"><thead><tr>'
        f"<th>{_('Field')}</th><th>{_('Before')}</th><th>{_('After')}</th></tr></thead><tbody>\n"
        f"            {rows}\n"
        "            </tbody></table>\n"
        "          </details>\n        "
    )


def _evidence_markers(asked, marker: str, length: int) -> str:
    """The evidence requests beside a raw input or a case (`evidence_by_field`'s)."""
    label = _("Evidence requested:")
    return "".join(
        f'<div class="review-comment small" data-testid="evidence-marker-{escape(marker)}">'
        f'<a href="#evidence-{r.pk}">{label} {escape(truncatechars(r.question, length))}</a> '
        f'<span class="muted">({escape(r.get_state_display())})</span></div>'
        for r in asked or ()
    )


def input_rows(inputs: dict, evidence_fields) -> SafeString:
    """The raw inputs' rows, each with the evidence requested about it."""
    evidence_fields = evidence_fields or {}
    out = []
    for name, value in inputs.items():
        shown = f"{count(value)} {escape(spec_unit(name))}" if value is not None else "—"
        markers = _evidence_markers(evidence_fields.get(name), name, 40)
        label = escape(spec_name(name))
        out.append(f'\n        <tr><th scope="row">{label}{markers}</th><td class="num">{shown}</td></tr>\n      ')
    return mark_safe("".join(out))


def case_articles(cases, evidence_fields) -> SafeString:
    """The cases as the reviewers read them, with their attachments and the evidence asked of them."""
    if not cases:
        return mark_safe(f'\n    <p class="muted">{_("No cases yet.")}</p>\n  ')
    evidence_fields = evidence_fields or {}
    attachment_url = url_for("submissions:attachment")
    t = {
        "untitled": _("(untitled)"),
        "excellent": _("Recommended as excellent"),
        "description": _("Description"),
        "pain_points": _("Problems solved"),
        "replicability": _("Replicability"),
        "partners": _("Partners"),
        "attachments": _("Attachments"),
    }
    out = []
    for number, case in enumerate(cases, start=1):
        excellent = f'<span class="badge badge-gigabit">{t["excellent"]}</span>' if case.is_excellent else ""
        carried = ""
        if case.carried_from_year:
            carried = _("from the %(year)s form") % {"year": escape(case.carried_from_year)}
            carried = f'<span class="badge badge-carried">{carried}</span>'
        attachments = case.attachments.all()
        files = ""
        if attachments:
            links = "<br>".join(
                f'<a href="{attachment_url(a.pk)}">{escape(a.original_name)}</a> '
                f'<span class="muted small">({escape(filesizeformat(a.size))})</span>'
                for a in attachments
            )
            files = f"<dt>{t['attachments']}</dt><dd>{links}</dd>"
        out.append(
            '\n    <article class="case-view">\n'
            f"      <h3>{number}. {escape(case.title) if case.title else t['untitled']} "
            f'<span class="badge badge-info">{_or_dash(escape(_display(CaseDomain, case.domain)))}</span>\n'
            f"        {excellent}\n"
            f"        {carried}</h3>\n"
            f"      {_evidence_markers(evidence_fields.get(f'case:{case.pk}'), 'case', 60)}\n"
            '      <dl class="kv">\n'
            f"        <dt>{t['description']}</dt><dd>{_or_dash(_text(case.description))}</dd>\n"
            f"        <dt>{t['pain_points']}</dt><dd>{_or_dash(_text(case.pain_points))}</dd>\n"
            f"        <dt>{t['replicability']}</dt><dd>{_or_dash(_text(case.replicability))}</dd>\n"
            f"        <dt>{t['partners']}</dt><dd>{_or_dash(escape(case.partners))}</dd>\n"
            f"        {files}\n"
            "      </dl>\n"
            "    </article>\n  "
        )
    return mark_safe("".join(out))


def excellent_choices(cases, chosen) -> SafeString:
    """The recommendation's checkboxes: which cases the bureau recommends as excellent (`chosen`: their
    ids, checked)."""
    if not cases:
        return mark_safe(f'<p class="muted">{_("No cases.")}</p>')
    untitled = _("(untitled)")
    return mark_safe(
        "".join(
            '\n          <label class="check"><input type="checkbox" name="excellent" '
            f'value="{case.pk}"{" checked" if case.pk in chosen else ""}> {number}. '
            f"{escape(case.title) if case.title else untitled} "
            f'<span class="muted small">{escape(_display(CaseDomain, case.domain))}</span></label>\n        '
            for number, case in enumerate(cases, start=1)
        )
    )


COMMENT_ROWS = 4


def comment_rows(choices, post) -> SafeString:
    """The return's comments on fields or cases: each a choice of `choices` ((value, label) pairs) and
    a text; `post`: what was sent, after a refused return."""
    options = [(value, escape(value), escape(label)) for value, label in choices]
    t = {
        "field": _("Field"),
        "any": _("— field or case —"),
        "comment": _("Comment"),
        "placeholder": _("What should the city check or change?"),
    }
    out = []
    for i in range(COMMENT_ROWS):
        selected = post.get(f"comment_field_{i}") if post else None
        text = post.get(f"comment_text_{i}") if post else None
        listed = "".join(
            f'<option value="{value}"{" selected" if raw == selected else ""}>{label}</option>'
            for raw, value, label in options
        )
        out.append(
            "\n          \n"
            '          <div class="comment-row" data-comment-row>\n'
            f'            <label class="visually-hidden" for="cf{i}">{t["field"]}</label>\n'
            f'            <select id="cf{i}" name="comment_field_{i}">\n'
            f'              <option value="">{t["any"]}</option>\n'
            f"              {listed}\n"
            "            </select>\n"
            f'            <label class="visually-hidden" for="ct{i}">{t["comment"]}</label>\n'
            f'            <input id="ct{i}" type="text" name="comment_text_{i}" maxlength="2000" '
            f'placeholder="{t["placeholder"]}" value="{"" if text is None else escape(text)}">\n'
            "          </div>\n"
            "          \n        "
        )
    return mark_safe("".join(out))


# The form's own fields as choices for a comment, in each language, escaped (a case's choice names the
# case: those are escaped where they are written).
_FIELD_CHOICES: dict[str, list[tuple[str, str]]] = {}


def comment_choices(cases) -> list[tuple[str, str]]:
    """What a bureau's comment can be about: a field of the form, its cases, its attachments, one case."""
    language = get_language()
    fields = _FIELD_CHOICES.get(language)
    if fields is None:
        fields = [(name, field_label(name)) for name in DATA_FIELDS]
        fields += [("cases", field_label("cases")), ("attachments", _("Attachments"))]
        # Escaped once: `choice_options` and `comment_rows` then take them as they are.
        fields = _FIELD_CHOICES[language] = [
            (mark_safe(escape(name)), mark_safe(escape(label))) for name, label in fields
        ]
    return fields + [
        (f"case:{case.pk}", _("Case %(n)s: %(title)s") % {"n": i + 1, "title": case.title})
        for i, case in enumerate(cases)
    ]


def _verdict(passed: bool | None) -> str:
    if passed is None:
        return '<span class="muted">—</span>'
    if passed:
        return f'<span class="badge badge-pass">{_("Meets")}</span>'
    return f'<span class="badge badge-miss">{_("Below")}</span>'


def indicator_rows(rows, previous) -> SafeString:
    """The indicators' table rows (`selectors.indicator_rows`); `previous`: last round's figures, for
    their column."""
    out = []
    for row in rows:
        spec = row["spec"]
        threshold = row["threshold"]
        shown = f"≥ {escape(indicator(threshold, spec))}" if threshold is not None else "—"
        last = f'<td class="num muted">{escape(indicator(row["previous"], spec))}</td>' if previous else ""
        out.append(
            "\n    <tr>\n"
            f'      <th scope="row">{escape(spec_name(spec))}</th>\n'
            f'      <td class="num">{escape(indicator(row["value"], spec))}</td>\n'
            f'      <td class="num">{shown}</td>\n'
            f"      <td>{_verdict(row['passed'])}</td>\n"
            f"      {last}\n"
            "    </tr>\n  "
        )
    return mark_safe("".join(out))


def explained_indicators(indicators) -> SafeString:
    """How each indicator's result comes about (`explain.score_explanation`'s), one `<details>` each."""
    t = {
        "worked": _("How it is computed"),
        "judged": _("Against the threshold"),
        "history": _("Last round"),
        "position": _("Among the round's cities"),
        "flag": _("Flag"),
        "why": _("Why:"),
    }
    out = []
    for i in indicators:
        flags = ""
        if i.flags:
            n = len(i.flags)
            flags = f' <span class="badge badge-warning">{ngettext("%(n)s flag", "%(n)s flags", n) % {"n": n}}</span>'
        history = f"<dt>{t['history']}</dt><dd>{escape(i.history)}</dd>" if i.history else ""
        position = f"<dt>{t['position']}</dt><dd>{escape(i.position)}</dd>" if i.position else ""
        raised = "".join(
            f'<dt>{t["flag"]}</dt><dd><span class="badge badge-{escape(f.severity)}">{escape(f.severity_label)}</span> '
            f'{escape(f.message)}<div class="muted small">{t["why"]} {escape(f.rule)}</div></dd>'
            for f in i.flags
        )
        out.append(
            f'\n  <details class="explain-item" data-indicator="{escape(i.code)}"'
            f"{' open' if i.passed is False or i.flags else ''}>\n"
            f"    <summary><strong>{escape(i.name)}</strong> · {_verdict(i.passed)}{flags}</summary>\n"
            '    <dl class="kv">\n'
            f"      <dt>{t['worked']}</dt><dd>{escape(i.worked)}"
            f'<div class="muted small">{escape(i.formula)}</div></dd>\n'
            f"      <dt>{t['judged']}</dt><dd>{escape(i.judgement)}</dd>\n"
            f"      {history}\n"
            f"      {position}\n"
            f"      {raised}\n"
            "    </dl>\n"
            "  </details>\n  "
        )
    return mark_safe("".join(out))


def flag_items(flags) -> SafeString:
    """The latest score's flags, as a list."""
    out = []
    for flag in flags:
        severity = escape(flag.severity_label)
        out.append(
            f'\n      <li class="flag flag-{severity}"><span class="badge badge-{severity}">'
            f"{escape(_display(Flag.Severity, flag.severity))}</span> {escape(flag.message)}</li>\n    "
        )
    return mark_safe("".join(out))


def diff_rows(changes: dict, case_titles) -> SafeString:
    """What the city changed since the last return (`selectors.changes_since_return`), field by field."""
    labels = Labels(case_titles)
    return mark_safe(
        "".join(
            f'\n      <tr><th scope="row">{labels(name)}</th>\n        \n'
            f'        <td class="diff-before">{_text(change_display(name, before, case_titles))}</td>\n'
            f'        <td class="diff-after">{_text(change_display(name, after, case_titles))}</td></tr>\n    '
            for name, (before, after) in changes.items()
        )
    )


def _action_text(
    *,
    id: str,
    name: str,
    label: str,
    rows: int,
    maxlength: int,
    here: str,
    required: bool,
    errors_by_field,
    action,
    post,
) -> str:
    """The text box of an action's form; `here`: the actions the form carries out (separated by
    spaces; a whole name must match, so "confirm" is not "not-confirm"). After one of them was
    refused, the box keeps what was typed and shows the refusal's message about it, which its
    aria-describedby names."""
    errors = errors_by_field.get(name) if errors_by_field else None
    mine = f" {action} " in f" {here} "
    shown = bool(errors) and mine
    typed = ""
    if mine:
        value = post.get(name) if post else None
        typed = "" if value is None else escape(value)
    described = f' aria-invalid="true" aria-describedby="{id}-error"' if shown else ""
    listed = ""
    if shown:
        listed = f'<ul class="errorlist" id="{id}-error">{"".join(f"<li>{escape(e)}</li>" for e in errors)}</ul>'
    return (
        f'\n<div class="field{" has-error" if shown else ""}"><label for="{id}">{escape(label)}</label>\n'
        f'  <textarea id="{id}" name="{name}" rows="{rows}" maxlength="{maxlength}"'
        f"{' required' if required else ''}{described}>{typed}</textarea>\n"
        f"  {listed}\n"
        "</div>\n"
    )


def review_actions(context) -> SafeString:
    """The review's and the decision's forms on a submission's page, one per action the viewer may
    take now (`actions`); after a refused action, what was typed and the refusal's messages."""
    submission, actions = context["submission"], context["actions"]
    action, post = context.get("action"), context.get("action_post")
    errors_by_field = context.get("action_field_errors")
    csrf = CsrfTokenNode().render(context)

    def act(name: str) -> str:  # `{% url 'reviews:act' submission.pk name %}`
        return escape(reverse("reviews:act", args=[submission.pk, name]))

    # Translated, as `{% translate %}` writes them (a translation is trusted text: not escaped).
    t = {
        "decision": _("Decision"),
        "review": _("Review"),
        "deadline": _("The deadline has passed: after a return the city can only resubmit with an extension."),
        "extend": _("Grant an extension"),
        "recommend_h": _("Recommend to the ministry"),
        "excellent": _("Cases recommended as excellent (优秀案例)"),
        "recommend_q": _("Recommend this city to the ministry?"),
        "recommend": _("Recommend"),
        "return_h": _("Return to the city"),
        "comments": _("Comments on individual fields or cases (optional)"),
        "return_q": _("Return the form to the city?"),
        "approve": _("Approve"),
        "approve_q": _("Name this city a Gigabit City?"),
        "confirm_h": _("Confirm the annual report"),
        "confirm_q": _("Confirm that this Gigabit City still meets the standard?"),
        "confirm": _("Confirm"),
        "not_confirmed": _("Not confirmed"),
        "fell_short": _("Indicators that fell short (at least one)"),
        "below": _("Below"),
        "improve_by": _("Improve by"),
        "not_confirm_q": _("Record that this Gigabit City fell short this year?"),
        "not_confirm": _("Record as not confirmed"),
        "reject_or_send_back": _("Reject or send back"),
        "send_back_h": _("Send back to the bureau"),
        "send_back_q": _("Send the submission back to the provincial bureau?"),
        "send_back": _("Send back to bureau"),
        "reject_q": _("Reject: the city is not named a Gigabit City this round?"),
        "reject": _("Reject"),
    }

    def head(name: str, extra: str = "") -> str:
        return (
            f'\n    <form method="post" action="{act(name)}" class="action-form"{extra}>{csrf}\n'
            f'      <input type="hidden" name="version" value="{submission.version}">\n'
        )

    def text(**options) -> str:
        return _action_text(**options, errors_by_field=errors_by_field, action=action, post=post)

    def reason(id: str, here: str) -> str:
        """The required reason of a return, a refusal or a decision against the city."""
        return text(
            id=id, name="reason", label=_("Reason (required)"), rows=3, maxlength=5000, required=True, here=here
        )

    def note(id: str, here: str, name: str = "reason", label: str | None = None, maxlength: int = 5000) -> str:
        """An optional note of a recommendation, an approval or a confirmation."""
        label = _("Note (optional)") if label is None else label
        return text(id=id, name=name, label=label, rows=2, maxlength=maxlength, required=False, here=here)

    def button(kind: str, question: str, label: str, extra: str = "") -> str:
        return f'\n      <button type="submit" class="btn {kind}"{extra} data-confirm="{question}">{label}</button>\n'

    title = t["decision"] if context["user"].role == Role.MINISTRY else t["review"]
    out = [
        '\n<section class="card card-actions" aria-labelledby="actions-h" data-testid="actions">\n',
        f'  <h2 id="actions-h">{title}</h2>\n  ',
    ]
    if submission.kind == "annual_report" and "confirm" in actions:
        since = _(
            "A Gigabit City since %(year)s: this annual report is confirmed or not confirmed; the city is not "
            "named again."
        ) % {"year": escape(context.get("batch"))}
        out.append(f'<div class="alert alert-info">{since}</div>')
    out.append("\n  ")
    if context.get("deadline_passed") and "return" in actions:
        extension = escape(reverse("reviews:extension_new", args=[submission.city_id]))
        out.append(f'<div class="alert alert-warning">{t["deadline"]} <a href="{extension}">{t["extend"]}</a></div>')
    out.append('\n  <div class="action-forms">\n  ')
    if "recommend" in actions:
        out += [
            head("recommend"),
            f"      <h3>{t['recommend_h']}</h3>\n"
            f'      <fieldset class="field"><legend class="label">{t["excellent"]}</legend>\n'
            f"        {excellent_choices(context['cases'], context['excellent_chosen'])}\n"
            "      </fieldset>\n      ",
            note(
                "recommend-note", "recommend", name="note", label=_("Note to the ministry (optional)"), maxlength=2000
            ),
            button("btn-success", t["recommend_q"], t["recommend"]),
            "    </form>\n  ",
        ]
    out.append("\n  ")
    if "return" in actions:
        comments = comment_rows(context["comment_choices"], post if action == "return" else None)
        out += [
            head("return", " data-comment-form"),
            f"      <h3>{t['return_h']}</h3>\n      ",
            reason("return-reason", "return"),
            f'\n      <fieldset class="field comments"><legend class="label">{t["comments"]}</legend>\n'
            f"        {comments}\n"
            "      </fieldset>",
            button("btn-danger", t["return_q"], t["return_h"]),
            "    </form>\n  ",
        ]
    out.append("\n  ")
    if "approve" in actions:
        becomes = _("%(city)s becomes a %(year)s Gigabit City.") % {
            "city": escape(submission.city.name),
            "year": escape(submission.round.year),
        }
        out += [
            head("approve"),
            f'      <h3>{t["approve"]}</h3>\n      <p class="small muted">{becomes}</p>\n      ',
            note("approve-note", "approve"),
            button("btn-success", t["approve_q"], t["approve"]),
            "    </form>\n  ",
        ]
    out.append("\n  ")
    if "confirm" in actions:
        meets = _("%(city)s still meets the Gigabit City standard (复核通过).") % {"city": escape(submission.city.name)}
        out += [
            head("confirm"),
            f'      <h3>{t["confirm_h"]}</h3>\n      <p class="small muted">{meets}</p>\n      ',
            note("confirm-note", "confirm"),
            button("btn-success", t["confirm_q"], t["confirm"], ' data-testid="confirm"'),
            "    </form>\n  ",
        ]
    out.append("\n  ")
    if "not-confirm" in actions:
        chosen = context.get("shortfall_chosen")
        boxes = []
        for row in context["shortfall_rows"]:
            checked = row["code"] in chosen if chosen is not None else row["missed"]
            below = f' <span class="badge badge-miss">{t["below"]}</span>' if row["missed"] else ""
            boxes.append(
                "\n          "
                f'<label class="check"><input type="checkbox" name="shortfall" value="{escape(row["code"])}"'
                f"{' checked' if checked else ''}> {escape(row['name'])}{below}</label>\n        "
            )
        if action == "not-confirm":
            due = escape((post.get("improvement_due") if post else None) or "")
        else:
            default = context.get("improvement_due_default")
            due = f"{default:%Y-%m-%d}" if default else ""
        out += [
            head("not-confirm", ' data-testid="not-confirm-form"'),
            f"      <h3>{t['not_confirmed']}</h3>\n      ",
            reason("not-confirm-reason", "not-confirm"),
            f'\n      <fieldset class="field"><legend class="label">{t["fell_short"]}</legend>\n'
            f"        {''.join(boxes)}\n      </fieldset>\n"
            f'      <div class="field"><label for="improvement-due">{t["improve_by"]}</label>\n'
            f'        <input id="improvement-due" type="date" name="improvement_due" required value="{due}"></div>',
            button("btn-danger", t["not_confirm_q"], t["not_confirm"]),
            "    </form>\n  ",
        ]
    out.append("\n  ")
    if "reject" in actions or "send-back" in actions:
        heading = t["reject_or_send_back"] if "reject" in actions else t["send_back_h"]
        send_back = reject = ""
        if "send-back" in actions:
            send_back = (
                f'<button type="submit" class="btn" formaction="{act("send-back")}" '
                f'data-confirm="{t["send_back_q"]}">{t["send_back"]}</button>'
            )
        if "reject" in actions:
            reject = (
                f'<button type="submit" class="btn btn-danger" formaction="{act("reject")}" '
                f'data-confirm="{t["reject_q"]}">{t["reject"]}</button>'
            )
        out += [
            f'\n    <form method="post" class="action-form">{csrf}\n'
            f'      <input type="hidden" name="version" value="{submission.version}">\n'
            f"      <h3>{heading}</h3>\n      ",
            reason("decision-reason", "reject send-back"),
            f'\n      <div class="actions">\n        {send_back}\n        {reject}\n      </div>\n    </form>\n  ',
        ]
    out.append("\n  </div>\n</section>\n")
    return mark_safe("".join(out))


def _comment_items(comments, labels: Labels) -> str:
    return "".join(f"<li><strong>{labels(c.field)}</strong>：{escape(c.message)}</li>" for c in comments)


def review_context(context) -> SafeString:
    """What a reviewer reads first on a submission's page: why it was returned (while it is), the last
    decision on it, and what the city changed since the last return."""
    submission, last_return, last_event = context["submission"], context.get("last_return"), context.get("last_event")
    resubmission = context.get("resubmission")
    labels = Labels(context.get("case_titles"))
    out = ["\n"]
    if last_return and submission.status == "returned":
        returned = _("Returned by %(who)s on %(when)s:") % {
            "who": escape(last_return.actor),
            "when": _minute(last_return.created_at),
        }
        comments = context.get("return_comments")
        listed = f'\n      <ul class="comment-list">{_comment_items(comments, labels)}</ul>\n    ' if comments else ""
        out.append(
            '\n  <div class="alert alert-warning" data-testid="return-reason">\n'
            f"    <strong>{returned}</strong>\n"
            f"    {_text(last_return.reason)}\n"
            f"    {listed}\n"
            "  </div>\n"
        )
    out.append("\n")
    if last_event and last_event.action not in ("return", "submit"):
        kind = {"approve": "alert-success", "recommend": "alert-info"}.get(last_event.action, "alert-warning")
        decided = _("%(action)s by %(who)s on %(when)s") % {
            "action": escape(_display(Action, last_event.action)),
            "who": escape(last_event.actor),
            "when": _minute(last_event.created_at),
        }
        reason = f"：{_text(last_event.reason)}" if last_event.reason else ""
        excellent = ""
        if last_event.action == "recommend":
            chosen = (last_event.details or {}).get("excellent_cases")
            if chosen:
                titles = "".join(f"「{escape(case.title)}」" for case in context["cases"] if case.pk in chosen)
                excellent = f'<div class="small">{_("Recommended as excellent:")} {titles}</div>'
            excellent = f"\n      {excellent}\n    "
        out.append(
            f'\n  <div class="alert {kind}" data-testid="last-decision">\n'
            f"    <strong>{decided}</strong>{reason}\n"
            f"    {excellent}\n"
            "  </div>\n"
        )
    out.append("\n")
    if resubmission:
        since = _("Changed since the return of %(when)s") % {"when": _minute(resubmission.returned.created_at)}
        if resubmission.changes:
            table = (
                '\n  <div class="table-wrap"><table class="table table-compact">\n'
                f"    <thead><tr><th>{_('Field')}</th><th>{_('When returned')}</th>"
                f"<th>{_('Resubmitted')}</th></tr></thead>\n"
                "    <tbody>\n"
                f"    {diff_rows(resubmission.changes, context.get('case_titles'))}\n"
                "    </tbody>\n"
                "  </table></div>\n  "
            )
        else:
            table = f'<p class="muted">{_("The city resubmitted without changing anything.")}</p>'
        comments = list(resubmission.returned.field_comments.all())
        yours = ""
        if comments:
            yours = (
                f'\n    <p class="small muted">{_("Your comments when returning:")}</p>\n'
                f'    <ul class="comment-list small">{_comment_items(comments, labels)}</ul>\n  '
            )
        out.append(
            '\n<section class="card card-highlight" aria-labelledby="diff-h" data-testid="diff">\n'
            f'  <h2 id="diff-h">{since}</h2>\n'
            f"  {table}\n"
            f"  {yours}\n"
            "</section>\n"
        )
    out.append("\n")
    return mark_safe("".join(out))


def missed_names(result) -> str:
    """The indicators a score result (`indicators.rules.ScoreResult`) misses, by name in the active
    language."""
    specs = [CATALOGUE_BY_CODE[r.code] for r in result.results if not r.passed]
    return pick("、", ", ").join(pick(spec.name_zh, spec.name_en) for spec in specs)


def score_summary(context) -> SafeString:
    """The worker's check of the form: whether it is still running or failed, its result and flags; and,
    where the check no longer describes the form (its data or the thresholds changed since), the
    current data judged now as the headline (`current_result`)."""
    submission, score, current = context["submission"], context.get("score"), context.get("current_result")
    advice = _("The check is advice for reviewers, not a verdict.")
    passes = f'<span class="badge badge-pass">{_("Meets every threshold")}</span>'

    def misses(n: int) -> str:
        text = ngettext("Misses %(n)s threshold", "Misses %(n)s thresholds", n) % {"n": escape(n)}
        return f'<span class="badge badge-miss">{text}</span>'

    out = ["\n"]
    if submission.scoring_state == "pending":
        pending = _("Scoring is in progress; the result and flags appear here shortly.")
        out.append(f'\n  <div class="alert alert-info" data-testid="scoring-state">{pending}</div>\n')
    elif submission.scoring_state == "failed":
        failed = escape(
            _(
                "This submission could not be scored automatically. The technical team has been told; "
                "reviewers can still check it by hand."
            )
        )
        out.append(f'\n  <div class="alert alert-error" data-testid="scoring-state">{failed}</div>\n')
    out.append("\n")
    if not score:
        return mark_safe("".join(out) + "\n")
    flags = list(score.flags.all())
    scored = _("scored %(when)s · data version %(v)s · threshold version %(t)s") % {
        "when": _minute(score.created_at),
        "v": escape(score.version),
        "t": escape(score.threshold_version),
    }
    out.append(
        '\n<section class="card" aria-labelledby="score-h" data-testid="score">\n'
        '  <div class="card-header">\n'
        f'    <h2 id="score-h">{_("Automatic check")}</h2>\n'
        f'    <span class="muted small">{scored}</span>\n'
        "  </div>\n  "
    )
    if current:
        if submission.scoring_state == "pending":
            stale = escape(
                _(
                    "The check is being redone for the current data and thresholds; until then, the result "
                    "below is recomputed from the current data."
                )
            )
            stale += "\n      "
        elif getattr(submission, "data_changed_since_score", None):
            stale = _(
                "The form’s data have changed since this check of data version %(v)s; the result below is "
                "recomputed from the current data. The full check, with its flags, is redone when the form "
                "is submitted."
            ) % {"v": escape(score.version)}
            stale += "\n      "
        else:
            stale = _(
                "This check used threshold version %(t)s; the thresholds have changed since (now version "
                "%(now)s). The result below is recomputed with the current thresholds."
            ) % {"t": escape(score.threshold_version), "now": escape(submission.round.threshold_version)}
        if current.meets_all:
            headline = f"{passes}\n      "
        else:
            names = escape(missed_names(current))
            headline = f"{misses(current.missed)}\n        <span>{names}</span>"
        flags_of = ""
        if flags:
            text = _("Flags of the check of data version %(v)s") % {"v": escape(score.version)}
            flags_of = f'<h3 class="small">{text}</h3>'
        out.append(
            "\n    \n"
            '    <p class="alert alert-warning" data-testid="score-stale">\n'
            f"      {stale}\n"
            "    </p>\n"
            f'    <p data-testid="score-headline"><strong>{_("Recomputed from the current data:")}</strong>\n'
            f"      {headline}\n"
            f'      <span class="muted small">{advice}</span></p>\n'
            f"    {flags_of}\n  "
        )
    else:
        headline = f"{passes}\n     " if score.meets_all else misses(score.missed)
        out.append(
            f'\n  <p data-testid="score-headline">{headline}\n     <span class="muted small">{advice}</span></p>\n  '
        )
    if flags:
        out.append(f'\n  \n  <ul class="flags">\n    {flag_items(flags)}\n  </ul>\n  ')
    else:
        out.append(f'\n  <p class="muted">{_("No flags.")}</p>')
    out.append("\n</section>\n\n")
    return mark_safe("".join(out))


def operator_comparison(show: bool, **part) -> SafeString:
    """The worker's comparison of the form's counts with the operators' figures (`operator_tags`)."""
    if not show:
        return mark_safe("\n")
    allowed = _("Allowed difference: %(t)s %% of the operators' sum.") % {"t": floatformat(part["tolerance"], "-2")}
    if part["pending"]:
        allowed += f" {_('New figures arrived: the check is being run again.')}"
    title = _("Comparison with the operators' figures")
    out = [
        '\n<section class="card" aria-labelledby="operators-h" data-testid="operator-comparison">\n'
        f'  <h2 id="operators-h">{title}</h2>\n'
        f'  <p class="muted small">{allowed}</p>\n  '
    ]
    if not part["scored"]:
        out.append(f'<p class="muted">{_("Compared once the form has been submitted and checked.")}</p>\n  ')
    else:
        heads = "".join(f'<th scope="col">{escape(o.name)}</th>' for o in part["operators"])
        not_reported = _("not reported")
        verdicts = {  # by `within`: True, False or None (not compared)
            True: f'<span class="badge badge-pass">{_("Within tolerance")}</span>',
            False: f'<span class="badge badge-returned">{_("Inconsistent")}</span>',
        }
        nobody = f'<span class="badge">{_("Not reported by any operator")}</span>'
        city, total = _("City's figure"), _("Operators' sum")
        out.append(
            "\n"
            '  <div class="table-scroll">\n'
            '  <table class="table">\n'
            "    <thead><tr>\n"
            f'      <th scope="col">{_("Count")}</th>\n'
            f'      <th scope="col">{city}</th>\n'
            f'      <th scope="col">{total}</th>\n'
            f"      {heads}\n"
            f'      <th scope="col">{_("Difference")}</th>\n'
            f'      <th scope="col">{_("Result")}</th>\n'
            "    </tr></thead>\n"
            "    <tbody>\n    "
        )
        for row in part["rows"]:
            shares = []
            for s in row["shares"]:
                if s["value"] is None:
                    shares.append(f'<td class="num"><span class="muted">{not_reported}</span></td>')
                else:
                    share = (
                        f'<br><span class="muted small">{escape(localize(s["share"]))}%</span>'
                        if s["share"] is not None
                        else ""
                    )
                    shares.append(f'<td class="num">{escape(s["text"])}{share}</td>')
            if row["difference"] is not None:
                relative = (
                    f'<br><span class="small">{escape(localize(row["relative"]))}%</span>'
                    if row["relative"] is not None
                    else ""
                )
                difference = f"{escape(row['difference_text'])}{relative}"
            else:
                difference = "—"
            within = row["within"]
            verdict = verdicts.get(within, nobody if row["total"] is None else "—")
            warning = ' class="row-warning"' if within is False else ""
            out.append(
                "\n"
                f"      <tr{warning}>\n"
                f'        <th scope="row">{escape(row["label"])}</th>\n'
                f'        <td class="num">{escape(row["city_text"])}</td>\n'
                f'        <td class="num">{escape(row["total_text"])}</td>\n'
                f"        {''.join(shares)}\n"
                f'        <td class="num">{difference}</td>\n'
                f"        <td>{verdict}</td>\n"
                "      </tr>\n    "
            )
        out.append("\n    </tbody>\n  </table>\n  </div>\n  ")
    out.append("\n</section>\n\n")
    return mark_safe("".join(out))
