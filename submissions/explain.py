"""Explain a score: for every indicator of a form, how its number came about and what it means, in
words a city official understands (issue 15, item 4).

Nothing here judges anew: the value, threshold, pass/miss, margin and flags are those of the
worker's own `compute_score` run on the form's current data against the round's current thresholds
(what the worker would write now); last round's value and the position among the round's cities come
from the same reads the worker uses (`previous_submission`, `peer_values`). This module only puts
the numbers into sentences.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from gigacity.i18n import pick
from indicators.catalogue import APPLICATIONS, CATALOGUE, INPUTS_BY_NAME, IndicatorSpec, Kind
from indicators.rules import FlagSettings, ScoringError, quantize

from .models import Flag, Submission
from .scoring import UNREAD, compute_score, peer_values
from .selectors import previous_submission


@dataclass(frozen=True)
class FlagExplanation:
    code: str
    severity: str  # info, warning, critical
    severity_label: str  # in the reader's language
    message: str
    rule: str


@dataclass
class IndicatorExplanation:
    code: str
    name: str
    unit: str
    inputs: list[dict]  # {"name", "label", "value"}
    formula: str  # the formula in words
    worked: str  # the formula with the numbers filled in
    value: Decimal | None
    threshold: Decimal | None
    passed: bool | None
    margin: Decimal | None
    margin_relative: Decimal | None
    judgement: str
    previous_year: int | None = None
    previous_value: Decimal | None = None
    change: Decimal | None = None
    change_relative: Decimal | None = None
    history: str = ""
    rank: int | None = None
    of: int | None = None
    percentile: Decimal | None = None
    position: str = ""
    flags: list[FlagExplanation] = field(default_factory=list)


@dataclass
class Explanation:
    indicators: list[IndicatorExplanation]
    other_flags: list[FlagExplanation]  # flags that concern no single indicator (e.g. late)
    meets_all: bool | None
    summary: str


def number(value: Decimal | int | None, spec: IndicatorSpec) -> str:
    """A value as MIIT publishes it, with its unit: 25.0%, 15.0个/万人, 50,000 users."""
    if value is None:
        return "—"
    text = f"{Decimal(value):,.{spec.decimals}f}"
    unit = pick(spec.unit_zh, spec.unit_en)
    return f"{text}{unit}" if unit == "%" or pick("zh", "en") == "zh" else f"{text} {unit}"


def _count(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"


def _input_label(name: str) -> str:
    spec = INPUTS_BY_NAME[name]
    return pick(spec.label_zh, spec.label_en)


def position_among(value: Decimal, others: list[Decimal]) -> tuple[int, int, Decimal | None]:
    """The form's rank among the round's cities (1 + how many others are higher; ties share a rank),
    their number with it, and the share of the others below it (a percentage, whole); `others` in
    ascending order (`scoring.peer_values`), searched rather than counted."""
    higher = len(others) - bisect_right(others, value)
    below = bisect_left(others, value)
    return 1 + higher, len(others) + 1, quantize(Decimal(below) * 100 / len(others), 0) if others else None


def _percent(value: Decimal) -> str:
    return f"{value * 100:+.1f}%"


def worked_formula(spec: IndicatorSpec, inputs: dict, value: Decimal | None, cases: int) -> str:
    """The formula with the form's own numbers filled in, ending in the value the rules computed."""
    if spec.kind == Kind.CASES:
        return _("%(n)s application cases entered") % {"n": cases}
    num = inputs.get(spec.numerator)
    parts = {"num_label": _input_label(spec.numerator), "num": _count(num), "value": number(value, spec)}
    if spec.kind == Kind.COUNT:
        return _("%(num_label)s = %(value)s") % parts
    parts.update(den_label=_input_label(spec.denominator), den=_count(inputs.get(spec.denominator)))
    if value is None:
        return _("%(num_label)s %(num)s ÷ %(den_label)s %(den)s: cannot be computed (a number is missing or 0)") % parts
    if spec.kind == Kind.SHARE:
        return _("%(num_label)s %(num)s ÷ %(den_label)s %(den)s × 100 = %(value)s") % parts
    return _("%(num_label)s %(num)s ÷ (%(den_label)s %(den)s ÷ 10,000) = %(value)s") % parts


