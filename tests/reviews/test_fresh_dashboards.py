"""The national dashboard, its API and the summary export are kept in the cache (issue 16), and never
show stale data: whatever is written, by whichever path and in whichever process, the very next
request shows it, and what changes with the reader (scope, language, round) is never mixed up."""

from __future__ import annotations

import datetime
import io
import json
import os
import random
import subprocess
import sys
from collections.abc import Callable
from decimal import Decimal
from unittest import mock

import openpyxl
import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from gigacity.models import City, Role
from indicators.models import Operator, Round, RoundStatus, Threshold
from indicators.services import designation_create
from reviews import dashboards, exports, views
from reviews import services as review_services
from reviews.evidence import evidence_request_create
from reviews.freshness import DASHBOARDS, SUMMARY_TABLE, data_version
from reviews.sampling import sample_draw_create
from submissions.models import Status, Submission
from submissions.operators import operator_figures_report, round_tolerance_set
from submissions.scoring import submission_score
from submissions.services import submission_get_or_create, submission_submit, submission_update
from tests.conftest import make_user
from tests.factories import make_submission

from .data import add_forms

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

SHANDONG = "370000"
# Cities of 江苏 not named in 2021 (the reference data names 南京, 无锡, 常州 and 苏州 then).
XUZHOU, YANCHENG, NANTONG, LIANYUNGANG, HUAIAN, YANGZHOU = "320300", "320900", "320600", "320700", "320800", "321000"
NANJING = "320100"  # named in 2021


# ------------------------------------------------------------------------------------------------
# What the ministry sees
# ------------------------------------------------------------------------------------------------
def page_data(client, year: int, **headers) -> dict:
    """Everything the dashboard page shows, as its charts read it (the page's own JSON)."""
    response = client.get(f"{reverse('reviews:ministry_home')}?round={year}", **headers)
    assert response.status_code == 200
    html = response.content.decode()
    start = html.index('<script id="dashboard-data" type="application/json">') + len(
        '<script id="dashboard-data" type="application/json">'
    )
    return json.loads(html[start : html.index("</script>", start)])


def api_data(client, year: int) -> dict:
    response = client.get(f"{reverse('api:dashboard-national')}?round={year}")
    assert response.status_code == 200
    return response.json()


def export_rows(client, year: int) -> list[tuple]:
    response = client.get(f"{reverse('api:export-summary')}?round={year}")
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    # Without the note of when it was exported (to the minute: two downloads may straddle one).
    return [row for row in sheet.iter_rows(values_only=True) if not str(row[0] or "").startswith("导出自")]


def everything(client, year: int) -> dict:
    return {"page": page_data(client, year), "api": api_data(client, year), "export": export_rows(client, year)}


@pytest.fixture
def ministry_client(client, ministry_user):
    client.force_login(ministry_user)
    return client


@pytest.fixture
def country(open_round):
    """Forms in every state across one province, and a few of another walked there one by one."""
    add_forms(round_=open_round, cities=City.objects.filter(province=SHANDONG), rng=random.Random(16))
    return {
        "draft": make_submission(City.objects.get(pk=XUZHOU), open_round, Status.DRAFT, seed=1),
        "returned": make_submission(City.objects.get(pk=YANGZHOU), open_round, Status.RETURNED, seed=5),
        "submitted": make_submission(City.objects.get(pk=YANCHENG), open_round, Status.SUBMITTED, seed=2),
        "recommended": make_submission(City.objects.get(pk=NANTONG), open_round, Status.RECOMMENDED, seed=3),
    }


def bureau_of(province: str):
    return make_user(f"bureau-{province}", Role.BUREAU, province=province)


def city_official(city: str):
    return make_user(f"city-{city}", Role.CITY, city=city)


# ------------------------------------------------------------------------------------------------
# Every kind of write, as its service makes it. Each takes the forms, the round and a ministry user,
# does what must come first, and returns the write itself.
# ------------------------------------------------------------------------------------------------
Write = Callable[[], object]


def open_a_form(forms, round_, ministry) -> Write:
    city = City.objects.get(pk=LIANYUNGANG)  # no form yet
    official = city_official(city.pk)

    def write():
        form = submission_get_or_create(city=city, round_=round_, actor=official)
        submission_update(
            submission_id=form.pk, actor=official, data={"bs5g_count": 1234}, expected_version=form.version
        )

    return write


