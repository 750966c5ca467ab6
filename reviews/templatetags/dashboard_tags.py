"""Numbers on the dashboards: MIIT's precision (one decimal for shares and per-10k figures, whole
numbers for counts), thousands separators, and a dash where there is no figure."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template
from django.utils.formats import date_format
from django.utils.html import format_html, json_script
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from gigacity.html import escape, localized, url_for
from gigacity.templatetags.gigacity_tags import get_item, indicator, status_badge
from indicators.catalogue import INDICATORS
from reviews.dashboards import ChartEncoder

register = template.Library()


@register.filter
def fixed(value, decimals=1) -> str:
    """1234.56 → "1,234.6"; None → "—"."""
    if value in (None, ""):
        return "—"
    return f"{Decimal(value):,.{int(decimals)}f}"


@register.filter
def measure(value, decimals=1) -> str:
    """A threshold as MIIT writes its figures, at the indicator's precision (50,000 users; 80.0 %),
    without rounding away a digit the value has (a threshold of 12.35 stays 12.35); None → "—"."""
    if value in (None, ""):
        return "—"
    value = Decimal(value)
    places = max(int(decimals), -value.normalize().as_tuple().exponent)
    return f"{value:,.{places}f}"


@register.filter
def percent(value) -> str:
    """A share already in percent: 12.34 → "12.3%"."""
    if value in (None, ""):
        return "—"
    return f"{Decimal(value):,.1f}%"


@register.filter
def signed_difference(value, other) -> str:
    """value − other with its sign, at one decimal ("+12.3", "−0.4"); "—" when either is missing."""
    if value in (None, "") or other in (None, ""):
        return "—"
    difference = Decimal(value) - Decimal(other)
    sign = "+" if difference >= 0 else "−"
    return f"{sign}{abs(difference):,.1f}"


@register.filter
def share_of(part, whole) -> float:
    """part as a percentage of whole, for bar widths (0 when whole is 0)."""
    try:
        return round(float(part) * 100 / float(whole), 1) if whole else 0.0
    except (TypeError, ValueError):
        return 0.0


@register.filter
def css_number(value) -> str:
    """A number for a style attribute, always with a decimal point whatever the locale."""
    return f"{float(value or 0):.1f}"


@register.filter
def chart_json(value, element_id: str) -> SafeString:
    """`json_script` of a dashboard's chart data, its numbers as JSON numbers (`ChartEncoder`)."""
    return json_script(value, element_id, encoder=ChartEncoder)


@register.filter
def lookup(mapping, key):
    return mapping.get(key) if mapping else None


# Column headers of the city table: the full names do not fit seven columns at 1366 pixels; the
# full name is in the header's title.
SHORT_NAMES = {
    "fiber_gigabit_coverage": _("Gigabit fibre (%)"),
    "pon_10g_share": _("10G-PON (%)"),
    "key_sites_5g_reach": _("Key sites 5G (%)"),
    "bs5g_per_10k": _("5G stations /10k"),
    "users_500m_share": _("≥500M users (%)"),
    "users_1000m": _("1000M users"),
    "users_5g_share": _("5G users (%)"),
}


@register.filter
def short_indicator(code: str) -> str:
    return str(SHORT_NAMES.get(code, code))


@register.simple_tag
def sparkline(values, width=72, height=20):
    """A small line of a figure over the rounds, as inline SVG (no script, no style attribute: the
    page's content security policy allows it). Missing rounds leave a gap; the words are beside it."""
    points = [(i, float(v)) for i, v in enumerate(values) if v is not None]
    if len(points) < 2:
        return ""
    low = min(v for _i, v in points)
    high = max(v for _i, v in points)
    span = (high - low) or 1.0
    step = (width - 4) / max(len(values) - 1, 1)

    def xy(i: int, v: float) -> str:
        return f"{2 + i * step:.1f},{height - 2 - (v - low) / span * (height - 4):.1f}"

    path = " ".join(xy(i, v) for i, v in points)
    last = xy(*points[-1]).split(",")
    return format_html(
        '<svg class="sparkline" width="{}" height="{}" viewBox="0 0 {} {}" aria-hidden="true" focusable="false">'
        '<polyline points="{}" fill="none" stroke="#1b4f8f" stroke-width="1.5"/>'
        '<circle cx="{}" cy="{}" r="2" fill="#c8102e"/></svg>',
        width,
        height,
        width,
        height,
        path,
        last[0],
        last[1],
    )


