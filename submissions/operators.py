"""Operators' figures (issue 13): the one write path for the page, the workbook and the API, the
reads behind them, and the round's tolerance.

A report is a list of city rows for one operator and one round. It is checked whole (every problem
on its cell, nothing saved when there is any), then each row whose counts differ from the operator's
current figures for that city becomes a new `OperatorFigure` row: the old one stays, so every
figure ever reported is on record. The cities' reported forms are then marked for scoring again,
through the same pending/claim/sweep path as any score: the comparison is never computed in the
request.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count
from django.utils.translation import gettext as _

from gigacity.audit import audit_record
from gigacity.errors import Conflict, RoleNotAllowed, StaleVersion
from gigacity.models import AuditKind, City, Role, User
from indicators.catalogue import INPUTS_BY_NAME, OPERATOR_INPUTS
from indicators.models import Operator, Round, RoundStatus, ToleranceChange

from .models import OperatorFigure, OperatorFigureSource
from .scoring import request_city_rescoring, request_round_rescoring

# Operators report while a round is open or closed (decisions may still be taken): not before the
# round is open, not after its list is published.
REPORTING_STATES = (RoundStatus.OPEN, RoundStatus.CLOSED)

# A part may not exceed its whole, in one operator's figures too.
PARTS = (
    ("pon_10g_ports", "pon_ports_total"),
    ("users_1000m", "users_500m_plus"),
    ("users_500m_plus", "broadband_users_total"),
    ("users_5g", "mobile_users_total"),
)


@dataclass
class FigurePlan:
    """What a report changes for one city: the counts before and after (None: not reported)."""

    city: str
    city_name: str
    changes: list[dict[str, Any]] = field(default_factory=list)  # [{input, label, old, new}]
    figure_id: int | None = None

    @property
    def has_changes(self) -> bool:
        return bool(self.changes)


@dataclass
class FigureReport:
    operator: str
    round: int
    on_behalf: bool
    dry_run: bool
    plans: list[FigurePlan] = field(default_factory=list)
    rescored: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "plans": [asdict(plan) for plan in self.plans]}


def reporting_operator(*, actor: User, operator_code: str | None) -> tuple[Operator, bool]:
    """The operator a report is for, and whether it is made on its behalf. An operator's branch reports
    its own figures; a bureau may report any operator's for its province (on its behalf)."""
    if actor.role == Role.OPERATOR:
        if operator_code and operator_code != actor.operator_id:
            raise ValidationError(
                {
                    "operator": [
                        _("Your account reports the figures of %(own)s only, not of %(other)s.")
                        % {"own": actor.operator, "other": _operator_name(operator_code)}
                    ]
                }
            )
        return actor.operator, False
    if actor.role == Role.BUREAU:
        operator = Operator.objects.filter(code=operator_code or "").first()
        if operator is None:
            raise ValidationError({"operator": [_("Choose the telecom operator whose figures these are.")]})
        return operator, True
    raise RoleNotAllowed(_("Only a telecom operator's provincial branch, or its bureau, reports operators' figures."))


def reporting_round(round_: Round) -> Round:
    round_ = Round.objects.get(pk=round_.pk)  # its status as it is now, not as the caller read it
    if round_.status not in REPORTING_STATES:
        raise Conflict(
            _("Operators' figures can be reported while a round is open or closed; the %(year)s round is “%(status)s”.")
            % {"year": round_.year, "status": RoundStatus(round_.status).label}
        )
    return round_


