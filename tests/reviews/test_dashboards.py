"""The dashboards as their users meet them: who may open which, what forms count, the reference
values, and a number of queries that does not grow with the number of cities."""

from __future__ import annotations

import datetime
import io
import random
from decimal import Decimal
from unittest import mock

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from gigacity.models import City
from indicators.models import Designation, ReferenceValue, Round
from reviews import dashboards
from submissions.models import Extension, Status, Submission
from tests.factories import make_submission

from .data import add_forms, add_units

pytestmark = pytest.mark.django_db


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


# ------------------------------------------------------------------------------------------------
# Scope
# ------------------------------------------------------------------------------------------------
def test_a_bureau_sees_its_own_province_and_no_other(open_round, bureau_user, client):
    add_forms(round_=open_round, cities=City.objects.filter(province__in=["370000", "320000"]), rng=random.Random(1))
    client.force_login(bureau_user)

    own = api(bureau_user).get(reverse("api:dashboard-province", args=["370000"]))
    other = api(bureau_user).get(reverse("api:dashboard-province", args=["320000"]))
    national = api(bureau_user).get(reverse("api:dashboard-national"))

    assert own.status_code == 200
    assert {row["code"][:2] for row in own.json()["cities"]} == {"37"}
    assert {row["province"] for block in own.json()["leaders"] for row in block["rows"]} == {"370000"}
    assert other.status_code == 404
    assert national.status_code == 403
    assert client.get(reverse("reviews:province_dashboard", args=["320000"])).status_code == 404
    assert client.get(reverse("reviews:ministry_home")).status_code == 403
    assert client.get(reverse("reviews:my_province_dashboard")).url == reverse(
        "reviews:province_dashboard", args=["370000"]
    )


def test_the_national_figures_of_a_bureau_are_its_province_even_if_a_view_forgot_the_role(open_round, bureau_user):
    # Defence in depth: the selectors start from visible_to, so a bureau never gets the nation.
    add_forms(round_=open_round, cities=City.objects.filter(province__in=["370000", "320000"]), rng=random.Random(2))

    data = dashboards.national_dashboard(user=bureau_user, round_=open_round)

    assert [p["code"] for p in data["provinces"]] == ["370000"]
    assert data["status_counts"]["units"] == City.objects.filter(province="370000").count()


def test_a_city_official_has_no_dashboard_and_no_export(open_round, city_user, client):
    client.force_login(city_user)

    assert api(city_user).get(reverse("api:dashboard-province", args=["370000"])).status_code == 403
    assert api(city_user).get(reverse("api:dashboard-national")).status_code == 403
    assert api(city_user).get(reverse("api:export-summary")).status_code == 403
    assert client.get(reverse("reviews:province_dashboard", args=["370000"])).status_code == 403
    assert client.get(reverse("reviews:ministry_home")).status_code == 403
    assert client.get(reverse("reviews:exports")).status_code == 403


# ------------------------------------------------------------------------------------------------
# What counts
# ------------------------------------------------------------------------------------------------
def test_drafts_and_returned_forms_are_counted_but_never_averaged(open_round, ministry_user):
    cities = list(City.objects.filter(province="370000").order_by("code")[:4])
    forms = add_forms(
        round_=open_round,
        cities=cities,
        rng=random.Random(3),
        states=[Status.SUBMITTED, Status.APPROVED, Status.DRAFT, Status.RETURNED],
    )
    for form in forms[2:]:  # half-typed numbers nobody has vouched for
        form.value_bs5g_per_10k = Decimal(9999)
        form.save()

    data = api(ministry_user).get(reverse("api:dashboard-national"), {"round": open_round.year}).json()

    bs5g = next(row for row in data["indicators"] if row["code"] == "bs5g_per_10k")
    expected = (forms[0].value_bs5g_per_10k + forms[1].value_bs5g_per_10k) / 2
    assert bs5g["reported_n"] == 2
    assert Decimal(str(bs5g["reported_mean"])) == expected.quantize(Decimal("0.1"))
    assert data["status_counts"]["draft"] == 1 and data["status_counts"]["returned"] == 1
    leaders = next(block for block in data["leaders"] if block["code"] == "bs5g_per_10k")
    assert 9999 not in [row["value"] for row in leaders["rows"]]