def save_a_draft(forms, round_, ministry) -> Write:
    form = forms["draft"]
    data = {"bs5g_count": form.bs5g_count + 1}
    return lambda: submission_update(
        submission_id=form.pk, actor=city_official(XUZHOU), data=data, expected_version=form.version
    )


def save_a_returned_form(forms, round_, ministry) -> Write:
    # The city corrects the form its bureau returned: still not reported, its figures still not shown.
    form = forms["returned"]
    data = {"bs5g_count": form.bs5g_count + 7, "contact_name": "王五"}
    return lambda: submission_update(
        submission_id=form.pk, actor=city_official(YANGZHOU), data=data, expected_version=form.version
    )


def resubmit_a_returned_form(forms, round_, ministry) -> Write:
    official = city_official(YANGZHOU)
    return lambda: submission_submit(submission_id=forms["returned"].pk, actor=official, confirm_inconsistent=True)


def return_a_draft_by_hand(forms, round_, ministry) -> Write:
    # The admin or plain SQL: nothing but the status changes (no event, no updated_at).
    def write():
        with connection.cursor() as cursor:
            cursor.execute("UPDATE submissions_submission SET status = 'returned' WHERE id = %s", [forms["draft"].pk])

    return write


def correct_a_reported_figure_by_hand(forms, round_, ministry) -> Write:
    # A figure of a reported form changed without the ORM (and without updated_at or version).
    def write():
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE submissions_submission SET value_bs5g_per_10k = value_bs5g_per_10k + 1000 WHERE id = %s",
                [forms["submitted"].pk],
            )

    return write


def add_a_city(forms, round_, ministry) -> Write:
    return lambda: City.objects.create(code="329900", province_id="320000", name="新设市")


def submit(forms, round_, ministry) -> Write:
    official = city_official(XUZHOU)
    return lambda: submission_submit(submission_id=forms["draft"].pk, actor=official, confirm_inconsistent=True)


def score(forms, round_, ministry) -> Write:
    form = forms["draft"]
    submission_submit(submission_id=form.pk, actor=city_official(XUZHOU), confirm_inconsistent=True)
    return lambda: submission_score(submission_id=form.pk)


def return_to_city(forms, round_, ministry) -> Write:
    bureau = bureau_of("320000")
    return lambda: review_services.submission_return(submission_id=forms["submitted"].pk, actor=bureau, reason="请核实")


def recommend(forms, round_, ministry) -> Write:
    bureau = bureau_of("320000")
    return lambda: review_services.submission_recommend(submission_id=forms["submitted"].pk, actor=bureau)


def approve(forms, round_, ministry) -> Write:
    return lambda: review_services.submission_approve(submission_id=forms["recommended"].pk, actor=ministry)


def report_operator_figures(forms, round_, ministry) -> Write:
    operator = make_user("js_mobile", Role.OPERATOR, province="320000", operator="mobile")

    def write():
        with TestCase.captureOnCommitCallbacks(execute=True):  # the rescoring it asks for runs too
            operator_figures_report(
                actor=operator,
                round_=round_,
                operator_code=None,
                rows=[{"city": YANCHENG, "bs5g_count": 5}],
                source="api",
            )

    return write


def ask_for_evidence(forms, round_, ministry) -> Write:
    return lambda: evidence_request_create(
        submission_id=forms["submitted"].pk,
        actor=ministry,
        field="bs5g_count",
        question="请提供5G基站数的统计表",
        due_on=timezone.localdate() + datetime.timedelta(days=3),
    )


def change_a_threshold(forms, round_, ministry) -> Write:
    current = round_.threshold_map()["bs5g_per_10k"]
    return lambda: review_services.thresholds_update(
        round_=round_, values={"bs5g_per_10k": current + Decimal(3)}, reason="调整", actor=ministry
    )


def change_the_tolerance(forms, round_, ministry) -> Write:
    return lambda: round_tolerance_set(round_=round_, value="12.5", actor=ministry, reason="调整")


def name_a_city(forms, round_, ministry) -> Write:
    return lambda: designation_create(city_id=HUAIAN, round_=round_, source="decision")


def close_the_round(forms, round_, ministry) -> Write:
    return lambda: review_services.round_set_status(round_=round_, status=RoundStatus.CLOSED, actor=ministry)


def rename_an_operator(forms, round_, ministry) -> Write:
    # In the admin: reference data, shown by name on a province's page (its operators' reports).
    return lambda: Operator.objects.filter(code="mobile").update(name_zh="中国移动通信集团")


def draw_a_sample(forms, round_, ministry) -> Write:
    return lambda: sample_draw_create(round_=round_, actor=ministry, size=1, seed=7)


