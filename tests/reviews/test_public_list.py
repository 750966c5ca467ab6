"""The public list of a published round: anonymous 200 after publishing, 404 before; its Gigabit
Cities by batch and province with the published values and totals, in Chinese and English, as CSV and
JSON; cached and dropped on publish; and never anything that is not published (seeded here: drafts,
recommended and rejected forms with their own figures, flags, contact people, reviewers)."""

from __future__ import annotations

import csv
import io
import json
import random
import re
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from gigacity.models import City
from indicators.models import Designation, Round
from reviews import services
from submissions.models import Flag, Score, Status, Submission

from .data import add_forms

pytestmark = pytest.mark.django_db

# Markers no published page may contain.
SECRET_CONTACT = "联系人甲乙丙"
SECRET_FLAG = "疑似异常值请核实XYZ"
SECRET_VALUE = Decimal("77.77")


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()


@pytest.fixture
def seeded(open_round, ministry_user):
    """This round: 3 approved forms (named), and forms that are not published: a recommended one, a
    rejected one and a draft, each with a distinctive value; flags and contact people on all."""
    fresh = City.objects.filter(designations__isnull=True, province__in=["370000", "510000"]).order_by("code")
    approved = add_forms(round_=open_round, cities=fresh[:3], rng=random.Random(1), states=[Status.APPROVED])
    others = add_forms(
        round_=open_round,
        cities=fresh[3:6],
        rng=random.Random(2),
        states=[Status.RECOMMENDED, Status.REJECTED, Status.DRAFT],
    )
    Submission.objects.filter(pk__in=[f.pk for f in others]).update(value_pon_10g_share=SECRET_VALUE)
    Submission.objects.all().update(contact_name=SECRET_CONTACT, contact_phone="13900000000")
    for form in [*approved, *others]:
        score = Score.objects.create(
            submission=form, version=1, threshold_version=1, results=[], cases_count=0, meets_all=False, missed=1
        )
        Flag.objects.create(score=score, code="outlier", severity=3, message_zh=SECRET_FLAG, message_en=SECRET_FLAG)
    return {"approved": approved, "others": others}


def publish(round_: Round, actor) -> None:
    services.round_set_status(round_=round_, status="closed", actor=actor)
    services.round_set_status(round_=round_, status="published", actor=actor)


def everything(client: Client, year: int) -> str:
    pages = [
        client.get(reverse("reviews:public_list", args=[year])),
        client.get(reverse("reviews:public_csv", args=[year])),
        client.get(reverse("reviews:public_json", args=[year])),
        client.get(reverse("reviews:public_list", args=[year]), HTTP_ACCEPT_LANGUAGE="en"),
    ]
    assert [p.status_code for p in pages] == [200] * 4
    return "".join(p.content.decode("utf-8-sig") for p in pages)


def test_before_publishing_the_list_does_not_exist(seeded, open_round):
    client = Client()
    for name in ("reviews:public_list", "reviews:public_csv", "reviews:public_json"):
        assert client.get(reverse(name, args=[open_round.year])).status_code == 404
    assert str(open_round.year) not in client.get(reverse("reviews:public_rounds")).content.decode().split("<main")[1]


def test_after_publishing_anybody_reads_the_named_cities_and_nothing_unpublished(
    seeded, open_round, ministry_user, bureau_user
):
    publish(open_round, ministry_user)
    body = everything(Client(), open_round.year)

    for form in seeded["approved"]:
        assert form.city.name in body
    for form in seeded["others"]:
        assert form.city.name not in body
    for secret in (
        SECRET_CONTACT,
        SECRET_FLAG,
        "13900000000",
        "77.77",
        "77.8",
        ministry_user.username,
        bureau_user.username,
    ):
        assert secret not in body, secret
    assert "outlier" not in body


def test_the_csv_and_json_hold_the_published_values_and_totals(seeded, open_round, ministry_user):
    publish(open_round, ministry_user)
    client = Client()
    rows = list(
        csv.DictReader(
            io.StringIO(client.get(reverse("reviews:public_csv", args=[open_round.year])).content.decode("utf-8-sig"))
        )
    )
    payload = json.loads(client.get(reverse("reviews:public_json", args=[open_round.year])).content)

    named = Designation.objects.values("city").distinct().count()
    assert len(rows) == len(payload["cities"]) == named == 29 + 3
    assert payload["totals"]["named_in_round"] == 3 and payload["totals"]["named"] == named
    assert {b["batch"]: b["cities"] for b in payload["totals"]["by_batch"]} == {2021: 29, open_round.year: 3}
    for form in seeded["approved"]:
        row = next(r for r in rows if r["city_code"] == form.city_id)
        assert row["batch"] == str(open_round.year)
        assert Decimal(row["bs5g_per_10k"]) == form.value_bs5g_per_10k
        assert Decimal(row["users_1000m"]) == form.value_users_1000m
    beijing = next(c for c in payload["cities"] if c["city"] == "110000")
    assert beijing["batch"] == 2021 and set(beijing["values"].values()) == {None}
    values = [f.value_pon_10g_share for f in seeded["approved"]]
    expected = (sum(values) / len(values)).quantize(Decimal("0.1"), rounding="ROUND_HALF_UP")
    assert payload["totals"]["means"]["pon_10g_share"] == float(expected)


def without_tokens(body: str) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", body)


def test_the_list_is_cached_and_dropped_when_a_round_is_published(seeded, open_round, ministry_user):
    publish(open_round, ministry_user)
    client = Client()
    url = reverse("reviews:public_list", args=[2021])
    first = without_tokens(client.get(url).content.decode())
    with CaptureQueriesContext(connection) as queries:
        assert without_tokens(client.get(url).content.decode()) == first
    assert len(queries) <= 2  # the round's status; the list itself comes from the cache

    # A later round is published: the 2021 list does not change, but its own list is read afresh,
    # and a change of the 2021 batch (the admin) reaches the 2021 list at once.
    city = City.objects.filter(designations__isnull=True).exclude(pk__in=[f.city_id for f in seeded["others"]]).first()
    Designation.objects.create(city=city, round=Round.objects.get(year=2021), source="published")
    assert city.name in client.get(url).content.decode()


def test_the_page_is_in_english_too(seeded, open_round, ministry_user):
    publish(open_round, ministry_user)
    page = Client().get(reverse("reviews:public_list", args=[open_round.year]), HTTP_ACCEPT_LANGUAGE="en")
    body = page.content.decode()
    assert f"Gigabit Cities of {open_round.year}" in body and "Shandong" in body
    assert (
        reverse("reviews:public_list", args=[open_round.year])
        in Client().get(reverse("reviews:public_rounds")).content.decode()
    )
