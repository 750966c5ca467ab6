"""The public pages: the published rounds, and each published round's list of Gigabit Cities with its
CSV and JSON copies. No login; a round that is not published does not exist here (404)."""

from __future__ import annotations

from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from gigacity.models import Region
from indicators.catalogue import INDICATORS_BY_CODE

from . import publication


def _published(year: int):
    round_ = publication.published_round(year)
    if round_ is None:
        raise Http404
    return round_


@require_GET
def public_rounds(request):
    """The rounds whose lists are published."""
    return render(request, "public/rounds.html", {"rounds": publication.published_rounds()})


@require_GET
def public_list(request, year: int):
    round_ = _published(year)
    data = publication.public_list(round_)
    regions = [
        (label, data["totals"]["by_region"][value], data["totals"]["by_region_total"][value])
        for value, label in Region.choices
    ]
    return render(
        request,
        "public/list.html",
        {
            "data": data,
            "columns": publication.indicator_columns(),
            "batches": publication.by_batch(data),
            "regions": regions,
            "means": [(data["totals"]["means"][code], INDICATORS_BY_CODE[code]) for code in publication.CODES],
            "other_rounds": publication.published_rounds().exclude(pk=round_.pk),
        },
    )


@require_GET
def public_csv(request, year: int):
    data = publication.public_list(_published(year))
    response = HttpResponse(publication.as_csv(data), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="gigabit-cities-{year}.csv"'
    return response


@require_GET
def public_json(request, year: int):
    data = publication.public_list(_published(year))
    return JsonResponse(publication.as_json(data), json_dumps_params={"ensure_ascii": False})