# ------------------------------------------------------------------------------------------------
# Tables written here rather than by a template loop: the same HTML, for the rows the dashboards
# repeat most (70 leaders, 31 provinces × 8 statuses), where the template machinery cost more than
# the figures (issue 16).
# ------------------------------------------------------------------------------------------------
@register.simple_tag
def leader_rows(block: dict[str, Any], d: dict[str, Any]) -> SafeString:
    """The rows of one indicator's leaders table (`reviews/includes/leaders.html`)."""
    e = escape
    detail = url_for("submissions:detail")
    national = d["scope"]["level"] == "national"
    if national:
        province_url, year = url_for("reviews:province_dashboard"), d["round"]["year"]
    gigabit_city, batch_of = e(gettext("Gigabit City")), gettext("%(year)s batch")
    badges: dict[tuple[str, str], str] = {}  # a handful of (status, kind) among the rows
    out = []
    for row in block["rows"]:
        batch = ""
        if row["batch"]:
            batch = (
                f'<span class="badge badge-gigabit" title="{gigabit_city}">'
                f"{batch_of % {'year': e(row['batch'])}}</span>"
            )
        badge = badges.get((row["status"], row["kind"]))
        if badge is None:
            badge = badges[row["status"], row["kind"]] = status_badge(row["status"], kind=row["kind"])
        province = ""
        if national:
            province = (
                f'<td><a href="{e(province_url(row["province"]))}?round={e(year)}">{e(row["province_name"])}</a></td>'
            )
        out.append(
            "\n            <tr>\n"
            f'              <td class="num">{e(row["rank"])}</td>\n'
            f'              <td><a href="{e(detail(row["submission"]))}">{e(row["city_name"])}</a>\n'
            f"                {batch}</td>\n"
            f"              {province}\n"
            f'              <td class="num">{e(fixed(row["value"], block["decimals"]))}</td>\n'
            f'              <td class="num muted">{e(signed_difference(row["value"], block["mean"]))}</td>\n'
            f"              <td>{badge}</td>\n"
            "            </tr>\n"
            "          "
        )
    return mark_safe("".join(out))  # every value escaped above


def status_cells(statuses: dict[str, int], strip: list[dict[str, Any]]) -> SafeString:
    """A province's count of forms in each status, one cell each (`national_dashboard_body.html`)."""
    cells = []
    for s in strip:
        count = statuses.get(s["key"]) if statuses else None
        cells.append(f'<td class="num{"" if count else " zero"}">{escape(count)}</td>')
    return mark_safe("".join(cells))  # numbers


@register.simple_tag
def province_rows(d: dict[str, Any], strip: list[dict[str, Any]], year: int) -> SafeString:
    """The rows of the national dashboard's table of provinces (`national_dashboard_body.html`)."""
    e = escape
    dashboard = url_for("reviews:province_dashboard")
    out = []
    for p in d["provinces"]:
        progress = p["progress"]
        out.append(
            "\n      <tr>\n"
            f'        <th scope="row" data-value="{e(localized(p["code"]))}"><a href="{dashboard(p["code"])}?round='
            f'{e(localized(year))}">{e(localized(p["name"]))}</a></th>\n'
            f"        <td>{e(localized(p['region_label']))}</td>\n"
            f'        <td class="num">{e(localized(p["units"]))}</td>\n'
            f"        {status_cells(p['statuses'], strip)}\n"
            f'        <td class="progress-cell" data-value="{e(localized("" if progress is None else progress))}">'
            f'<span class="progress" aria-hidden="true"><span style="width: {e(css_number(progress))}%"></span></span> '
            f'<span class="num">{e(percent(progress))}</span></td>\n'
            f'        <td class="num">{e(localized(p["named"]))}</td>\n'
            f'        <td class="num">{e(localized(p["named_in_round"]))}</td>\n'
            "      </tr>\n"
            "    "
        )
    return mark_safe("".join(out))  # every value escaped above


_REASON_BADGES = {"not_confirmed": "critical", "not_reported": "warning"}


