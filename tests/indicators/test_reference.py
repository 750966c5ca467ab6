"""load_reference: the reference data is complete, and loading it again changes nothing."""

from __future__ import annotations

import datetime
from collections import Counter
from decimal import Decimal

import pytest
from django.core.management import call_command

from gigacity.models import City, CityKind, Province
from indicators.models import Designation, Indicator, Round, RoundStatus, Threshold, ThresholdChange
from indicators.reference import reference_load

pytestmark = pytest.mark.django_db


def counts():
    return (
        Province.objects.count(),
        City.objects.count(),
        Indicator.objects.count(),
        Round.objects.count(),
        Threshold.objects.count(),
        ThresholdChange.objects.count(),
        Designation.objects.count(),
    )


def test_provinces_carry_their_codes_and_miit_regions():
    assert Province.objects.count() == 31
    regions = Counter(Province.objects.values_list("region", flat=True))
    assert regions == {"east": 11, "central": 8, "west": 12}
    shandong = Province.objects.get(code="370000")
    assert (shandong.name, shandong.short_name, shandong.region) == ("山东省", "山东", "east")
    assert Province.objects.get(code="210000").region == "east"  # 辽宁 counts as 东部
    assert Province.objects.get(code="230000").region == "central"  # 黑龙江 as 中部


def test_every_prefecture_level_unit_municipality_and_special_unit_is_there():
    assert City.objects.filter(kind=CityKind.PREFECTURE).count() == 333
    municipalities = set(City.objects.filter(kind=CityKind.MUNICIPALITY).values_list("code", "name"))
    assert municipalities == {
        ("110000", "北京市"),
        ("120000", "天津市"),
        ("310000", "上海市"),
        ("500000", "重庆市"),
    }
    assert City.objects.get(code="370200").name == "青岛市"
    assert City.objects.get(code="133100").name == "雄安新区"
    assert City.objects.get(code="419001").province_id == "410000"
    assert not City.objects.filter(name__in=["市辖区", "县"]).exists()


def test_the_indicator_catalogue_and_the_case_requirement():
    assert list(Indicator.objects.values_list("code", flat=True)) == [
        "fiber_gigabit_coverage",
        "pon_10g_share",
        "key_sites_5g_reach",
        "bs5g_per_10k",
        "users_500m_share",
        "users_1000m",
        "users_5g_share",
        "applications",
    ]
    bs5g = Indicator.objects.get(code="bs5g_per_10k")
    assert (bs5g.name_zh, bs5g.unit_zh, bs5g.inputs) == (
        "每万人拥有5G基站数",
        "个/万人",
        ["bs5g_count", "resident_population"],
    )


def test_rounds_with_their_dates_and_a_provisional_threshold_set_each():
    first = Round.objects.get(year=2021)
    assert first.status == RoundStatus.PUBLISHED
    assert (first.deadline, first.data_as_of) == (datetime.date(2021, 12, 15), datetime.date(2021, 10, 31))
    assert first.notice == "工信厅通信函〔2021〕172号"
    for year in (2021, 2022, 2023):
        round_ = Round.objects.get(year=year)
        assert round_.thresholds_provisional
        assert round_.threshold_map() == {
            "fiber_gigabit_coverage": Decimal("80"),
            "pon_10g_share": Decimal("30"),
            "key_sites_5g_reach": Decimal("95"),
            "bs5g_per_10k": Decimal("12"),
            "users_500m_share": Decimal("10"),
            "users_1000m": Decimal("50000"),
            "users_5g_share": Decimal("25"),
            "applications": Decimal("5"),
        }
        assert round_.threshold_changes.count() == 8  # each threshold's history starts with its first value


def test_the_29_cities_of_2021_in_15_provinces():
    named = Designation.objects.filter(round__year=2021).select_related("city")
    assert named.count() == 29
    assert len({d.city.province_id for d in named}) == 15
    assert {"青岛市", "呼和浩特市", "西宁市", "北京市"} <= {d.city.name for d in named}


def test_loading_again_changes_nothing():
    before = counts()
    call_command("load_reference", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert counts() == before


def test_a_half_loaded_database_is_completed_without_duplicates():
    full = counts()
    Designation.objects.filter(city__province_id="510000").delete()
    Threshold.objects.filter(round__year=2023, indicator_id__in=["users_5g_share", "applications"]).delete()
    City.objects.filter(province_id="650000").exclude(officials__isnull=False).delete()

    reference_load()

    assert counts()[:5] == full[:5]
    assert Designation.objects.count() == full[6]


def test_what_ministry_staff_changed_is_not_overwritten():
    round_ = Round.objects.get(year=2022)
    round_.deadline = datetime.date(2022, 12, 20)
    round_.save()
    Threshold.objects.filter(round=round_, indicator_id="pon_10g_share").update(value=Decimal("25"))

    reference_load()

    round_.refresh_from_db()
    assert round_.deadline == datetime.date(2022, 12, 20)
    assert round_.threshold_map()["pon_10g_share"] == Decimal("25")
