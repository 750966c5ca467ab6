"""Comparing a city's counts with the telecom operators' figures (issue 13): pure functions of plain
data, like `indicators.rules`, so that generated cases can check them.

For each input that operators hold (`catalogue.OPERATOR_INPUTS`) the city's figure is set beside the
sum over the operators that reported it. The difference is within the tolerance when
|city − sum| ≤ tolerance % × sum (a sum of 0 then allows only 0). A count no operator has reported
yet is flagged as such; a count outside the tolerance is flagged with both numbers and the operators
that have not reported it (their share is missing from the sum, which is often the reason).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .catalogue import INDICATORS, INPUTS_BY_NAME, OPERATOR_INPUTS
from .rules import Flag, Severity

MISMATCH = "operator_mismatch"
UNREPORTED = "operator_unreported"

# The indicator an input feeds, so that a flag sits beside its indicator on the review page.
INDICATOR_OF_INPUT = {name: spec.code for spec in INDICATORS for name in spec.inputs}


@dataclass(frozen=True)
class FigureComparison:
    """One input: the city's figure beside the operators' sum."""

    input: str
    city: int | None
    total: int | None  # sum over the operators that reported it; None when none did
    shares: dict[str, int]  # operator code → its count, for the operators that reported it
    missing: tuple[str, ...]  # operator codes that have not reported it
    difference: int | None  # city − total
    relative: Decimal | None  # difference ÷ total × 100 (None when the sum is 0 or either is missing)
    within: bool | None  # None: nothing to compare

    def as_dict(self) -> dict[str, Any]:
        return {
            "input": self.input,
            "city": self.city,
            "total": self.total,
            "shares": dict(self.shares),
            "missing": list(self.missing),
            "difference": self.difference,
            "relative": None if self.relative is None else str(self.relative),
            "within": self.within,
        }


@dataclass(frozen=True)
class Comparison:
    rows: tuple[FigureComparison, ...]
    flags: tuple[Flag, ...]

    @property
    def state(self) -> str:
        """consistent, mismatch or unreported (see submissions.models.FiguresCheck)."""
        if any(row.within is False for row in self.rows):
            return "mismatch"
        if any(row.total is None for row in self.rows):
            return "unreported"
        return "consistent"

    def as_dicts(self) -> list[dict[str, Any]]:
        return [row.as_dict() for row in self.rows]


def within_tolerance(city: int, total: int, tolerance: Decimal) -> bool:
    """|city − total| ≤ tolerance % of total, in exact arithmetic."""
    return abs(city - total) * 100 <= Decimal(tolerance) * total


def compare(
    *,
    city: Mapping[str, int | None],
    operators: Mapping[str, Mapping[str, int | None]],
    operator_codes: Sequence[str],
    tolerance: Decimal,
    names: Mapping[str, str] | None = None,
    names_en: Mapping[str, str] | None = None,
) -> Comparison:
    """Compare the city's inputs with the operators' figures.

    `operators` maps an operator's code to the counts it reported (an absent or None count: not
    reported); `operator_codes` lists every operator expected to report, in display order; `names`
    and `names_en` give the operators' Chinese and English names for the two messages (default: the
    Chinese name in the English message too, then the code)."""
    names = names or {}
    names_en = {code: (names_en or {}).get(code) or names.get(code, code) for code in operator_codes}
    rows: list[FigureComparison] = []
    flags: list[Flag] = []
    for name in OPERATOR_INPUTS:
        shares = {
            code: operators[code][name] for code in operator_codes if operators.get(code, {}).get(name) is not None
        }
        missing = tuple(code for code in operator_codes if code not in shares)
        city_value = city.get(name)
        total = sum(shares.values()) if shares else None
        difference = relative = within = None
        if total is not None and city_value is not None:
            difference = city_value - total
            relative = (Decimal(difference) * 100 / total).quantize(Decimal("0.01")) if total else None
            within = within_tolerance(city_value, total, tolerance)
        rows.append(FigureComparison(name, city_value, total, shares, missing, difference, relative, within))
        spec = INPUTS_BY_NAME[name]
        missing_zh = "、".join(names.get(code, code) for code in missing)
        if total is None:
            flags.append(
                Flag(
                    UNREPORTED,
                    Severity.INFO,
                    INDICATOR_OF_INPUT.get(name),
                    f"尚无运营商报送“{spec.label_zh}”，无法与城市填报数核对（城市填报 {_n(city_value)}）。",
                    f"No operator has reported “{spec.label_en}” yet, so the city's figure "
                    f"({_n(city_value)}) cannot be checked.",
                )
            )
        elif within is False:
            percent = "—" if relative is None else f"{relative:+}%"
            tail_zh = f"；未报送的运营商：{missing_zh}" if missing else ""
            tail_en = f"; operators not reported: {', '.join(names_en[code] for code in missing)}" if missing else ""
            flags.append(
                Flag(
                    MISMATCH,
                    Severity.WARNING,
                    INDICATOR_OF_INPUT.get(name),
                    f"“{spec.label_zh}”城市填报 {_n(city_value)}，运营商合计 {_n(total)}，相差 {difference:+,}"
                    f"（{percent}），超出允许偏差 {_pct(tolerance)}{tail_zh}。",
                    f"“{spec.label_en}”: the city reports {_n(city_value)}, the operators {_n(total)} in all, "
                    f"a difference of {difference:+,} ({percent}), beyond the tolerance of {_pct(tolerance)}{tail_en}.",
                )
            )
    return Comparison(tuple(rows), tuple(flags))


def flag_details(comparison: Comparison) -> list[dict[str, Any]]:
    """The numbers behind each flag of `comparison`, in the same order as its flags."""
    details = []
    for row in comparison.rows:
        if row.total is None or row.within is False:
            details.append({"input": row.input, "city": row.city, "operators": row.total, "missing": list(row.missing)})
    return details


def _n(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"


def _pct(value: Decimal) -> str:
    return f"{Decimal(value).normalize():f}%"
