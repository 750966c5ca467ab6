"""The ministry opens the national dashboard: the map and every chart draw (ECharts from static/, no
CDN, no CSP error), hovering a province tells its figures, clicking it drills down to the province,
and from there to a city's form. Screenshots: artifacts/screenshots/dashboard-*.png."""

from __future__ import annotations

import random

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from gigacity.models import City
from submissions.models import Status
from tests.reviews.data import add_forms

from .conftest import ARTIFACTS, login, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# How many pixels of a chart's canvas are not transparent: 0 means ECharts drew nothing.
PAINTED = """(selector) => {
  const canvas = document.querySelector(selector + " canvas");
  if (!canvas) { return 0; }
  const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < data.length; i += 4) { if (data[i] !== 0) { painted += 1; } }
  return painted;
}"""


@pytest.fixture
def country(open_round):
    """Forms in every state in a third of the country, some cities named this round."""
    cities = City.objects.order_by("code")[::3]
    add_forms(round_=open_round, cities=cities, rng=random.Random(2026), cases=5, excellent=1)
    add_forms(
        round_=open_round,
        cities=City.objects.filter(province="370000").exclude(code__in=[c.code for c in cities]),
        rng=random.Random(37),
        states=[Status.APPROVED, Status.RECOMMENDED, Status.DRAFT],
    )
    return open_round


def test_the_national_dashboard_draws_the_map_and_charts_and_drills_down(page, ministry_user, country):
    login(page, ministry_user.username)

    assert page.url.endswith("/ministry/")
    page.wait_for_selector("#china-map[data-rendered='named']")
    assert page.evaluate(PAINTED, "#china-map") > 20_000
    assert page.evaluate(PAINTED, "#batch-chart") > 2_000
    for code in ("fiber_gigabit_coverage", "bs5g_per_10k", "users_1000m"):
        assert page.evaluate(PAINTED, f"[data-histogram='{code}']") > 1_000, code
    assert page.get_by_test_id("kpi-units").inner_text() == str(City.objects.count())
    screenshot(page, "dashboard-national")

    # Hovering a province shows its figures.
    page.evaluate(
        """() => echarts.getInstanceByDom(document.getElementById("china-map"))
              .dispatchAction({type: "showTip", seriesIndex: 0, name: "山东"})"""
    )
    tooltip = page.locator("#china-map div").filter(has_text="山东省").last
    tooltip.wait_for()
    assert "千兆城市数" in tooltip.inner_text() and "单位数" in tooltip.inner_text()

    # The map coloured by progress instead.
    colour_by = page.get_by_role("group", name="地图着色依据")
    colour_by.get_by_role("button", name="报送进度").click()
    page.wait_for_selector("#china-map[data-rendered='progress']")
    assert colour_by.get_by_role("button", name="报送进度").get_attribute("aria-pressed") == "true"
    page.locator("#china-map").screenshot(path=str(ARTIFACTS / "dashboard-map-progress.png"))

    # Sorted by reporting progress, the provinces furthest behind come first.
    provinces = page.get_by_test_id("province-table")
    provinces.get_by_role("button", name="报送进度").click()
    provinces.get_by_role("button", name="报送进度").click()
    shares = [float(t.strip("%")) for t in provinces.locator("tbody td.progress-cell .num").all_inner_texts()]
    assert shares == sorted(shares)

    # The leaders' tabs work with the keyboard.
    first_tab = page.get_by_role("tab").first
    first_tab.focus()
    page.keyboard.press("ArrowRight")
    second = page.get_by_role("tab").nth(1)
    assert second.get_attribute("aria-selected") == "true"
    assert page.locator(f"#{second.get_attribute('aria-controls')}").is_visible()

    # Clicking 山东 on the map opens its dashboard.
    colour_by.get_by_role("button", name="千兆城市数").click()
    page.wait_for_selector("#china-map[data-rendered='named']")
    page.locator("#china-map").scroll_into_view_if_needed()
    # The map may still be settling (its redraw after the switch, the page's other charts growing
    # above it) when the first click lands: a click that opened nothing is tried again at the
    # point where 山东 now is.
    for attempt in range(3):
        point = page.evaluate(
            """() => {
              const chart = echarts.getInstanceByDom(document.getElementById("china-map"));
              const [x, y] = chart.convertToPixel({seriesIndex: 0}, [118.0, 36.3]);
              const box = document.getElementById("china-map").getBoundingClientRect();
              return {x: box.left + x, y: box.top + y};
            }"""
        )
        try:
            with page.expect_navigation(timeout=20_000):
                page.mouse.click(point["x"], point["y"])
            break
        except PlaywrightTimeoutError:
            if attempt == 2:
                raise
    assert "/dashboard/province/370000/" in page.url

    page.wait_for_selector("#compare-chart canvas")
    assert page.get_by_role("heading", level=1).inner_text() == "山东省 · 全省概况"
    assert page.evaluate(PAINTED, "#compare-chart") > 2_000
    assert page.evaluate(PAINTED, "#batch-chart") > 1_000
    screenshot(page, "dashboard-province")

    # And from the province to a city's form.
    with page.expect_navigation():
        page.get_by_test_id("city-table").get_by_role("link").first.click()
    assert "/submissions/" in page.url


def test_a_bureau_follows_its_province_sorts_its_cities_and_exports_its_cases(page, bureau_user, country):
    login(page, bureau_user.username)

    with page.expect_navigation():
        page.get_by_role("link", name="全省概况").click()

    assert page.url.endswith("/dashboard/province/370000/")
    page.wait_for_selector("#compare-chart canvas")
    assert page.evaluate(PAINTED, "[data-histogram='users_5g_share']") > 1_000
    assert page.locator("#china-map").count() == 0
    screenshot(page, "dashboard-bureau")

    # The cities closest to their deadline first.
    page.get_by_role("button", name="剩余天数").click()
    page.get_by_role("button", name="剩余天数").click()
    header = page.locator("th", has=page.get_by_role("button", name="剩余天数"))
    assert header.get_attribute("aria-sort") == "ascending"
    first_status = page.get_by_test_id("city-table").locator("tbody tr").first.locator("td").first.inner_text()
    assert first_status in {"未开始", "草稿", "已退回"}

    with page.expect_navigation():
        page.get_by_role("button", name="导出案例集（Excel）").click()
    assert page.url.endswith("/exports/")
    job = page.get_by_test_id("export-jobs").locator("li").first
    assert "案例集" in job.inner_text() and "山东省" in job.inner_text()
    job.get_by_role("link", name="下载").wait_for()
    screenshot(page, "dashboard-exports")
