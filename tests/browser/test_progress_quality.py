"""The burn-up chart on the national and provincial dashboards, and the data-quality pages (issue 15):
the chart draws (ECharts from static/, no inline script), switches to a region or a province, and
the pages read in Chinese. Screenshots: artifacts/screenshots/progress-*.png, quality-*.png."""

from __future__ import annotations

import datetime
import random

import pytest
from django.utils import timezone

from gigacity.models import City, Role
from indicators.models import Round, RoundStatus
from submissions.models import Action, Status, Submission, SubmissionEvent
from tests.conftest import make_user

from .conftest import ARTIFACTS, login, screenshot
from .test_accessibility import check, settle
from .test_dashboard import PAINTED

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

STEPS = (
    (Action.SUBMIT, Status.DRAFT, Status.SUBMITTED),
    (Action.RETURN, Status.SUBMITTED, Status.RETURNED),
    (Action.SUBMIT, Status.RETURNED, Status.SUBMITTED),
    (Action.RECOMMEND, Status.SUBMITTED, Status.RECOMMENDED),
    (Action.APPROVE, Status.RECOMMENDED, Status.APPROVED),
)


def _forms(round_, cities, rng, users, until: datetime.date) -> None:
    """Forms of `cities` opened over the round's first weeks, each carried a few steps of the
    workflow on later days (events written as the workflow leaves them), up to `until`."""
    city_user, bureau, ministry = users
    for city in cities:
        if Submission.objects.filter(city=city, round=round_).exists():
            continue
        day = round_.opens_on + datetime.timedelta(days=rng.randint(0, 40))
        moment = timezone.make_aware(datetime.datetime.combine(day, datetime.time(10)))
        form = Submission.objects.create(city=city, round=round_, created_at=moment)
        steps = [s for s in STEPS if s[0] != Action.RETURN or rng.random() < 0.4]
        taken = steps[: rng.randint(0, len(steps))]
        for version, (action, source, target) in enumerate(taken, start=2):
            moment += datetime.timedelta(days=rng.randint(1, 12), hours=rng.randint(0, 8))
            if moment.date() > until:
                break
            actor = {Action.SUBMIT: city_user, Action.RETURN: bureau, Action.RECOMMEND: bureau}.get(action, ministry)
            SubmissionEvent.objects.create(
                submission=form,
                action=action,
                from_status=source,
                to_status=target,
                actor=actor,
                actor_role=actor.role,
                version=version,
                created_at=moment,
            )
            form.status = target
        form.save()


@pytest.fixture
def history(open_round):
    """A fifth of the country and all of 山东 in the open round, so that the lines of the chart rise
    day by day; the same again in last year's round, for the data-quality trend."""
    users = (
        make_user("b-city", Role.CITY, city="370200"),
        make_user("b-bureau", Role.BUREAU, province="370000"),
        make_user("b-ministry", Role.MINISTRY),
    )
    cities = [*City.objects.order_by("code")[::5], *City.objects.filter(province="370000")]
    today = timezone.localdate()
    last_year, _created = Round.objects.update_or_create(
        year=open_round.year - 1,
        defaults={
            "status": RoundStatus.PUBLISHED,
            "opens_on": open_round.opens_on - datetime.timedelta(days=365),
            "deadline": open_round.deadline - datetime.timedelta(days=365),
        },
    )
    _forms(last_year, cities, random.Random(14), users, last_year.deadline + datetime.timedelta(days=30))
    _forms(open_round, cities, random.Random(15), users, today)
    return open_round


def test_the_burn_up_on_the_national_and_provincial_dashboards(page, ministry_user, bureau_user, history):
    login(page, ministry_user.username)
    page.wait_for_selector("#progress-chart[data-rendered='total']")
    assert page.evaluate(PAINTED, "#progress-chart") > 3_000
    card = page.locator("section", has=page.locator("#progress-chart"))
    assert "每份表只计一次" in card.inner_text()
    card.screenshot(path=str(ARTIFACTS / "progress-national.png"))

    # A province's lines are asked of its API when it is picked; if that fails, the card says so and
    # picking it again retries.
    page.route("**/api/v1/progress/province/370000/**", lambda route: route.abort())
    page.locator("#progress-scope").select_option(label="山东省")
    page.wait_for_selector("#progress-chart[data-rendered='failed']")
    assert page.locator("[data-progress-status]").inner_text() == "未能读取该省的数据，请重新选择以再试一次。"
    page.unroute("**/api/v1/progress/province/370000/**")
    assert page.errors == ["Failed to load resource: net::ERR_FAILED"]  # the request made to fail, only
    page.errors.clear()
    assert page.locator("#progress-scope").input_value() == "total"  # the list says what is still drawn
    card.screenshot(path=str(ARTIFACTS / "progress-national-failed.png"))
    page.locator("#progress-scope").select_option(label="山东省")
    page.wait_for_selector("#progress-chart[data-rendered='province:370000']")
    assert page.locator("[data-progress-status]").is_hidden()
    # The chart's top line is the province's units, not the nation's.
    shandong = City.objects.filter(province="370000").count()
    assert page.evaluate(
        "() => echarts.getInstanceByDom(document.getElementById('progress-chart')).getOption().yAxis[0].max"
    ) == max(shandong, 1)
    card.screenshot(path=str(ARTIFACTS / "progress-national-shandong.png"))

    page.context.clear_cookies()
    login(page, bureau_user.username)
    page.goto("/dashboard/province/370000/")
    page.wait_for_selector("#progress-chart[data-rendered='total']")
    assert page.evaluate(PAINTED, "#progress-chart") > 3_000
    card = page.locator("section", has=page.locator("#progress-chart"))
    card.screenshot(path=str(ARTIFACTS / "progress-province.png"))


def test_the_data_quality_pages(page, ministry_user, bureau_user, history):
    login(page, ministry_user.username)
    page.goto("/dashboard/data-quality/")
    table = page.get_by_test_id("quality-table")
    assert "山东" in table.inner_text()
    assert "全国中位数" in table.inner_text()
    screenshot(page, "quality-national")

    page.context.clear_cookies()
    login(page, bureau_user.username)
    page.goto("/dashboard/data-quality/")
    assert page.url.endswith("/dashboard/data-quality/370000/")
    rows = page.get_by_test_id("quality-table").locator("tbody tr")
    assert rows.count() == 1
    screenshot(page, "quality-province")


def test_no_accessibility_violation_on_the_new_parts(page, ministry_user, bureau_user, history):
    """axe-core and the suite's own checks (tests/browser/test_accessibility.py) on the data-quality
    pages and the dashboards with their burn-up card, as the big accessibility test does."""
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    found = {}
    for user, paths in (
        (ministry_user, ["/ministry/", "/dashboard/data-quality/", "/dashboard/data-quality/370000/"]),
        (bureau_user, ["/dashboard/province/370000/", "/dashboard/data-quality/370000/"]),
    ):
        page.context.clear_cookies()
        login(page, user.username)
        for path in paths:
            page.goto(path)
            settle(page)
            violations, _counts = check(page, axe)
            if violations:
                found[f"{user.username} {path}"] = violations
    assert not found, found