def test_the_reference_value_ministry_staff_enter_appears_beside_the_means(open_round, ministry_user, client):
    client.force_login(ministry_user)
    url = reverse("reviews:reference_values") + f"?round={open_round.year}"

    response = client.post(url, {"value_bs5g_per_10k": "15.7", "source_bs5g_per_10k": "工业和信息化部 全国水平"})

    assert response.status_code == 302
    assert ReferenceValue.objects.get(round=open_round, indicator_id="bs5g_per_10k").value == Decimal("15.7")
    page = client.get(reverse("reviews:ministry_home")).content.decode()
    assert "15.7" in page and "全国参考值" in page
    data = api(ministry_user).get(reverse("api:dashboard-national")).json()
    assert next(r for r in data["indicators"] if r["code"] == "bs5g_per_10k")["reference"] == 15.7

    client.post(url, {"value_bs5g_per_10k": "", "source_bs5g_per_10k": ""})
    assert not ReferenceValue.objects.filter(round=open_round, indicator_id="bs5g_per_10k").exists()


def test_a_round_without_reference_values_of_its_own_shows_the_latest_national_figure_with_its_year(
    open_round, ministry_user, client
):
    # Given MIIT's 2022 national figure (15.7 base stations per 10k) and this year's round, which has
    # no reference value of its own yet.
    ReferenceValue.objects.filter(round__year__gt=2022).delete()
    ReferenceValue.objects.update_or_create(
        round=Round.objects.get(year=2022), indicator_id="bs5g_per_10k", defaults={"value": Decimal("15.7")}
    )
    client.force_login(ministry_user)

    # When the ministry opens this year's dashboard, its API and its workbook.
    page = client.get(reverse("reviews:ministry_home")).content.decode()
    province_page = client.get(reverse("reviews:province_dashboard", args=["370000"])).content.decode()
    data = api(ministry_user).get(reverse("api:dashboard-national"), {"round": open_round.year}).json()
    book = openpyxl.load_workbook(
        io.BytesIO(api(ministry_user).get(reverse("api:export-dashboard-national")).getvalue())
    )

    # Then the 全国参考值 column shows 15.7, said to be the 2022 figure, on every one of them.
    for html in (page, province_page):
        cell = html.split('data-testid="reference-bs5g_per_10k"')[1].split("</td>")[0]
        assert "15.7" in cell and "2022年数据" in cell
    row = next(r for r in data["indicators"] if r["code"] == "bs5g_per_10k")
    assert row["reference"] == 15.7 and row["reference_year"] == 2022
    sheet = book["主要指标平均值"]
    header = [c.value for c in sheet[1]]
    bs5g = next(r for r in sheet.iter_rows(min_row=2, values_only=True) if str(r[0]).startswith("每万人拥有5G基站数"))
    assert bs5g[header.index("全国参考值")] == 15.7
    assert bs5g[header.index("参考值年份")] == 2022

    # And once the round has its own figure, that one shows, without a year beside it.
    client.post(
        reverse("reviews:reference_values") + f"?round={open_round.year}",
        {"value_bs5g_per_10k": "16.2", "source_bs5g_per_10k": ""},
    )
    page = client.get(reverse("reviews:ministry_home")).content.decode()
    cell = page.split('data-testid="reference-bs5g_per_10k"')[1].split("</td>")[0]
    assert "16.2" in cell and "数据" not in cell
    # A round before any reference value has none.
    earlier = api(ministry_user).get(reverse("api:dashboard-national"), {"round": 2021}).json()
    assert next(r for r in earlier["indicators"] if r["code"] == "bs5g_per_10k")["reference"] is None


def test_reference_values_are_checked_and_only_ministry_staff_may_set_them(
    open_round, ministry_user, bureau_user, client
):
    client.force_login(ministry_user)
    url = reverse("reviews:reference_values") + f"?round={open_round.year}"

    response = client.post(url, {"value_pon_10g_share": "-3"})

    assert response.status_code == 400 and "has-error" in response.content.decode()
    client.force_login(bureau_user)
    assert client.get(url).status_code == 403


def test_the_ministry_home_is_the_national_dashboard(open_round, ministry_user, client):
    add_forms(round_=open_round, cities=City.objects.all()[:40], rng=random.Random(4))
    client.force_login(ministry_user)

    page = client.get(reverse("home"), follow=True).content.decode()

    assert "全国概况" in page
    for heading in (
        "本年度评估进展",
        "分省地图",
        "千兆城市认定情况",
        "主要指标平均值",
        "各项指标分布",
        "单项指标领先城市",
        "分省情况",
    ):
        assert heading in page, heading
    assert 'id="dashboard-data"' in page and "vendor/echarts/echarts-dashboard.min.js" in page
    assert "<script>" not in page  # data goes through json_script, never an inline script
    # The province table drills down to each province's dashboard.
    assert reverse("reviews:province_dashboard", args=["370000"]) in page


