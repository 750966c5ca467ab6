"""Loading the reference data: administrative divisions, the indicator catalogue, the rounds with
their thresholds, and the published Gigabit Cities. Idempotent: safe to run again, also on a
half-loaded database, and it never overwrites what ministry staff have since edited (round dates,
thresholds)."""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from django.db import transaction

from gigacity.models import City, Province

from .catalogue import CATALOGUE, OPERATORS, PROVISIONAL_2021_THRESHOLDS
from .models import Designation, Indicator, Operator, ReferenceValue, Round, RoundStatus, Threshold, ThresholdChange

DIVISIONS_FILE = Path(__file__).parent / "data" / "divisions.json"


@dataclass(frozen=True)
class RoundSeed:
    year: int
    status: str
    notice: str = ""
    opens_on: datetime.date | None = None
    deadline: datetime.date | None = None
    data_as_of: datetime.date | None = None
    published_on: datetime.date | None = None


# Dates as far as the sources in shared/seeds give them: the 2021 notice (工信厅通信函〔2021〕172号,
# published 2021-07-07: dynamic evaluation October to 15 December, data as of the end of October) and
# the announcement of the first 29 cities on 2021-12-24. The sources give no dates for 2022 and 2023:
# ministry staff enter them in the round settings.
ROUNDS = (
    RoundSeed(
        2021,
        RoundStatus.PUBLISHED,
        "工信厅通信函〔2021〕172号",
        datetime.date(2021, 7, 7),
        datetime.date(2021, 12, 15),
        datetime.date(2021, 10, 31),
        datetime.date(2021, 12, 24),
    ),
    RoundSeed(2022, RoundStatus.CLOSED),
    RoundSeed(2023, RoundStatus.CLOSED),
)

# The first batch of Gigabit Cities, announced on 2021-12-24 (seeds/003: 29 cities in 15 provinces).
DESIGNATED_2021 = (
    "北京市",
    "天津市",
    "上海市",
    "济南市",
    "青岛市",
    "日照市",
    "南京市",
    "无锡市",
    "常州市",
    "苏州市",
    "杭州市",
    "宁波市",
    "武汉市",
    "广州市",
    "深圳市",
    "南昌市",
    "九江市",
    "上饶市",
    "长沙市",
    "成都市",
    "泸州市",
    "绵阳市",
    "眉山市",
    "西安市",
    "柳州市",
    "桂林市",
    "百色市",
    "呼和浩特市",
    "西宁市",
)

# National reference values (PRODUCT.md: MIIT 2022, 15.7 5G base stations per 10 000 people nationally).
REFERENCE_VALUES = ((2022, "bs5g_per_10k", Decimal("15.7"), "工业和信息化部 2022年：全国每万人拥有5G基站数"),)


@dataclass
class LoadReport:
    provinces: int = 0
    cities: int = 0
    indicators: int = 0
    rounds_created: int = 0
    thresholds_created: int = 0
    designations_created: int = 0


@transaction.atomic
def reference_load() -> LoadReport:
    report = LoadReport()
    divisions = json.loads(DIVISIONS_FILE.read_text(encoding="utf-8"))
    for row in divisions["provinces"]:
        Province.objects.update_or_create(code=row["code"], defaults={k: v for k, v in row.items() if k != "code"})
        report.provinces += 1
    for row in divisions["cities"]:
        City.objects.update_or_create(
            code=row["code"],
            defaults={"name": row["name"], "province_id": row["province"], "kind": row["kind"]},
        )
        report.cities += 1

    for order, spec in enumerate(CATALOGUE):
        Indicator.objects.update_or_create(
            code=spec.code,
            defaults={
                "name_zh": spec.name_zh,
                "name_en": spec.name_en,
                "unit_zh": spec.unit_zh,
                "unit_en": spec.unit_en,
                "kind": spec.kind.value,
                "category": spec.category.value,
                "formula_zh": spec.formula_zh,
                "formula_en": spec.formula_en,
                "inputs": list(spec.inputs),
                "decimals": spec.decimals,
                "order": order,
            },
        )
        report.indicators += 1

    operators_load()

    for seed in ROUNDS:
        round_, created = Round.objects.get_or_create(
            year=seed.year,
            defaults={
                "status": seed.status,
                "notice": seed.notice,
                "opens_on": seed.opens_on,
                "deadline": seed.deadline,
                "data_as_of": seed.data_as_of,
                "published_on": seed.published_on,
                "thresholds_provisional": True,
                # MIIT's annex 1 lists support policies from 2023 on.
                "circular_policies": seed.year >= 2023,
            },
        )
        report.rounds_created += created
        report.thresholds_created += ensure_thresholds(round_)

    for year, code, value, source in REFERENCE_VALUES:
        ReferenceValue.objects.get_or_create(
            round=Round.objects.get(year=year), indicator_id=code, defaults={"value": value, "source": source}
        )

    first = Round.objects.get(year=2021)
    named = set(Designation.objects.values_list("city_id", flat=True))
    for name in DESIGNATED_2021:
        city = City.objects.get(name=name)
        if city.pk in named:
            continue  # named once: a designation edited since (or loaded otherwise) stays as it is
        Designation.objects.create(
            city=city, round=first, source=Designation.Source.PUBLISHED, designated_on=first.published_on
        )
        report.designations_created += 1
    return report


def operators_load() -> int:
    """The telecom operators of the catalogue (names refreshed, nothing removed)."""
    for order, spec in enumerate(OPERATORS):
        Operator.objects.update_or_create(
            code=spec.code, defaults={"name_zh": spec.name_zh, "name_en": spec.name_en, "order": order}
        )
    return len(OPERATORS)


def ensure_thresholds(round_: Round) -> int:
    """Give the round every threshold it lacks, from the provisional 2021 set, with a history entry.
    Thresholds that exist are left alone: ministry staff may have changed them."""
    created = 0
    for code, value in PROVISIONAL_2021_THRESHOLDS.items():
        _t, was_created = Threshold.objects.get_or_create(
            round=round_, indicator_id=code, defaults={"value": Decimal(value)}
        )
        if was_created:
            ThresholdChange.objects.create(
                round=round_,
                indicator_id=code,
                old_value=None,
                new_value=Decimal(value),
                version=round_.threshold_version,
                reason="初始值：2021年度暂定标准（待部里确认）",
            )
            created += 1
    return created


def open_round_now(today: datetime.date) -> Round:
    """This year's round, open since 90 days before `today` with its deadline a month after, and
    its thresholds: the round the tests and the benchmark work in."""
    round_, _created = Round.objects.update_or_create(
        year=today.year,
        defaults={
            "status": RoundStatus.OPEN,
            "opens_on": today - datetime.timedelta(days=90),
            "deadline": today + datetime.timedelta(days=30),
            "data_as_of": today - datetime.timedelta(days=30),
        },
    )
    ensure_thresholds(round_)
    return round_