# The writes the ministry sees on these three, and those it does not (they must still leave nothing stale).
SHOWN = [
    open_a_form,
    submit,
    return_to_city,
    recommend,
    approve,
    change_a_threshold,
    name_a_city,
    close_the_round,
    resubmit_a_returned_form,
    return_a_draft_by_hand,
    correct_a_reported_figure_by_hand,
    add_a_city,
]
NOT_SHOWN_HERE = [
    save_a_draft,
    save_a_returned_form,
    score,
    report_operator_figures,
    ask_for_evidence,
    change_the_tolerance,
    draw_a_sample,
    rename_an_operator,
]
# What the ministry's three views do not read: half-typed figures of forms still with their city.
DRAFT_SAVES = [save_a_draft, save_a_returned_form]


def write_then_look(prepare, forms, round_, ministry, client) -> tuple[dict, dict, dict]:
    """What the three showed before the write, on the very next request after it, and when computed
    from nothing (the cache emptied)."""
    write = prepare(forms, round_, ministry)
    before = everything(client, round_.year)
    assert everything(client, round_.year) == before  # a repeat view, from the cache
    version = data_version()

    write()

    assert data_version() != version
    after = everything(client, round_.year)
    cache.clear()
    fresh = everything(client, round_.year)
    return before, after, fresh


@pytest.mark.parametrize("prepare", SHOWN, ids=lambda w: w.__name__)
def test_a_change_the_ministry_sees_is_on_the_very_next_request(
    prepare, country, open_round, ministry_user, ministry_client
):
    before, after, fresh = write_then_look(prepare, country, open_round, ministry_user, ministry_client)

    assert after == fresh
    assert after["api"] != before["api"]
    assert after["page"] != before["page"]


@pytest.mark.parametrize("prepare", NOT_SHOWN_HERE, ids=lambda w: w.__name__)
def test_a_change_shown_elsewhere_still_leaves_nothing_stale(
    prepare, country, open_round, ministry_user, ministry_client
):
    _before, after, fresh = write_then_look(prepare, country, open_round, ministry_user, ministry_client)

    assert after == fresh


# ------------------------------------------------------------------------------------------------
# A province's dashboard, kept in the cache below its heading (the same version as the national one)
# ------------------------------------------------------------------------------------------------
def province_content(client, year: int) -> str:
    """What 江苏's dashboard page shows below its heading (which is rendered for every request: the
    reader's CSRF token, and their notifications in the menu, are no part of the figures)."""
    response = client.get(f"{reverse('reviews:province_dashboard', args=['320000'])}?round={year}")
    assert response.status_code == 200
    html = response.content.decode()
    return html[html.index('<div class="dash-grid">') : html.index("</main>")]


@pytest.mark.parametrize("prepare", SHOWN + NOT_SHOWN_HERE, ids=lambda w: w.__name__)
def test_a_provinces_dashboard_shows_every_change_on_the_very_next_request(
    prepare, country, open_round, ministry_user, client
):
    write = prepare(country, open_round, ministry_user)
    client.force_login(bureau_of("320000"))  # every write here is in 江苏
    before = province_content(client, open_round.year)
    assert province_content(client, open_round.year) == before  # a repeat view, from the cache

    write()

    after = province_content(client, open_round.year)
    cache.clear()
    assert after == province_content(client, open_round.year)  # as computed from nothing
    if prepare in SHOWN or prepare in (report_operator_figures, rename_an_operator):  # the operators' panel
        assert after != before


@pytest.mark.parametrize("page", ["national", "province"])
def test_a_round_closed_just_after_the_request_read_it_is_shown_closed(
    page, country, open_round, ministry_user, client
):
    # The request reads the round, the ministry closes it, and only then is the data's version read:
    # the page must not keep the round as it was under the newer version.
    client.force_login(ministry_user)
    look = {
        "national": lambda: page_data(client, open_round.year)["round"],
        "province": lambda: province_content(client, open_round.year),
    }[page]
    look()  # in the cache at the round's version before the change
    read_round = views._round_or_none

    def the_round_then_closed(request):
        round_ = read_round(request)
        review_services.round_set_status(
            round_=Round.objects.get(pk=round_.pk), status=RoundStatus.CLOSED, actor=ministry_user
        )
        return round_

    with mock.patch.object(views, "_round_or_none", the_round_then_closed):
        shown = look()
    cache.clear()
    assert shown == look()  # what a page computed from nothing shows: the round closed


