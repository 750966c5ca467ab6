"""The survey form's repeated parts, written in Python: a case's card, an indicator's fieldset, a number
or text field.

A form has up to a few dozen cases, each card some forty fields, labels and messages, and some thirty
number fields: through the template engine that was most of the page's time (every
`{{ case.values.title }}` searched through the context's stack). The HTML is the one the templates
wrote, character for character."""

from __future__ import annotations

from django.template.defaultfilters import filesizeformat
from django.template.loader import get_template
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from gigacity.html import escape, url_for
from gigacity.i18n import pick
from indicators.catalogue import KEY_SITE_CATEGORIES, key_site_field

from .forms import CaseState, IndicatorGroup


def _error_list(index: str, name: str, errors) -> str:
    items = "".join(f"<li>{escape(e)}</li>" for e in errors or ())
    return f'<ul class="errorlist" id="err_cases-{index}-{name}">{items}</ul>'


def _evidence(asked, marker: str) -> str:
    return get_template("reviews/includes/evidence_marker.html").render({"asked": asked, "marker": marker})


class CaseCards:
    """The page's strings translated once, then one card per case."""

    def __init__(self, domain_choices, case_text_fields, evidence_fields):
        self.domain_choices = [(str(value), escape(value), escape(label)) for value, label in domain_choices]
        self.case_text_fields = [(name, escape(label)) for name, label in case_text_fields]
        self.evidence_fields = evidence_fields or {}
        self.attachment_url = url_for("submissions:attachment")
        self.t = {
            key: _(msgid)  # a template's {% translate "…" %}: a literal, not escaped
            for key, msgid in {
                "new": "New case",
                "carried_title": (
                    "Carried over from last year’s form: keep it, edit it (it then counts as this year’s) or remove it."
                ),
                "move_up": "Move up",
                "up": "Up",
                "move_down": "Move down",
                "down": "Down",
                "remove": "Remove",
                "comment": "Bureau's comment:",
                "title": "Title",
                "domain": "Domain",
                "partners": "Partners",
                "attachments": "Attachments (optional)",
                "add": "Add an attachment",
                "types": "PDF, Word, Excel, PowerPoint, PNG or JPEG, up to 20 MB.",
                "save_first": "Save the form first; then attachments can be added to this case.",
            }.items()
        }

    def render(self, case: CaseState, index: str) -> SafeString:
        t = self.t
        errors = case.errors
        values = case.values
        case_id = "" if not case.id else escape(case.id)
        title = values.get("title")
        out = [
            f'\n<article class="case-card card{" has-error" if errors else ""}" data-case data-case-id="{case_id}">\n'
            '  <header class="case-card-header">\n'
            f"    <h3><span data-case-number>{int(index) + 1}</span>. "
            f"<span data-case-title>{escape(title) if title else t['new']}</span>\n      "
        ]
        if case.carried_from_year:
            carried = _("from the %(year)s form") % {"year": escape(case.carried_from_year)}
            out.append(
                f'<span class="badge badge-carried" data-testid="carried-case" title="{t["carried_title"]}">'
                f"{carried}</span>"
            )
        out.append(
            "</h3>\n"
            '    <div class="case-tools">\n'
            f'      <button type="button" class="btn btn-small" data-case-up aria-label="{t["move_up"]}">'
            f"↑ {t['up']}</button>\n"
            f'      <button type="button" class="btn btn-small" data-case-down aria-label="{t["move_down"]}">'
            f"↓ {t['down']}</button>\n"
            f'      <button type="button" class="btn btn-small btn-danger" data-case-remove>{t["remove"]}</button>\n'
            "    </div>\n"
            "  </header>\n"
            f'  <input type="hidden" data-name="id" name="cases-{index}-id" value="{case_id}">\n  '
        )
        general = errors.get("general")
        if general:
            messages = "".join(f"<div>{escape(msg)}</div>" for msg in general)
            out.append(f'<div class="alert alert-error" id="err_cases-{index}" data-case-errors>{messages}</div>')
        out.append("\n  ")
        out.extend(
            f'<div class="review-comment"><strong>{t["comment"]}</strong> {escape(c)}</div>' for c in case.comments
        )
        out.append("\n  ")
        if case.id:
            asked = self.evidence_fields.get(f"case:{case.id}")
            if asked:
                out.append(_evidence(asked, "case"))
        title_errors = errors.get("title")
        described = ""
        if title_errors or general:
            described = (
                ' aria-invalid="true" aria-describedby="'
                + (f"err_cases-{index}" if general else "")
                + (f" err_cases-{index}-title" if title_errors else "")
                + '"'
            )
        domain_errors = errors.get("domain")
        domain = values.get("domain")
        options = "".join(
            f'<option value="{value}"{" selected" if raw == domain else ""}>{label}</option>'
            for raw, value, label in self.domain_choices
        )
        out.append(
            "\n"
            '  <div class="grid grid-2">\n'
            "    \n"
            f'    <div class="field{" has-error" if title_errors else ""}">\n'
            f'      <label for="id_cases-{index}-title">{t["title"]}</label>\n'
            f'      <input type="text" maxlength="200" data-name="title" id="id_cases-{index}-title" '
            f'name="cases-{index}-title" value="{escape(values.get("title", ""))}"\n'
            f"             {described}>\n"
            f"      {_error_list(index, 'title', title_errors)}\n"
            "    </div>\n"
            f'    <div class="field{" has-error" if domain_errors else ""}">\n'
            f'      <label for="id_cases-{index}-domain">{t["domain"]}</label>\n'
            f'      <select data-name="domain" id="id_cases-{index}-domain" name="cases-{index}-domain"'
            + (f' aria-invalid="true" aria-describedby="err_cases-{index}-domain"' if domain_errors else "")
            + ">\n"
            f"        {options}\n"
            "      </select>\n"
            f"      {_error_list(index, 'domain', domain_errors)}\n"
            "    </div>\n"
            "  </div>\n  "
        )
        for name, label in self.case_text_fields:
            field_errors = errors.get(name)
            value = values.get(name)
            out.append(
                "\n"
                f'    <div class="field{" has-error" if field_errors else ""}">\n'
                f'      <label for="id_cases-{index}-{name}">{label}</label>\n'
                f'      <textarea rows="3" maxlength="20000" data-name="{name}" id="id_cases-{index}-{name}" '
                f'name="cases-{index}-{name}"'
                + (f' aria-invalid="true" aria-describedby="err_cases-{index}-{name}"' if field_errors else "")
                + f">{'' if value is None else escape(value)}</textarea>\n"
                f"      {_error_list(index, name, field_errors)}\n"
                "    </div>\n  "
            )
        partners_errors = errors.get("partners")
        attachments = "".join(
            f'\n        <li data-attachment-id="{escape(a.pk)}">'
            f'<a href="{self.attachment_url(a.pk)}">'
            f'{escape(a.original_name)}</a> <span class="muted small">{escape(filesizeformat(a.size))}</span>\n'
            f'          <button type="button" class="btn-link" data-attachment-remove="{escape(a.pk)}">'
            f"{t['remove']}</button></li>\n"
            "      "
            for a in case.attachments
        )
        out.append(
            "\n"
            f'  <div class="field{" has-error" if partners_errors else ""}">\n'
            f'    <label for="id_cases-{index}-partners">{t["partners"]}</label>\n'
            f'    <input type="text" maxlength="500" data-name="partners" id="id_cases-{index}-partners" '
            f'name="cases-{index}-partners" value="{escape(values.get("partners", ""))}"'
            + (f' aria-invalid="true" aria-describedby="err_cases-{index}-partners"' if partners_errors else "")
            + ">\n"
            f"    {_error_list(index, 'partners', partners_errors)}\n"
            "  </div>\n"
            '  <div class="attachments" data-attachments>\n'
            f'    <span class="label">{t["attachments"]}</span>\n'
            '    <ul class="attachment-list">\n'
            f"      {attachments}\n"
            "    </ul>\n"
            '    <div class="attachment-upload">\n'
            f'      <label class="visually-hidden" for="file_case_{index}">{t["add"]}</label>\n'
            f'      <input type="file" id="file_case_{index}" data-attachment-input '
            f'accept=".pdf,.docx,.xlsx,.pptx,.png,.jpg,.jpeg"{"" if case.id else " disabled"}>\n'
            '      <span class="muted small" data-attachment-hint>'
            f"{t['types'] if case.id else t['save_first']}</span>\n"
            "    </div>\n"
            "  </div>\n"
            "</article>\n"
        )
        return mark_safe("".join(out))