def clean_count(raw: Any, name: str) -> tuple[int | None, str | None]:
    """A count as typed (number, text with thousands separators, blank) → (value, problem)."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None, None
    if isinstance(raw, bool):
        return None, _("Enter a whole number.")
    try:
        value = Decimal(str(raw).strip().replace(",", "").replace("，", ""))
    except (InvalidOperation, ValueError):
        return None, _("Enter a whole number.")
    if not value.is_finite() or value != value.to_integral_value():
        return None, _("Enter a whole number.")
    if value < 0:
        return None, _("A count cannot be negative.")
    maximum = INPUTS_BY_NAME[name].maximum
    if value > maximum:
        return None, _("At most %(max)s: a larger count is not possible for one city.") % {"max": f"{maximum:,}"}
    return int(value), None


def operator_figures_report(
    *,
    actor: User,
    round_: Round,
    operator_code: str | None,
    rows: Sequence[Mapping[str, Any]],
    source: str,
    dry_run: bool = False,
) -> FigureReport:
    """Check and record an operator's counts for cities of the actor's province.

    `rows`: [{"city": "370200", "pon_10g_ports": 1200, …}]; a count left out or blank is one the
    operator does not report. Problems are raised together as a ValidationError keyed
    `rows[i].field`; nothing is saved then. A row whose counts equal the current ones is left alone;
    a wholly blank row too (the city's figures stay as they are)."""
    operator, on_behalf = reporting_operator(actor=actor, operator_code=operator_code)
    round_ = reporting_round(round_)
    if source not in OperatorFigureSource.values:
        raise ValueError(f"unknown source {source!r}")
    province_id = actor.province_id
    cities = {city.code: city for city in City.objects.filter(province_id=province_id)}
    errors: dict[str, list[str]] = {}
    cleaned: list[tuple[City, dict[str, int | None]]] = []
    seen: dict[str, int] = {}
    for index, row in enumerate(rows):
        code = str(row.get("city") or "").strip()
        key = f"rows[{index}]"
        if code not in cities:
            errors[f"{key}.city"] = [
                _("%(code)s is not a city of %(province)s.") % {"code": code or "—", "province": actor.province}
                if code
                else _("Enter the city's six-digit administrative code.")
            ]
            continue
        if code in seen:
            errors[f"{key}.city"] = [
                _("%(city)s appears twice (also in row %(row)s); give each city once.")
                % {"city": cities[code].name, "row": seen[code] + 1}
            ]
            continue
        seen[code] = index
        values: dict[str, int | None] = {}
        for name in OPERATOR_INPUTS:
            value, problem = clean_count(row.get(name), name)
            if problem:
                errors[f"{key}.{name}"] = [problem]
            values[name] = value
        for part, whole in PARTS:
            if values.get(part) is not None and values.get(whole) is not None and values[part] > values[whole]:
                errors[f"{key}.{part}"] = [
                    _("“%(part)s” (%(p)s) cannot exceed “%(whole)s” (%(w)s).")
                    % {
                        "part": INPUTS_BY_NAME[part].label_zh,
                        "p": f"{values[part]:,}",
                        "whole": INPUTS_BY_NAME[whole].label_zh,
                        "w": f"{values[whole]:,}",
                    }
                ]
        cleaned.append((cities[code], values))
    unknown = sorted({k for row in rows for k in row} - {"city", "city_name", *OPERATOR_INPUTS})
    if unknown:
        errors["rows"] = [_("Unknown fields: %(names)s") % {"names": ", ".join(unknown)}]
    if errors:
        raise ValidationError(errors)

    report = FigureReport(operator=operator.code, round=round_.year, on_behalf=on_behalf, dry_run=dry_run)
    with transaction.atomic():
        current = {
            f.city_id: f
            for f in OperatorFigure.objects.filter(
                round=round_, operator=operator, city_id__in=[c.code for c, _v in cleaned]
            ).current()
        }
        for city, values in cleaned:
            before = current[city.code].values if city.code in current else dict.fromkeys(OPERATOR_INPUTS)
            if all(v is None for v in values.values()) or values == before:
                continue
            plan = FigurePlan(city=city.code, city_name=city.name)
            plan.changes = [
                {"input": name, "label": INPUTS_BY_NAME[name].label_zh, "old": before[name], "new": values[name]}
                for name in OPERATOR_INPUTS
                if before[name] != values[name]
            ]
            report.plans.append(plan)
            if not dry_run:
                figure = OperatorFigure.objects.create(
                    round=round_,
                    city=city,
                    operator=operator,
                    reported_by=actor,
                    on_behalf=on_behalf,
                    source=source,
                    **values,
                )
                plan.figure_id = figure.pk
        if not dry_run and report.plans:
            report.rescored = request_city_rescoring(round_id=round_.pk, city_ids=[p.city for p in report.plans])
    return report


def _operator_name(code: str) -> str:
    operator = Operator.objects.filter(code=code).first()
    return operator.name if operator else code


# ------------------------------------------------------------------------------------------------
# Reads
# ------------------------------------------------------------------------------------------------
def current_figures(
    *, user: User, round_: Round, operator: Operator | None = None
) -> dict[tuple[str, str], OperatorFigure]:
    """(city code, operator code) → the current figures the user may see for the round."""
    figures = OperatorFigure.objects.visible_to(user).filter(round=round_)
    if operator is not None:
        figures = figures.filter(operator=operator)
    return {(f.city_id, f.operator_id): f for f in figures.current().select_related("reported_by")}


def reported_city_counts(*, province_id: str, round_: Round) -> list[tuple[Operator, int, int]]:
    """Per operator: how many of the province's cities it has reported for the round, of how many."""
    total = City.objects.filter(province_id=province_id).count()
    counts = dict(
        OperatorFigure.objects.filter(round=round_, city__province_id=province_id)
        .values("operator_id")
        .annotate(n=Count("city_id", distinct=True))
        .values_list("operator_id", "n")
    )
    return [(operator, counts.get(operator.code, 0), total) for operator in Operator.objects.all()]


# ------------------------------------------------------------------------------------------------
# The round's tolerance
# ------------------------------------------------------------------------------------------------
def parse_tolerance(raw: Any) -> tuple[Decimal | None, str | None]:
    """A tolerance as typed ("5", "3.5", "5 %") → (value, problem): a percentage from 0 to 100 with at
    most two decimals. The one rule, for the service and the round page's form alike."""
    try:
        tolerance = Decimal(str(raw).strip().rstrip("%").strip())
        if not tolerance.is_finite():
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        return None, _("Enter a percentage between 0 and 100.")
    if not Decimal(0) <= tolerance <= Decimal(100):
        return None, _("The tolerance is a percentage between 0 and 100.")
    if tolerance != tolerance.quantize(Decimal("0.01")):
        return None, _("At most two decimals.")
    return tolerance, None


def tolerance_version(round_: Round) -> int:
    """The version of the round's tolerance an API client edits (If-Match or `version`): how many times
    it has changed. Changes are only added, under the round's lock, so the count only grows."""
    return round_.tolerance_changes.count()


def round_tolerance_set(
    *,
    round_: Round,
    value: Any,
    actor: User,
    reason: str,
    expected: Decimal | None = None,
    expected_version: int | None = None,
    via_header: bool = False,
) -> Round:
    """Change the round's tolerance against the operators' figures (a percentage from 0 to 100), with a
    history entry; the round's reported forms are scored again under it (their comparison, flags and
    `figures_check` with it: the tolerance is part of each score's `figures_key`).

    `expected`: the tolerance the caller's page showed; `expected_version`: the version an API client
    read (`tolerance_version`; 412 when it came in If-Match, else 409). When somebody changed it
    meanwhile the change is refused (Conflict, naming who), so that nobody overwrites a change they
    have not seen."""
    if not actor.has_national_scope:
        raise RoleNotAllowed(_("Only ministry staff change the tolerance."))
    errors: dict[str, list[str]] = {}
    tolerance, problem = parse_tolerance(value)
    if problem:
        errors["tolerance"] = [problem]
    if not (reason or "").strip():
        errors["reason"] = [_("Please give a reason.")]
    if errors:
        raise ValidationError(errors)
    if round_.is_frozen:
        raise Conflict(
            _("The %(year)s round is published; its tolerance can no longer change.") % {"year": round_.year}
        )
    with transaction.atomic():
        round_ = Round.objects.select_for_update().get(pk=round_.pk)
        old = round_.operator_tolerance
        if expected is not None and old != expected:
            raise Conflict(_changed_meanwhile(round_, seen=expected), extra={"tolerance": str(old)})
        if expected_version is not None:
            changes = list(round_.tolerance_changes.select_related("changed_by"))
            if expected_version != len(changes):
                # The value the caller read, when its version is one that existed.
                seen = changes[expected_version].old_value if 0 <= expected_version < len(changes) else old
                raise StaleVersion(
                    _changed_meanwhile(round_, seen=seen),
                    current_version=len(changes),
                    via_header=via_header,
                    extra={"tolerance": str(old)},
                )
        if old == tolerance:
            return round_
        round_.operator_tolerance = tolerance
        round_.save(update_fields=["operator_tolerance"])
        ToleranceChange.objects.create(
            round=round_, old_value=old, new_value=tolerance, changed_by=actor, reason=reason.strip()
        )
        audit_record(
            kind=AuditKind.ROUND_CHANGED,
            actor=actor,
            target=round_,
            before={"operator_tolerance": old},
            after={"operator_tolerance": tolerance},
            details={"reason": reason.strip()},
        )
        request_round_rescoring(round_id=round_.pk)
    return round_


def _changed_meanwhile(round_: Round, *, seen: Decimal) -> str:
    last = round_.tolerance_changes.select_related("changed_by").order_by("-changed_at", "-pk").first()
    return _("Meanwhile %(who)s changed the tolerance from %(old)s %% to %(new)s %%; check it and save again.") % {
        "who": (last.changed_by if last and last.changed_by else _("somebody")),
        "old": _plain(seen),
        "new": _plain(round_.operator_tolerance),
    }


def _plain(value: Decimal) -> str:
    """5.00 → "5", 3.50 → "3.5": a percentage as a person types it."""
    return format(value.normalize(), "f")