@pytest.mark.parametrize(
    "prepare", [w for w in SHOWN + NOT_SHOWN_HERE if w not in DRAFT_SAVES], ids=lambda w: w.__name__
)
def test_every_write_but_a_draft_save_moves_the_versions_of_the_ministrys_views(
    prepare, country, open_round, ministry_user
):
    write = prepare(country, open_round, ministry_user)
    before = data_version(DASHBOARDS, open_round), data_version(SUMMARY_TABLE, open_round)

    write()

    after = data_version(DASHBOARDS, open_round), data_version(SUMMARY_TABLE, open_round)
    assert after[0] != before[0]
    assert after[1] != before[1]


def test_the_version_is_the_same_behind_transaction_pooling(country, open_round, ministry_user):
    """Behind pgbouncer in transaction mode (`DISABLE_SERVER_SIDE_CURSORS`) nothing is prepared in the
    server: the version is read by its own SQL, and is the same, and moves with a write the same."""

    def versions():
        return data_version(DASHBOARDS, open_round), data_version(SUMMARY_TABLE, open_round), data_version()

    pooled = mock.patch.dict(connection.settings_dict, {"DISABLE_SERVER_SIDE_CURSORS": True})
    prepared = versions()
    with pooled, CaptureQueriesContext(connection) as queries:
        assert versions() == prepared
    assert not any(query["sql"].startswith(("PREPARE", "EXECUTE")) for query in queries)
    submit(country, open_round, ministry_user)()
    with pooled:
        moved = versions()
    assert moved == versions() and all(m != p for m, p in zip(moved, prepared, strict=True))


@pytest.mark.parametrize("prepare", DRAFT_SAVES, ids=lambda w: w.__name__)
def test_a_draft_save_leaves_the_ministrys_views_in_the_cache(
    prepare, country, open_round, ministry_user, ministry_client
):
    # The deadline day: hundreds of cities save drafts while the ministry looks at the dashboard. What
    # the city types is not on it until the form is submitted, so its repeat views stay in the cache.
    write = prepare(country, open_round, ministry_user)
    before = everything(ministry_client, open_round.year)
    summary_version = data_version(SUMMARY_TABLE, open_round)

    write()

    with (
        mock.patch.object(dashboards, "national_dashboard", wraps=dashboards.national_dashboard) as computed,
        mock.patch.object(exports, "summary_workbook", wraps=exports.summary_workbook),
    ):
        page, api = page_data(ministry_client, open_round.year), api_data(ministry_client, open_round.year)
    assert computed.call_count == 0
    assert (page, api) == (before["page"], before["api"])
    # The export's key also carries the minute it says it was exported at: its version is compared.
    assert data_version(SUMMARY_TABLE, open_round) == summary_version
    cache.clear()
    assert everything(ministry_client, open_round.year) == before  # and that is what is true


def test_a_draft_save_costs_the_repeat_view_no_more_queries_than_a_hit(
    country, open_round, ministry_user, ministry_client, django_assert_max_num_queries
):
    api_data(ministry_client, open_round.year)
    with CaptureQueriesContext(connection) as hit:
        api_data(ministry_client, open_round.year)
    save_a_draft(country, open_round, ministry_user)()

    with django_assert_max_num_queries(len(hit.captured_queries)):
        api_data(ministry_client, open_round.year)


def test_the_summary_export_shows_a_newly_named_city_at_once(country, open_round, ministry_user, ministry_client):
    before = export_rows(ministry_client, open_round.year)
    review_services.submission_approve(submission_id=country["recommended"].pk, actor=ministry_user)

    after = export_rows(ministry_client, open_round.year)

    assert not any("南通" in str(row) for row in before)
    assert any("南通" in str(row) for row in after)


def test_a_change_made_without_the_orm_is_seen_too(country, open_round, ministry_client):
    # The admin, a command, a migration or plain SQL: nothing has to remember to tell the cache.
    before = api_data(ministry_client, open_round.year)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE submissions_submission SET status = 'approved' WHERE id = %s", [country["submitted"].pk])

    after = api_data(ministry_client, open_round.year)

    assert after["status_counts"]["approved"] == before["status_counts"]["approved"] + 1
    assert after["status_counts"]["submitted"] == before["status_counts"]["submitted"] - 1