class FormFields:
    """A number or text field of the form with its previous year's value, messages, the bureau's comments,
    evidence requests and the latest saved value after a conflict."""

    def __init__(self, context):
        state = context["state"]
        self.values = state.values
        self.errors = state.errors
        self.comments = context.get("field_comments") or {}
        self.latest_values = context.get("latest_values") or {}
        self.evidence_fields = context.get("evidence_fields") or {}
        previous = context.get("previous")
        self.previous_year = escape(previous.round.year) if previous else None
        self.previous_values = context.get("previous_values") or {}
        self.comment_label = _("Bureau's comment:")

    def group(self, group: IndicatorGroup) -> SafeString:
        """An indicator's fieldset: its live value, its formula, (for the key sites) the table of the
        categories, and the fields of its inputs."""
        spec = group.indicator
        code = escape(spec.code)
        formula = escape(pick(spec.formula_zh, spec.formula_en))
        out = [
            "\n"
            f'<fieldset class="indicator-group" data-indicator="{code}">\n'
            f"  <legend>{escape(pick(spec.name_zh, spec.name_en))}</legend>\n"
            '  <div class="indicator-live" aria-live="polite">\n'
            f'    <span class="live-value" data-live-value="{code}">—</span>\n'
            f'    <span class="live-threshold muted" data-live-threshold="{code}"></span>\n'
            f'    <span class="badge" data-live-badge="{code}"></span>\n'
            f'    <div class="formula muted small">{formula}</div>\n'
            "  </div>\n  "
        ]
        if group.key_sites:
            out.append(
                "\n"
                '    <div class="table-wrap">\n'
                '    <table class="table table-compact key-sites" data-testid="key-sites">\n'
                f'      <caption class="muted small">{_("Key sites by category: the totals below are their sums.")}'
                "</caption>\n"
                f'      <thead><tr><th scope="col">{_("Category")}</th><th scope="col" class="num">{_("Sites")}</th>'
                f'<th scope="col" class="num">{_("Reached by 5G")}</th></tr></thead>\n'
                "      <tbody>\n      "
            )
            for category in KEY_SITE_CATEGORIES:
                label = pick(category.label_zh, category.label_en)
                total, covered = key_site_field(category.key, "total"), key_site_field(category.key, "covered")
                out.append(
                    "\n        \n"
                    "        <tr>\n"
                    f'          <th scope="row">{escape(label)}</th>\n'
                    f"          <td>{self.number(total, _('Sites'), '')}</td>\n"
                    f"          <td>{self.number(covered, _('Reached by 5G'), '')}</td>\n"
                    "        </tr>\n        \n      "
                )
            out.append("\n      </tbody>\n    </table>\n    </div>\n  ")
        out.append('\n  <div class="grid grid-2">\n  ')
        for field in group.inputs:
            label, unit = pick(field.label_zh, field.label_en), pick(field.unit_zh, field.unit_en)
            out.append(f"\n    {self.number(field.name, label, unit)}\n  ")
        out.append("\n  </div>\n</fieldset>\n")
        return mark_safe("".join(out))

    def number(self, name: str, label, unit) -> SafeString:
        errors = self.errors.get(name)
        comments = self.comments.get(name)
        latest_value = self.latest_values.get(name)
        out = [
            f'\n<div class="field field-number{" has-error" if errors else ""}{" has-comment" if comments else ""}" '
            f'data-field="{name}">\n'
            f'  <label for="id_{name}">{escape(label)}'
            + (f' <span class="unit">（{escape(unit)}）</span>' if unit else "")
            + "</label>\n"
            f'  <input type="text" inputmode="numeric" autocomplete="off" id="id_{name}" name="{name}"\n'
            f'         value="{escape(self.values.get(name))}" data-number\n'
            f'         aria-describedby="help_{name}{f" err_{name}" if errors else ""}"'
            + (' aria-invalid="true"' if errors else "")
            + ">\n"
            f'  <div class="help" id="help_{name}">\n    '
        ]
        if self.previous_year is not None:
            prev = self.previous_values.get(name)
            text = _("%(year)s: %(value)s") % {"year": self.previous_year, "value": escape(prev or "—")}
            out.append(f'<span class="previous">{text}</span>')
        items = "".join(f"<li>{escape(e)}</li>" for e in errors or ())
        out.append(
            "\n    \n"
            "  </div>\n"
            "  \n"
            f'  <div role="alert"><ul class="errorlist live-error" id="err_{name}">{items}</ul></div>\n  '
        )
        out.append(self._tail(name, comments, latest_value))
        return mark_safe("".join(out))

    def text(self, name: str, label, *, type="", maxlength=None, autocomplete="", help="", multiline=False):
        errors = self.errors.get(name)
        comments = self.comments.get(name)
        latest_value = self.latest_values.get(name)
        described = f'aria-describedby="help_{name}{f" err_{name}" if errors else ""}"' + (
            ' aria-invalid="true"' if errors else ""
        )
        value = escape(self.values.get(name))
        if multiline:
            control = (
                f'\n  <textarea id="id_{name}" name="{name}" rows="5" maxlength="20000" {described}>'
                f"{value}</textarea>\n  "
            )
        else:
            control = (
                f'\n  <input type="{escape(type or "text")}" id="id_{name}" name="{name}" value="{value}"'
                + (f' maxlength="{escape(maxlength)}"' if maxlength else "")
                + (f' autocomplete="{escape(autocomplete)}"' if autocomplete else "")
                + f"\n         {described}>\n  "
            )
        items = "".join(f"<li>{escape(e)}</li>" for e in errors or ())
        return mark_safe(
            f'\n<div class="field{" has-error" if errors else ""}{" has-comment" if comments else ""}" '
            f'data-field="{name}">\n'
            f'  <label for="id_{name}">{escape(label)}</label>\n  '
            + control
            + f'\n  <div class="help" id="help_{name}">{f"<span>{escape(help)}</span>" if help else ""}</div>\n'
            f'  <ul class="errorlist" id="err_{name}">{items}</ul>\n  ' + self._tail(name, comments, latest_value)
        )

    def _tail(self, name: str, comments, latest_value) -> str:
        """The bureau's comments, evidence requests and the latest saved value, as both fields end."""
        out = [
            f'<div class="review-comment" data-testid="comment-{name}">'
            f"<strong>{self.comment_label}</strong> {escape(c)}</div>"
            for c in comments or ()
        ]
        out.append("\n  ")
        asked = self.evidence_fields.get(name)
        if asked:
            out.append(_evidence(asked, name))
        out.append("\n  ")
        if latest_value is not None:
            text = _("Latest saved value: %(v)s") % {"v": escape(latest_value or "—")}
            out.append(f'<div class="latest-value">{text}</div>')
        out.append("\n</div>\n")
        return "".join(out)