def flag_rule(code: str, settings: FlagSettings, thresholds: dict[str, Decimal]) -> str:
    """The rule that raises a flag, with the round's own settings, in plain words."""
    pct = lambda fraction: f"{Decimal(fraction) * 100:.0f}%"  # noqa: E731
    rules = {
        "missing_value": _(
            "An indicator that cannot be computed (a number missing, or a denominator of 0) is flagged."
        ),
        "threshold_missed": _("A value below the round's threshold is flagged."),
        "borderline": _(
            "A value that passes its threshold by less than %(pct)s of the threshold is flagged as borderline, "
            "so that the figures behind it are checked."
        )
        % {"pct": pct(settings.borderline_margin)},
        "inconsistent_inputs": _(
            "A part can never be larger than its whole (for example, 5G users cannot exceed mobile phone users)."
        ),
        "implausible_value": _("A number beyond what is physically possible is usually a typing or unit error."),
        "population_changed": _(
            "A resident population that changed by more than %(pct)s against the previous round is flagged."
        )
        % {"pct": pct(settings.population_change_limit)},
        "large_jump": _("A value that changed by more than %(pct)s against the city's previous round is flagged.")
        % {"pct": pct(settings.jump_ratio)},
        "outlier": _(
            "A value far from those of the round's other cities is flagged: its robust z-score (distance from "
            "the median, measured in median absolute deviations) is above %(z)s."
        )
        % {"z": settings.outlier_z},
        "cases_insufficient": _("At least %(n)s application cases are required.")
        % {"n": f"{thresholds.get(APPLICATIONS.code, Decimal(5)):.0f}"},
        "cases_single_domain": _("Application cases are expected to cover more than one domain."),
        "late_submission": _("A form submitted after the deadline, under an extension, is noted."),
    }
    return rules.get(code, "")


def _distance(spec: IndicatorSpec, amount: Decimal) -> str:
    """A distance between a value and its line: percentage points for a share, the unit otherwise."""
    if spec.kind == Kind.SHARE:
        return _("%(n)s percentage points") % {"n": f"{amount:,.{spec.decimals}f}"}
    if spec.kind == Kind.CASES:
        n = int(amount)
        return ngettext("%(n)s case", "%(n)s cases", n) % {"n": n}
    return number(amount, spec)


def _judgement(spec: IndicatorSpec, value, threshold, passed, margin, relative) -> str:
    if threshold is None:
        return _("The round has no threshold for this indicator yet.")
    if value is None:
        return _("Cannot be judged until the value can be computed; the threshold is %(t)s.") % {
            "t": number(threshold, spec)
        }
    parts = {"t": number(threshold, spec), "m": _distance(spec, abs(margin)), "r": ""}
    if relative is not None:
        parts["r"] = f"{abs(relative) * 100:.1f}%"
    if passed and relative is not None:
        return _("Meets the threshold of %(t)s: %(m)s above it (%(r)s above the line).") % parts
    if passed:
        return _("Meets the threshold of %(t)s: %(m)s above it.") % parts
    if relative is not None:
        return _("Below the threshold of %(t)s by %(m)s (%(r)s short of the line).") % parts
    return _("Below the threshold of %(t)s by %(m)s.") % parts


def _position(rank: int, of: int, percentile: Decimal | None) -> str:
    if of == 1:
        return _("No other city has reported this round yet, so there is nothing to compare with.")
    return _(
        "Ranks %(rank)s of %(of)s cities that have reported this round (highest first); "
        "higher than %(pct)s%% of the others."
    ) % {"rank": rank, "of": of, "pct": f"{percentile:.0f}"}