def test_a_ministry_user_drills_down_from_a_province_to_a_submission(open_round, ministry_user, client):
    forms = add_forms(round_=open_round, cities=City.objects.filter(province="370000"), rng=random.Random(5))
    client.force_login(ministry_user)

    page = client.get(reverse("reviews:province_dashboard", args=["370000"])).content.decode()

    assert "山东省" in page
    assert reverse("submissions:detail", args=[forms[0].pk]) in page
    assert client.get(reverse("submissions:detail", args=[forms[0].pk])).status_code == 200


def test_the_national_api_answers_the_json_drf_writes_of_the_figures_in_every_form_it_is_asked(
    small_country, ministry_user
):
    """The answer kept as JSON is byte for byte what DRF writes of the figures; indented JSON and the
    browsable API are still there for whoever asks for them."""
    from rest_framework.renderers import JSONRenderer

    client = api(ministry_user)
    url = reverse("api:dashboard-national")
    expected = JSONRenderer().render(
        dashboards.as_json(dashboards.national_dashboard(user=ministry_user, round_=small_country))
    )

    first, repeat = client.get(url), client.get(url)
    assert first.content == repeat.content == expected
    assert first["Content-Type"] == "application/json" and "Accept" in first["Vary"]
    indented = client.get(url, HTTP_ACCEPT="application/json; indent=2")
    assert indented.json() == first.json() and b'\n  "scope"' in indented.content
    assert client.get(url, HTTP_ACCEPT="text/html")["Content-Type"].startswith("text/html")
    assert client.get(url, HTTP_ACCEPT="text/xml").status_code == 406


def test_an_unknown_round_is_not_found(open_round, ministry_user):
    assert api(ministry_user).get(reverse("api:dashboard-national"), {"round": 1999}).status_code == 404
    assert api(ministry_user).get(reverse("api:dashboard-national"), {"round": "x"}).status_code == 400


# ------------------------------------------------------------------------------------------------
# The number of queries does not depend on the number of cities
# ------------------------------------------------------------------------------------------------
def queries(call) -> int:
    with CaptureQueriesContext(connection) as captured:
        call()
    return len(captured)


def grow(round_, *, units: int, province: str | None = None) -> None:
    """Add `units` synthetic units with forms in every state, cases and designations."""
    add_forms(
        round_=round_, cities=add_units(count=units, province=province), rng=random.Random(units), cases=3, excellent=1
    )


@pytest.fixture
def small_country(open_round):
    """30 cities with forms, half of them in 山东 (the province whose dashboard is measured)."""
    cities = [*City.objects.filter(province="370000")[:15], *City.objects.exclude(province="370000")[:15]]
    add_forms(round_=open_round, cities=cities, rng=random.Random(30), cases=3, excellent=1)
    return open_round


def test_dashboard_queries_do_not_grow_with_the_number_of_cities(
    small_country, ministry_user, bureau_user, django_assert_max_num_queries
):
    round_ = small_country
    shandong = dashboards.dashboard_province(user=bureau_user, code="370000")
    calls = {
        "national": lambda: dashboards.national_dashboard(user=ministry_user, round_=round_),
        "province": lambda: dashboards.province_dashboard(user=bureau_user, province=shandong, round_=round_),
        "national api": lambda: api(ministry_user).get(reverse("api:dashboard-national")),
        "province api": lambda: api(bureau_user).get(reverse("api:dashboard-province", args=["370000"])),
    }
    small = {name: queries(call) for name, call in calls.items()}

    grow(round_, units=150)
    grow(round_, units=150, province="370000")
    assert City.objects.count() > 600
    Designation.objects.bulk_create(
        [Designation(city=c, round=round_, source=Designation.Source.APPROVED) for c in City.objects.all()[:200]],
        ignore_conflicts=True,
    )

    for name, call in calls.items():
        with django_assert_max_num_queries(small[name]):
            call()
    # The counts of Gigabit Cities and annual reports take one query, the watch-list panel five.
    assert small["national"] <= 30 and small["province"] <= 32


