"""The public list (公示/公布) of a published round: its Gigabit Cities by batch and province with the
published key indicators and the totals, for anybody, in Chinese and English, with a CSV and a JSON
copy beside it.

Only what the ministry has published goes in: cities named in rounds that are published (up to this
one), each with the values of the form it was approved on — an approved form of a published round,
nothing else. No draft or undecided figure, no flag, no person (contact, reviewer) is read at all.

The list is read once and cached (it cannot change through the workflow once its round is published:
decisions are frozen). Publishing a round, and any change to a round or a designation (the admin),
drops the cached lists of that year and the later ones; the key also holds the publication date, and
entries expire after `CACHE_SECONDS`, so a cache shared by several processes (REDIS_CACHE_URL) or
kept per process never shows a list for long after a change.
"""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from decimal import Decimal
from typing import Any

from django.core.cache import cache
from django.db.models import Exists, OuterRef, Q
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from gigacity.i18n import pick
from gigacity.models import Region
from gigacity.xlsx import safe_value
from indicators.catalogue import INDICATORS, INDICATORS_BY_CODE
from indicators.models import Designation, Round, RoundStatus
from submissions.models import Status, Submission

from . import dashboards
from .exports import SUMMARY_COLUMNS

CACHE_SECONDS = 600
CODES = tuple(code for code, _zh, _en in SUMMARY_COLUMNS)  # MIIT's column order


def cache_key(year: int) -> str:
    return f"gigacity:public-list:{year}"


def published_round(year: int) -> Round | None:
    return Round.objects.filter(year=year, status=RoundStatus.PUBLISHED).first()


def published_rounds():
    return Round.objects.filter(status=RoundStatus.PUBLISHED).order_by("-year")


def public_list(round_: Round) -> dict[str, Any]:
    """The published list of `round_` (a published round), from the cache when it is there."""
    stamp = (round_.status, round_.published_on)
    cached = cache.get(cache_key(round_.year))
    if cached is not None and cached["stamp"] == stamp:
        return cached["data"]
    data = _read(round_)
    cache.set(cache_key(round_.year), {"stamp": stamp, "data": data}, CACHE_SECONDS)
    return data


def _read(round_: Round) -> dict[str, Any]:
    published = Designation.objects.filter(round__year__lte=round_.year, round__status=RoundStatus.PUBLISHED)
    # Each city once, in the batch it was first named (a city is never named twice).
    earlier = published.filter(city=OuterRef("city"), round__year__lt=OuterRef("round__year"))
    designations = list(
        published.exclude(Exists(earlier))
        .select_related("city__province", "round")
        .order_by("city__province_id", "round__year", "city_id")
    )
    forms = {
        (form["city_id"], form["round__year"]): form
        for form in Submission.objects.filter(
            Q(status=Status.APPROVED),
            round__status=RoundStatus.PUBLISHED,
            round__year__lte=round_.year,
            city__in=[d.city_id for d in designations],
        ).values("city_id", "round__year", *(f"value_{code}" for code in CODES))
    }
    cities = []
    for designation in designations:
        city, province = designation.city, designation.city.province
        form = forms.get((city.code, designation.round.year))
        cities.append(
            {
                "batch": designation.round.year,
                "province": province.code,
                "province_name": province.name,
                "province_name_en": province.name_en,
                "region": province.region,
                "city": city.code,
                "city_name": city.name,
                "values": {code: form[f"value_{code}"] if form else None for code in CODES},
            }
        )
    batches = Counter(c["batch"] for c in cities)
    means = {}
    for code in CODES:
        values = [c["values"][code] for c in cities if c["values"][code] is not None]
        spec = INDICATORS_BY_CODE[code]
        means[code] = dashboards.mean(sum(values, Decimal(0)), len(values), spec) if values else None
    by_province: dict[str, int] = defaultdict(int)
    for c in cities:
        by_province[c["province"]] += 1
    return {
        "year": round_.year,
        "published_on": round_.published_on,
        "notice": round_.notice,
        "cities": cities,
        "totals": {
            "named_in_round": batches.get(round_.year, 0),
            "named": len(cities),
            "by_batch": sorted(batches.items()),
            "by_region": {
                r: sum(1 for c in cities if c["region"] == r and c["batch"] == round_.year) for r in Region.values
            },
            "by_region_total": {r: sum(1 for c in cities if c["region"] == r) for r in Region.values},
            "provinces": len(by_province),
            "means": means,
        },
    }


def invalidate(year: int) -> None:
    """Drop the cached lists of `year` and every later round (their lists include its batch)."""
    years = list(Round.objects.filter(year__gte=year).values_list("year", flat=True))
    cache.delete_many([cache_key(y) for y in {year, *years}])


@receiver(post_save, sender=Round, dispatch_uid="reviews.publication.round_saved")
def _round_saved(sender, instance: Round, **kwargs) -> None:
    invalidate(instance.year)


@receiver([post_save, post_delete], sender=Designation, dispatch_uid="reviews.publication.designation_changed")
def _designation_changed(sender, instance: Designation, **kwargs) -> None:
    invalidate(instance.round.year)


# ------------------------------------------------------------------------------------------------
# Shapes of the page, the CSV and the JSON
# ------------------------------------------------------------------------------------------------
def indicator_columns() -> list[dict[str, Any]]:
    specs = {spec.code: spec for spec in INDICATORS}
    return [{"code": code, "label": pick(zh, en), "spec": specs[code]} for code, zh, en in SUMMARY_COLUMNS]


def by_batch(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The cities grouped by batch, the round's own batch first, each in the standard province order."""
    groups: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for city in data["cities"]:
        groups[city["batch"]].append(
            {**city, "cells": [(city["values"][code], INDICATORS_BY_CODE[code]) for code in CODES]}
        )
    return [{"year": year, "cities": groups[year]} for year in sorted(groups, reverse=True)]


CSV_HEADER = ["batch", "province_code", "province", "province_en", "region", "city_code", "city", *CODES]


def as_csv(data: dict[str, Any]) -> bytes:
    """UTF-8 with a byte-order mark, so that Excel opens the Chinese names as such."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for c in data["cities"]:
        writer.writerow(
            [
                c["batch"],
                c["province"],
                safe_value(c["province_name"]),
                safe_value(c["province_name_en"]),
                c["region"],
                c["city"],
                safe_value(c["city_name"]),
                *("" if c["values"][code] is None else str(c["values"][code]) for code in CODES),
            ]
        )
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def as_json(data: dict[str, Any]) -> dict[str, Any]:
    def number(value: Decimal | None) -> float | None:
        return None if value is None else float(value)

    totals = data["totals"]
    return {
        "round": data["year"],
        "published_on": data["published_on"].isoformat() if data["published_on"] else None,
        "indicators": [
            {"code": code, "name_zh": zh, "name_en": en, "unit": INDICATORS_BY_CODE[code].unit_zh}
            for code, zh, en in SUMMARY_COLUMNS
        ],
        "totals": {
            "named_in_round": totals["named_in_round"],
            "named": totals["named"],
            "provinces": totals["provinces"],
            "by_batch": [{"batch": year, "cities": n} for year, n in totals["by_batch"]],
            "by_region": totals["by_region_total"],
            "means": {code: number(value) for code, value in totals["means"].items()},
        },
        "cities": [
            {
                "batch": c["batch"],
                "province": c["province"],
                "province_name": c["province_name"],
                "province_name_en": c["province_name_en"],
                "region": c["region"],
                "city": c["city"],
                "city_name": c["city_name"],
                "values": {code: number(value) for code, value in c["values"].items()},
            }
            for c in data["cities"]
        ],
    }