def score_explanation(submission: Submission, previous: Submission | object | None = UNREAD) -> Explanation:
    """The explanation of the form's current data against the round's current thresholds (read with
    the round when it was prefetched). `previous`: the city's previous reported form
    (`previous_submission`), when the caller has read it already."""
    thresholds = submission.round.threshold_map()
    settings = submission.round.flag_settings
    inputs = submission.checked_inputs
    cases = len(submission.cases.all())
    if previous is UNREAD:
        previous = previous_submission(submission)
    # Only counts below and above this form's value are told: no other city's figure is disclosed.
    peers = peer_values(submission)
    try:
        result = compute_score(submission, thresholds, previous=previous, peers=peers)
    except ScoringError:
        result = None
    judged = {r.code: r for r in result.results} if result else {}
    flags_by_indicator: dict[str | None, list[FlagExplanation]] = {}
    for flag in result.flags if result else []:
        flags_by_indicator.setdefault(flag.indicator, []).append(
            FlagExplanation(
                flag.code,
                flag.severity.label,
                str(Flag.Severity(int(flag.severity)).label),
                pick(flag.message_zh, flag.message_en),
                flag_rule(flag.code, settings, thresholds),
            )
        )

    explained = []
    for spec in CATALOGUE:
        r = judged.get(spec.code)
        value = r.value if r else getattr(submission, f"value_{spec.code}", None)
        if spec.kind == Kind.CASES:
            value = Decimal(cases)
        threshold = thresholds.get(spec.code)
        item = IndicatorExplanation(
            code=spec.code,
            name=pick(spec.name_zh, spec.name_en),
            unit=pick(spec.unit_zh, spec.unit_en),
            inputs=[{"name": n, "label": _input_label(n), "value": inputs.get(n)} for n in spec.inputs],
            formula=pick(spec.formula_zh, spec.formula_en),
            worked=worked_formula(spec, inputs, value, cases),
            value=value,
            threshold=threshold,
            passed=r.passed if r else None,
            margin=r.margin if r else None,
            margin_relative=r.margin_relative if r else None,
            judgement=_judgement(
                spec,
                value,
                threshold,
                r.passed if r else None,
                r.margin if r else None,
                r.margin_relative if r else None,
            ),
            flags=flags_by_indicator.get(spec.code, []),
        )
        if previous is not None:
            old = (
                Decimal(len(previous.cases.all()))
                if spec.kind == Kind.CASES
                else getattr(previous, f"value_{spec.code}")
            )
            item.previous_year, item.previous_value = previous.round.year, old
            if old is not None and value is not None:
                item.change = value - old
                item.change_relative = quantize((value - old) / old, 4) if old else None
                item.history = _("%(year)s: %(old)s; change %(sign)s%(change)s%(rel)s.") % {
                    "year": previous.round.year,
                    "old": number(old, spec),
                    "sign": "+" if item.change >= 0 else "−",
                    "change": _distance(spec, abs(item.change)),
                    "rel": _(" (%(r)s)") % {"r": _percent(item.change_relative)}
                    if item.change_relative is not None
                    else "",
                }
            else:
                item.history = _("%(year)s: %(old)s.") % {"year": previous.round.year, "old": number(old, spec)}
        if spec.code in peers and value is not None:
            item.rank, item.of, item.percentile = position_among(value, peers[spec.code])
            item.position = _position(item.rank, item.of, item.percentile)
        explained.append(item)

    if result is None:
        summary = _("The round's thresholds are incomplete, so the form cannot be judged yet.")
    elif result.meets_all:
        summary = _("With the current data, every indicator meets the round's threshold.")
    else:
        summary = _("With the current data, %(n)s of %(total)s requirements are below the round's threshold.") % {
            "n": result.missed,
            "total": len(CATALOGUE),
        }
    return Explanation(explained, flags_by_indicator.get(None, []), result.meets_all if result else None, summary)


def explanation_payload(explanation: Explanation) -> dict:
    """The explanation for the API: exact numbers as strings, sentences in the caller's language."""

    def text(value: Decimal | None) -> str | None:
        return None if value is None else str(value)

    def flag(f: FlagExplanation) -> dict:
        return {"code": f.code, "severity": f.severity, "message": f.message, "rule": f.rule}

    return {
        "meets_all": explanation.meets_all,
        "summary": explanation.summary,
        "indicators": [
            {
                "code": i.code,
                "name": i.name,
                "unit": i.unit,
                "inputs": i.inputs,
                "formula": i.formula,
                "worked": i.worked,
                "value": text(i.value),
                "threshold": text(i.threshold),
                "passed": i.passed,
                "margin": text(i.margin),
                "margin_relative": text(i.margin_relative),
                "judgement": i.judgement,
                "previous": None
                if i.previous_year is None
                else {
                    "year": i.previous_year,
                    "value": text(i.previous_value),
                    "change": text(i.change),
                    "change_relative": text(i.change_relative),
                    "text": i.history,
                },
                "position": None
                if i.rank is None
                else {"rank": i.rank, "of": i.of, "percentile": text(i.percentile), "text": i.position},
                "flags": [flag(f) for f in i.flags],
            }
            for i in explanation.indicators
        ],
        "other_flags": [flag(f) for f in explanation.other_flags],
    }
