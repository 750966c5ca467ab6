"""The comparison with the operators' figures beside a form's data (issue 13), for its reviewers."""

from __future__ import annotations

from decimal import Decimal

from django import template

from gigacity.models import Role
from gigacity.statements import Statement
from indicators.catalogue import INPUTS_BY_NAME
from indicators.models import Operator
from submissions import detail_html

register = template.Library()


def _n(value) -> str:
    """A count with thousands separators, as the flags write it (20,000), whatever the locale."""
    return "—" if value is None else f"{value:,}"


_OPERATORS = Statement(lambda: Operator.objects.all())


@register.simple_tag
def operator_comparison(submission, score, user):
    """The card (`detail_html.operator_comparison`) of `comparison`."""
    return detail_html.operator_comparison(**comparison(submission, score, user))


def comparison(submission, score, user) -> dict:
    """The worker's comparison stored with the latest score. Reviewers only: the city's officials do
    not see the operators' figures (they are what the city's own figures are checked against)."""
    if user.role not in (Role.BUREAU, Role.MINISTRY, Role.ADMIN) and not user.is_superuser:
        return {"show": False}
    # The operators head the comparison's columns: none without a score (nothing is compared).
    operators = _OPERATORS() if score is not None else []
    rows = []
    for row in (score.comparison if score is not None else []) or []:
        spec = INPUTS_BY_NAME[row["input"]]
        total = row["total"]
        rows.append(
            {
                **row,
                "label": spec.label_zh,
                "city_text": _n(row["city"]),
                "total_text": _n(row["total"]),
                "difference_text": None if row["difference"] is None else f"{row['difference']:+,}",
                "unit": spec.unit_zh,
                "relative": None if row["relative"] is None else Decimal(row["relative"]),
                "shares": [
                    {
                        "name": o.name,
                        "value": row["shares"].get(o.code),
                        "text": _n(row["shares"].get(o.code)),
                        "share": (Decimal(row["shares"][o.code]) * 100 / total).quantize(Decimal("0.1"))
                        if total and o.code in row["shares"]
                        else None,
                    }
                    for o in operators
                ],
            }
        )
    return {
        "show": True,
        "rows": rows,
        "operators": operators,
        "tolerance": submission.round.operator_tolerance,
        "pending": submission.scoring_state == "pending",
        "scored": score is not None,
    }


@register.inclusion_tag("submissions/includes/operator_reported.html", takes_context=True)
def operator_reported(context, province, round_):
    """Per operator, how many of the province's cities it has reported for the round."""
    from submissions.operators import reported_city_counts

    if round_ is None:
        return {"rows": []}
    user = context["request"].user
    return {
        "rows": reported_city_counts(province_id=province.code, round_=round_),
        "link": user.role == Role.BUREAU,
    }