@register.simple_tag
def watch_rows(rows: list[dict[str, Any]], reasons: dict[str, str]) -> SafeString:
    """The rows of the watch list's table (`reviews/includes/watch_rows.html`): the whole list on its
    page, the first rows on the dashboards. Translations are written as `{% translate %}` and
    `{% blocktranslate %}` write them: the text as translated, its values escaped."""
    if not rows:
        empty = gettext("No Gigabit City is on the watch list.")
        return mark_safe(f'\n    <tr><td colspan="7" class="empty">{empty}</td></tr>\n  ')  # as {% translate %}
    e = escape
    detail = url_for("submissions:detail")
    round_of, improve_by, deadline_on, since = (
        gettext("%(year)s round"),
        gettext("improve by %(date)s"),
        gettext("deadline %(date)s"),
        gettext("since %(year)s"),
    )
    published = '<div class="small muted">' + gettext("published figures") + "</div>"
    view = gettext("View")
    out = []
    for w in rows:
        badges = "".join(
            f'<span class="badge badge-{_REASON_BADGES.get(r, "miss")}">{e(localized(get_item(reasons, r)))}</span> '
            for r in w["reasons"]
        )
        notes = ""
        if w["improvement_due"]:
            due = e(date_format(w["improvement_due"], "Y-m-d"))
            notes += '<div class="small">' + improve_by % {"date": due} + "</div>"
        notes += "\n        "
        if "not_reported" in w["reasons"] and w["deadline"]:
            deadline = e(date_format(w["deadline"], "Y-m-d"))
            notes += '<div class="small muted">' + deadline_on % {"date": deadline} + "</div>"
        below = "".join(_below_threshold(b) for b in w["below"]) or "—"
        count = w["rounds"]
        rounds = ngettext("%(n)s round", "%(n)s rounds", count) % {"n": e(localized(count))}
        if count > 1:
            rounds += '<div class="small muted">' + since % {"year": e(localized(w["since"]))} + "</div>"
        link = f'<a href="{detail(w["submission"])}">{view}</a>' if w["submission"] else ""
        source = published if w["source"] == "published" else ""
        out.append(
            f'\n    <tr data-city="{e(localized(w["city"]))}">\n'
            f'      <th scope="row">{e(localized(w["city_name"]))}</th>\n'
            f"      <td>{e(localized(w['province_name']))}</td>\n"
            f"      <td>{round_of % {'year': e(localized(w['batch']))}}</td>\n"
            f"      <td>{badges}\n        {notes}</td>\n"
            f"      <td>{below}\n        {source}</td>\n"
            f'      <td class="num" data-testid="watch-rounds">{rounds}</td>\n'
            f"      <td>{link}</td>\n"
            "    </tr>\n  "
        )
    return mark_safe("".join(out))  # every value escaped above, the translations as {% translate %} writes them


def _below_threshold(b: dict[str, Any]) -> str:
    """One indicator of a watched city below its threshold: value / threshold (by how much)."""
    code = b["code"]
    relative = "" if b["relative"] is None else ", " + escape(localized(b["relative"])) + "%"
    return (
        f"<div>{escape(localized(b['name']))}: {escape(indicator(b['value'], code))} / "
        f"{escape(indicator(b['threshold'], code))} "
        f'<span class="muted">({escape(indicator(b["margin"], code))}{relative})</span></div>'
    )


# A city's days to the deadline count only while the form is still with it.
_WITH_THE_CITY = ("not_started", "draft", "returned")


@register.simple_tag
def city_table_rows(d: dict[str, Any], round_status: str) -> SafeString:
    """The rows of the provincial dashboard's city table (`province_dashboard.html`): a province's
    cities, each with its state, deadline, days left while the round is open and its seven figures."""
    e = escape
    detail = url_for("submissions:detail")
    extended = f' <span class="badge badge-info">{e(gettext("extended"))}</span>'
    reported = f'<span class="muted">{e(gettext("reported"))}</span>'
    below = f' title="{e(gettext("Below the threshold"))}"'
    specs = [(spec.code, spec.decimals) for spec in INDICATORS]
    days_column = round_status != "published"
    out = []
    for c in d["cities"]:
        name = e(c["name"])
        if c["submission"]:
            name = f'<a href="{detail(c["submission"])}">{name}</a>'
        deadline = c["deadline"].strftime("%Y-%m-%d") if c["deadline"] else "—"
        days = ""
        if days_column:
            if c["status"] in _WITH_THE_CITY:
                left = c["days_to_deadline"]
                if left is None:
                    days = '<td class="num" data-value="">—</td>'
                else:
                    urgency = "late" if left < 0 else "urgent" if left <= 7 else ""
                    days = f'<td class="num" data-value="{e(left)}"><span class="{urgency}">{e(left)}</span></td>'
            else:
                days = f'<td class="num" data-value="">{reported}</td>'
        figures = []
        for code, decimals in specs:
            miss = c["passed"].get(code) is False
            figures.append(
                f'\n          <td class="num{" miss" if miss else ""}"{below if miss else ""}>'
                f"{e(fixed(c['values'].get(code), decimals))}</td>\n        "
            )
        batch = ""
        if c["batch"]:
            batch = f'<span class="badge badge-gigabit">{gettext("%(year)s batch") % {"year": e(c["batch"])}}</span>'
        out.append(
            "\n      <tr>\n"
            f'        <th scope="row" data-value="{e(c["code"])}">{name}</th>\n'
            f"        <td>{status_badge(c['status'], c['status_label'])}</td>\n"
            f'        <td class="nowrap">{deadline}{extended if c["extended"] else ""}</td>\n'
            f"        {days}\n"
            f"        {''.join(figures)}\n"
            f"        <td>{batch}</td>\n"
            "      </tr>\n"
            "    "
        )
    return mark_safe("".join(out))  # every value escaped above