@pytest.mark.parametrize("page", ["national", "province"])
def test_a_dashboard_s_first_view_reads_its_menu_once_and_shows_it(page, small_country, ministry_user, client):
    """The dashboard's content is rendered for the cache without the menu; the page around it reads
    the reader's menu (its unread count, whether it may browse the audit trail) once."""
    from django.contrib.auth.models import Permission

    from reviews import context_processors
    from reviews.models import Notification, NotificationKind

    ministry_user.user_permissions.add(Permission.objects.get(codename="browse_audit"))
    city = City.objects.get(code="370100")
    Notification.objects.create(
        recipient=ministry_user, kind=NotificationKind.RECOMMENDED, city=city, round=small_country
    )
    client.force_login(ministry_user)
    url = (
        reverse("reviews:ministry_home")
        if page == "national"
        else reverse("reviews:province_dashboard", args=["370000"])
    )

    with (
        mock.patch.object(context_processors, "may_browse_audit", wraps=context_processors.may_browse_audit) as audit,
        mock.patch.object(Notification, "unread_count", wraps=Notification.unread_count) as unread,
    ):
        html = client.get(url).content.decode()

    assert audit.call_count == 1 and unread.call_count == 1
    assert 'data-testid="unread-count">1<' in html
    assert reverse("audit:trail") in html
    assert html.count('class="mainnav"') == 1


def test_a_reference_share_above_100_is_refused_beside_its_field(open_round, ministry_user, client):
    client.force_login(ministry_user)
    url = reverse("reviews:reference_values") + f"?round={open_round.year}"

    response = client.post(url, {"value_pon_10g_share": "120", "value_bs5g_per_10k": "15.7"})

    page = response.content.decode()
    assert response.status_code == 400 and "不能超过 100" in page and 'value="120"' in page
    assert not ReferenceValue.objects.filter(round=open_round).exists()  # all or nothing


# ------------------------------------------------------------------------------------------------
# The provincial dashboard's city table, as the bureau reads it
# ------------------------------------------------------------------------------------------------
def _city_row(html: str, code: str) -> str:
    start = html.index(f'<th scope="row" data-value="{code}">')
    return html[start : html.index("</tr>", start)]


def test_the_city_table_shows_each_city_s_state_deadline_days_left_and_reported_figures(
    open_round, bureau_user, client
):
    today = timezone.localdate()
    threshold = open_round.threshold_map()["bs5g_per_10k"]
    reported = make_submission(City.objects.get(code="370400"), open_round, Status.SUBMITTED)
    Submission.objects.filter(pk=reported.pk).update(
        value_bs5g_per_10k=threshold - Decimal("0.1"), value_users_1000m=Decimal(1234567)
    )
    draft = make_submission(City.objects.get(code="370500"), open_round, Status.DRAFT)
    Designation.objects.create(city_id="370400", round=open_round, source=Designation.Source.APPROVED)
    # The round's deadline was three days ago: 济南 has not started and is late; 青岛 was given five
    # more days, 淄博 twenty.
    open_round.deadline = today - datetime.timedelta(days=3)
    open_round.save(update_fields=["deadline"])
    for city, days in (("370200", 5), ("370300", 20)):
        until = today + datetime.timedelta(days=days)
        Extension.objects.create(city_id=city, round=open_round, until=until, reason="台风", granted_by=bureau_user)
    client.force_login(bureau_user)

    html = client.get(
        reverse("reviews:province_dashboard", args=["370000"]), HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()

    late = _city_row(html, "370100")
    assert "济南市" in late and "Not started" in late and "<a " not in late  # no form to open
    assert f'<td class="nowrap">{open_round.deadline:%Y-%m-%d}</td>' in late
    assert '<td class="num" data-value="-3"><span class="late">-3</span></td>' in late
    urgent = _city_row(html, "370200")
    assert f'{today + datetime.timedelta(days=5):%Y-%m-%d} <span class="badge badge-info">extended</span>' in urgent
    assert '<span class="urgent">5</span>' in urgent
    assert '<span class="">20</span>' in _city_row(html, "370300")
    submitted = _city_row(html, "370400")
    assert f'<a href="/submissions/{reported.pk}/">枣庄市</a>' in submitted
    assert '<span class="muted">reported</span>' in submitted
    assert f'<td class="num miss" title="Below the threshold">{threshold - Decimal("0.1"):,.1f}</td>' in submitted
    assert '<td class="num">1,234,567</td>' in submitted
    assert f"{open_round.year} batch" in submitted
    # A draft's half-typed figures are not shown; its link is there for the bureau.
    in_draft = _city_row(html, "370500")
    assert f'<a href="/submissions/{draft.pk}/">' in in_draft
    assert in_draft.count('<td class="num">—</td>') == 7
