"""The rows of the review queues, written in Python: the bureau's cities and the ministry's forms.

A queue has a province's twenty-odd cities or a page of fifty forms, each row some fifteen tags,
badges, links and translated words: through the template engine that was most of the page's time
(every `{{ s.city.name }}` searched through the context's stack, every `{% url %}` reversed). The
HTML is the one the templates wrote, each value escaped (`gigacity.html`); only the
whitespace between a cell's tags is tidier."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, tzinfo

from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from gigacity.html import escape, url_for
from gigacity.templatetags.gigacity_tags import kind_badge, status_badge
from indicators.models import Round, RoundStatus
from submissions.models import ScoringState, Status, Submission

from .selectors import QueueRow

# Forms a bureau checks: it may recommend or return them (selected here, or one by one).
_TO_CHECK = (Status.SUBMITTED, Status.SENT_BACK)
# Forms a bureau may fill in for its city while the round is open.
_TO_FILL = (Status.DRAFT, Status.RETURNED)


def _minutes(value: datetime, day_format: str, zone: tzinfo) -> str:
    """`value|date:"m-d H:i"` (or "Y-m-d H:i") in the current time `zone`, as the template wrote it."""
    t = value.astimezone(zone)
    return f"{t.strftime(day_format)} {t.hour:02d}:{t.minute:02d}"


class _Badges:
    """The badges rows share: the form's kind and state (each made once a page), its check against the
    thresholds and its flags."""

    def __init__(self):
        self.meets_all = f'<span class="badge badge-pass">{_("Meets all")}</span>'
        self.kinds: dict[str, str] = {}
        self.states: dict[tuple[str, str], str] = {}
        self.counted: dict[tuple[str, int | None], str] = {}  # "Misses 2", "3 flags": by number

    def kind(self, kind: str) -> str:
        if kind not in self.kinds:
            self.kinds[kind] = kind_badge(kind)
        return self.kinds[kind]

    def status(self, status: str, kind: str) -> str:
        if (status, kind) not in self.states:
            self.states[status, kind] = status_badge(status, kind=kind)
        return self.states[status, kind]

    def check(self, meets_all: bool | None, missed: int | None) -> str:
        if meets_all:
            return self.meets_all
        if ("misses", missed) not in self.counted:
            misses = ngettext("Misses %(n)s", "Misses %(n)s", missed) % {"n": escape(missed)}
            self.counted["misses", missed] = misses
        return f'<span class="badge badge-miss">{self.counted["misses", missed]}</span>'

    def flags(self, severity: str, count: int) -> str:
        if ("flags", count) not in self.counted:
            self.counted["flags", count] = ngettext("%(n)s flag", "%(n)s flags", count) % {"n": escape(count)}
        return f'<span class="badge badge-{severity}">{self.counted["flags", count]}</span>'


class BureauRows:
    """The bureau's queue: one row per city of the province, with what the bureau may do with it."""

    def __init__(self, round_: Round):
        self.round = round_
        self.selectable = round_.status != RoundStatus.PUBLISHED
        self.open = round_.status == RoundStatus.OPEN
        self.badges = _Badges()
        self.detail = url_for("submissions:detail")
        self.edit = url_for("submissions:edit")
        self.extension = url_for("reviews:extension_new")
        self.deadline = escape(round_.deadline.strftime("%m-%d")) if round_.deadline else "—"
        self.zone = timezone.get_current_timezone()
        self.select = _("Select %(city)s")
        self.t = {
            key: _(msgid)  # a template's {% translate "…" %}: a literal, not escaped
            for key, msgid in {
                "review": "Review",
                "view": "View",
                "fill_in": "Fill in for the city",
                "start": "Start for the city",
                "extension": "Extension",
                "pending": "Scoring …",
                "again": "Being checked again; recomputed from the current data",
                "data_changed": "Data changed since the check; recomputed from the current data",
                "thresholds_changed": "Thresholds changed since the check; recomputed with the current ones",
                "none": "No city matches these filters.",
            }.items()
        }

    def render(self, rows: Iterable[QueueRow]) -> SafeString:
        html = "".join(self.row(row) for row in rows)
        return mark_safe(html or f'<tr><td colspan="7" class="empty">{self.t["none"]}</td></tr>')

    def row(self, row: QueueRow) -> str:
        t, s, city = self.t, row.submission, row.city
        code = escape(city.code)
        to_check = self.selectable and s is not None and s.status in _TO_CHECK
        select = ""
        if to_check:
            label = self.select % {"city": escape(city.name)}
            select = f'<input type="checkbox" name="ids" value="{s.pk:d}" aria-label="{label}">'
        kind = row.kind
        if s is None:
            changed = "—"
        else:
            changed = _minutes(s.updated_at, "%m-%d", self.zone)
            if s.updated_by:
                changed += f' <span class="muted small">{escape(s.updated_by)}</span>'
        if row.extension:
            until = escape(row.extension.until.strftime("%m-%d"))
            deadline = (
                f'<span class="badge badge-info" title="{escape(row.extension.reason)}">'
                f"{_('extended to %(d)s') % {'d': until}}</span>"
            )
        else:
            deadline = f'<span class="muted small">{self.deadline}</span>'
        actions = []
        if s is not None:
            actions.append(f'<a href="{self.detail(s.pk)}">{t["review"] if to_check else t["view"]}</a>')
        if self.open and (s is None or s.status in _TO_FILL):
            if s is not None:
                actions.append(f' · <a href="{self.edit(s.pk)}">{t["fill_in"]}</a>')
            else:
                actions.append(f'<button type="submit" form="start-{code}" class="btn-link">{t["start"]}</button>')
            actions.append(f' · <a href="{self.extension(city.code)}">{t["extension"]}</a>')
        return (
            f'\n<tr data-city="{code}">\n'
            f"  <td>{select}</td>\n"
            f'  <td class="nowrap"><strong>{escape(city.name)}</strong> {self.badges.kind(kind)}</td>\n'
            f"  <td>{self.badges.status(row.status, kind)}</td>\n"
            f"  <td>{self.check(row)}</td>\n"
            f'  <td class="nowrap">{changed}</td>\n'
            f"  <td>{deadline}</td>\n"
            f'  <td class="nowrap">{chr(10).join(actions)}</td>\n'
            "</tr>"
        )

    def check(self, row: QueueRow) -> str:
        """The automatic check: the latest score's, or the current data judged now when that score no
        longer describes them."""
        s, badges = row.submission, self.badges
        if row.current is not None:
            if s.scoring_state == ScoringState.PENDING:
                why = self.t["again"]
            elif s.data_changed_since_score:
                why = self.t["data_changed"]
            else:
                why = self.t["thresholds_changed"]
            return (
                f"{badges.check(row.current.meets_all, row.current.missed)}\n"
                f'<div class="muted small" data-testid="recomputed">{why}</div>'
            )
        if s is not None and s.scoring_state == ScoringState.SCORED:
            html = badges.check(s.meets_all, s.missed_count)
            if s.flag_severity == 3:
                html += "\n" + badges.flags("critical", s.flags_count)
            elif s.flags_count:
                html += "\n" + badges.flags("warning" if s.flag_severity == 2 else "info", s.flags_count)
            return html
        if s is not None and s.scoring_state == ScoringState.PENDING:
            return f'<span class="muted small">{self.t["pending"]}</span>'
        return '<span class="muted">—</span>'