# ------------------------------------------------------------------------------------------------
# Each view's version covers the rounds it reads: its own, and the earlier ones where it reads them
# ------------------------------------------------------------------------------------------------
def round_before(round_) -> Round:
    earlier = Round.objects.create(year=round_.year - 1, status=RoundStatus.OPEN, deadline=round_.deadline)
    Threshold.objects.bulk_create(
        Threshold(round=earlier, indicator_id=t.indicator_id, value=t.value) for t in round_.thresholds.all()
    )
    return earlier


def watched(data: dict) -> dict[str, int]:
    return {row["city"]: row["rounds"] for row in data["watch"]["rows"]}


def test_a_change_in_an_earlier_round_is_on_the_next_dashboard_of_a_later_one(
    open_round, ministry_user, ministry_client
):
    # Given 南京 below a threshold last year and this year: on the watch list for two rounds in a row.
    last_year = round_before(open_round)
    earlier_form = make_submission(City.objects.get(pk=NANJING), last_year, Status.SUBMITTED, pon_10g_ports=1000)
    review_services.round_set_status(round_=last_year, status=RoundStatus.CLOSED, actor=ministry_user)
    make_submission(City.objects.get(pk=NANJING), open_round, Status.SUBMITTED, pon_10g_ports=1000)
    before = everything(ministry_client, open_round.year)
    assert watched(before["api"])[NANJING] == watched(before["page"])[NANJING] == 2
    summary_version = data_version(SUMMARY_TABLE, open_round)

    # When last year's figure is corrected by hand (no ORM, no event, no updated_at)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE submissions_submission SET value_pon_10g_share = 99 WHERE id = %s", [earlier_form.pk])

    # Then this round's dashboard, which judges last year for its watch list, shows it at once; the
    # summary table of this round, which reads nothing of last year, keeps its version.
    after = everything(ministry_client, open_round.year)
    assert watched(after["api"])[NANJING] == watched(after["page"])[NANJING] == 1
    assert data_version(SUMMARY_TABLE, open_round) == summary_version
    cache.clear()
    assert everything(ministry_client, open_round.year) == after


def test_a_change_in_a_later_round_leaves_the_views_of_an_earlier_one_in_the_cache(
    country, open_round, ministry_user, ministry_client
):
    # Given the ministry's three views of this round, and next year's round with a form reported
    following = review_services.round_create_next(actor=ministry_user, source=open_round)
    following.status = RoundStatus.OPEN
    following.save(update_fields=["status"])
    later = make_submission(City.objects.get(pk=XUZHOU), following, Status.SUBMITTED, seed=9)
    before = everything(ministry_client, open_round.year)
    versions = data_version(DASHBOARDS, open_round), data_version(SUMMARY_TABLE, open_round)
    of_every_round = data_version()

    # When that form's status and a figure are changed by hand (the history tables untouched: their
    # latest ids are the same for every round)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE submissions_submission SET status = 'approved', value_bs5g_per_10k = value_bs5g_per_10k + 1"
            " WHERE id = %s",
            [later.pk],
        )

    # Then this round's views are still answered from the cache, and that is what is true, while the
    # version of every round (what reads them all) moved.
    assert (data_version(DASHBOARDS, open_round), data_version(SUMMARY_TABLE, open_round)) == versions
    assert data_version() != of_every_round
    with mock.patch.object(dashboards, "national_dashboard", wraps=dashboards.national_dashboard) as computed:
        page, api = page_data(ministry_client, open_round.year), api_data(ministry_client, open_round.year)
    assert computed.call_count == 0
    assert (page, api) == (before["page"], before["api"])
    cache.clear()
    assert everything(ministry_client, open_round.year) == before


# ------------------------------------------------------------------------------------------------
# What changes with the reader
# ------------------------------------------------------------------------------------------------
def test_each_language_gets_its_own_page(country, open_round, ministry_client):
    chinese = page_data(ministry_client, open_round.year, HTTP_ACCEPT_LANGUAGE="zh-hans")
    english = page_data(ministry_client, open_round.year, HTTP_ACCEPT_LANGUAGE="en")

    assert chinese["round"]["status_label"] != english["round"]["status_label"]
    assert english["round"]["status_label"] == "Open"
    assert page_data(ministry_client, open_round.year, HTTP_ACCEPT_LANGUAGE="zh-hans") == chinese


def test_each_round_gets_its_own_figures(country, open_round, ministry_client, ministry_user):
    current = api_data(ministry_client, open_round.year)
    following = review_services.round_create_next(actor=ministry_user, source=open_round)

    other = api_data(ministry_client, following.year)

    assert other["round"]["year"] == following.year != current["round"]["year"]
    assert other["status_counts"]["not_started"] == other["status_counts"]["units"]
    assert current["status_counts"]["not_started"] < current["status_counts"]["units"]