class MinistryRows:
    """A page of the ministry's queue: one row per recommended form, with the link to decide on it."""

    def __init__(self, round_: Round):
        self.selectable = not round_.is_frozen
        self.published = round_.status == RoundStatus.PUBLISHED
        self.badges = _Badges()
        self.detail = url_for("submissions:detail")
        self.t = {"review": _("Review"), "view": _("View")}
        self.zone = timezone.get_current_timezone()
        self.select = _("Select %(city)s")
        self.provinces: dict[str, str] = {}  # each province's name in the current language, escaped
        if self.published:
            self.none = _("Every recommended city was decided before publication.")
        else:
            self.none = _("Nothing is waiting for a decision.")

    def render(self, submissions: Iterable[Submission]) -> SafeString:
        html = "".join(self.row(s) for s in submissions)
        return mark_safe(html or f'<tr><td colspan="6" class="empty">{self.none}</td></tr>')

    def row(self, s: Submission) -> str:
        city = s.city
        select = ""
        if self.selectable:
            label = self.select % {"city": escape(city.name)}
            select = f'<input type="checkbox" name="ids" value="{s.pk:d}" aria-label="{label}">'
        if s.scoring_state == ScoringState.SCORED:
            check = self.badges.check(s.meets_all, s.missed_count)
            if s.flags_count:
                severity = {3: "critical", 2: "warning"}.get(s.flag_severity, "info")
                check += "\n" + self.badges.flags(severity, s.flags_count)
        else:
            check = f'<span class="muted small">{escape(s.get_scoring_state_display())}</span>'
        if self.published:
            link = f'<a class="btn btn-small" href="{self.detail(s.pk)}">{self.t["view"]}</a>'
        else:
            link = f'<a class="btn btn-small btn-primary" href="{self.detail(s.pk)}">{self.t["review"]}</a>'
        return (
            "\n<tr>\n"
            f"  <td>{select}</td>\n"
            f"  <td><strong>{escape(city.name)}</strong> {self.badges.kind(s.kind)}</td>\n"
            f"  <td>{self.province(city)}</td>\n"
            f"  <td>{check}</td>\n"
            f"  <td>{_minutes(s.updated_at, '%Y-%m-%d', self.zone)}</td>\n"
            f"  <td>{link}</td>\n"
            "</tr>"
        )

    def province(self, city) -> str:
        if city.province_id not in self.provinces:
            self.provinces[city.province_id] = escape(city.province.display_name)
        return self.provinces[city.province_id]