def test_a_bureau_never_gets_the_ministrys_cached_figures(country, open_round, ministry_client, client):
    ministry_rows = export_rows(ministry_client, open_round.year)
    client.force_login(bureau_of(SHANDONG))

    bureau_rows = export_rows(client, open_round.year)

    def provinces(rows):
        return {row[1] for row in rows if isinstance(row[0], int)}

    assert len(provinces(ministry_rows)) > 1
    assert provinces(bureau_rows) == {"山东省"}


def test_the_cached_page_carries_no_reader(country, open_round, admin_user, client):
    reader = make_user("zhang-san-of-the-ministry", Role.MINISTRY)
    client.force_login(reader)
    page_data(client, open_round.year)  # in the cache now, from this reader's request
    client.force_login(admin_user)

    html = client.get(f"{reverse('reviews:ministry_home')}?round={open_round.year}").content.decode()

    assert admin_user.username in html
    assert reader.username not in html


# ------------------------------------------------------------------------------------------------
# Two processes, each with its own cache
# ------------------------------------------------------------------------------------------------
WRITER = """
import django
django.setup()
from gigacity.models import User
from reviews import services
from submissions.models import Submission
form = Submission.objects.get(pk={pk})
services.submission_recommend(submission_id=form.pk, actor=User.objects.get(username="{bureau}"))
"""


@pytest.mark.django_db(transaction=True)
def test_a_change_made_by_another_process_is_seen_at_once(reference, open_round, ministry_user, client):
    # Another gunicorn worker, with a cache of its own (in CI and in development each process keeps
    # its own LocMemCache): it writes, this process shows it on its next request.
    form = make_submission(City.objects.get(pk=YANCHENG), open_round, Status.SUBMITTED, seed=4)
    bureau = bureau_of("320000")
    client.force_login(ministry_user)
    before = api_data(client, open_round.year)
    page_before = page_data(client, open_round.year)
    assert api_data(client, open_round.year) == before

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "gigacity.settings",
        "DATABASE_URL": _url_of_this_test_database(),
        "REDIS_CACHE_URL": "",
    }
    finished = subprocess.run(
        [sys.executable, "-c", WRITER.format(pk=form.pk, bureau=bureau.username)],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr[-3000:]

    after = api_data(client, open_round.year)
    assert after["status_counts"]["recommended"] == before["status_counts"]["recommended"] + 1
    assert after["status_counts"]["submitted"] == before["status_counts"]["submitted"] - 1
    page_after = page_data(client, open_round.year)
    assert page_after["status_counts"]["recommended"] == page_before["status_counts"]["recommended"] + 1
    assert Submission.objects.get(pk=form.pk).status == Status.RECOMMENDED


def _url_of_this_test_database() -> str:
    db = connection.settings_dict
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{host}:{port}/{db['NAME']}"


@pytest.mark.django_db(transaction=True)
def test_a_table_s_version_does_not_come_back_with_other_rows(reference):
    """Transactions numbered 101, 102, 103: 102 renames two provinces and commits, then 103 renames
    one of them and 101 the other. A sum of the rows' xmins is the same before and after — other
    names under a version rows were kept at. The version hashes each row's xmin with its place."""
    import psycopg2

    from gigacity.models import Province
    from gigacity.statements import Statement, kept_at
    from reviews.freshness import table_versions

    names = Statement(lambda: Province.objects.order_by("code").values_list("code", "short_name"), keep=True)

    def seen() -> dict[str, str]:
        with kept_at(table_versions(data_version())):
            return dict(names())

    db = connection.settings_dict
    t101, t102, t103 = (
        psycopg2.connect(dbname=db["NAME"], user=db["USER"], host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432)
        for _ in range(3)
    )
    try:
        first, second, third = t101.cursor(), t102.cursor(), t103.cursor()
        first.execute("SELECT pg_current_xact_id()")  # 101 takes its number first
        second.execute("UPDATE gigacity_province SET short_name = 'A' WHERE code IN ('370000', '320000')")
        t102.commit()
        assert seen()["370000"] == "A"
        third.execute("UPDATE gigacity_province SET short_name = 'B' WHERE code = '320000'")
        t103.commit()
        first.execute("UPDATE gigacity_province SET short_name = 'C' WHERE code = '370000'")
        t101.commit()
        assert seen() == dict(Province.objects.values_list("code", "short_name"))
    finally:
        for connected in (t101, t102, t103):
            connected.close()
