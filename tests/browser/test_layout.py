"""Nothing is clipped, in Chinese or in English: at 1366×768 every table fits its card and every word
of every chart (axis labels, the threshold's label) lies inside the chart; at 390 pixels (a phone)
the page itself never scrolls sideways, and a wide table scrolls inside its card with its first
column kept in view. Screenshots: artifacts/screenshots/layout-*.png."""

from __future__ import annotations

import random

import pytest

from gigacity.models import City
from submissions.models import Status
from tests.reviews.data import add_forms

from .conftest import login, screenshot, use_language

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LANGUAGES = ["zh-hans", "en"]


@pytest.fixture
def country(open_round):
    """Forms in every state in a third of the country, with 山东 complete; values that put some
    thresholds near the edge of their histogram."""
    cities = City.objects.order_by("code")[::3]
    add_forms(round_=open_round, cities=cities, rng=random.Random(2026), cases=5, excellent=1)
    add_forms(
        round_=open_round,
        cities=City.objects.filter(province="370000").exclude(code__in=[c.code for c in cities]),
        rng=random.Random(37),
        states=[Status.APPROVED, Status.RECOMMENDED, Status.SUBMITTED, Status.DRAFT],
    )
    return open_round


def pages(round_) -> list[tuple[str, str, str]]:
    return [
        ("ministry", "/ministry/", "national"),
        ("ministry", "/ministry/queue/", "ministry-queue"),
        ("ministry", f"/ministry/rounds/{round_.year}/", "round"),
        ("ministry", "/ministry/rounds/", "rounds"),
        ("ministry", f"/ministry/reference-values/?round={round_.year}", "reference-values"),
        ("ministry", "/dashboard/province/370000/", "province"),
        ("ministry", "/exports/", "exports"),
        ("bureau", "/bureau/", "bureau-queue"),
        ("city", "/city/", "city-home"),
    ]


# Every table wrapper that has to scroll sideways (its table is wider than the card), by its test id
# or its first header.
SCROLLING_TABLES = """() => Array.from(document.querySelectorAll(".table-wrap"))
  .filter((wrap) => wrap.offsetParent !== null && wrap.scrollWidth > wrap.clientWidth + 1)
  .map((wrap) => {
    const table = wrap.querySelector("table");
    return (table && (table.dataset.testid || table.querySelector("th")?.innerText)) || wrap.className;
  })"""

# Cells and badges whose text is cut (an ellipsis or hidden overflow).
CUT_CELLS = """() => Array.from(document.querySelectorAll("th, td, .badge"))
  .filter((el) => el.offsetParent !== null && el.scrollWidth > el.clientWidth + 1
      && getComputedStyle(el).overflowX !== "visible")
  .map((el) => el.innerText.trim())"""

# Every word ECharts drew, with the box it takes on the canvas; the ones that stick out of it.
CLIPPED_CHART_TEXT = """() => {
  const out = [];
  document.querySelectorAll("[_echarts_instance_]").forEach((dom) => {
    const chart = echarts.getInstanceByDom(dom);
    if (!chart) { return; }
    const width = chart.getWidth(), height = chart.getHeight();
    chart.getZr().storage.getDisplayList(true).forEach((el) => {
      const style = el.style || {};
      const words = (el.type === "text" || el.type === "tspan") && style.text;
      if (!words || el.invisible || el.ignore || style.fill === "transparent") { return; }
      const box = el.getBoundingRect().clone();
      box.applyTransform(el.getComputedTransform());
      const right = box.x + box.width, bottom = box.y + box.height;
      if (box.x < -0.5 || box.y < -0.5 || right > width + 0.5 || bottom > height + 0.5) {
        const where = `x=${Math.round(box.x)}..${Math.round(right)} of ${width}`;
        out.push(`${dom.id || dom.dataset.histogram}: "${style.text}" at ${where}`);
      }
    });
  });
  return out;
}"""


def visit(page, path: str) -> None:
    page.goto(path)
    if page.locator("#dashboard-data").count():
        page.wait_for_function("document.documentElement.dataset.charts !== undefined")
        page.wait_for_timeout(300)  # the map is drawn once its data has arrived


@pytest.mark.parametrize("language", LANGUAGES)
def test_nothing_is_clipped_at_1366_by_768(page, live_server, ministry_user, bureau_user, city_user, country, language):
    users = {"ministry": ministry_user, "bureau": bureau_user, "city": city_user}
    problems = {}
    for role, path, name in pages(country):
        page.context.clear_cookies()
        login(page, users[role].username)
        use_language(page, live_server, language)
        visit(page, path)
        found = {
            "tables that scroll": page.evaluate(SCROLLING_TABLES),
            "cut cells": page.evaluate(CUT_CELLS),
            "chart words cut": page.evaluate(CLIPPED_CHART_TEXT)
            if page.locator("[_echarts_instance_]").count()
            else [],
            "page scrolls sideways": page.evaluate("document.documentElement.scrollWidth") > 1366,
        }
        found = {k: v for k, v in found.items() if v}
        if found:
            problems[path] = found
        screenshot(page, f"layout-{name}-{language}-1366")
    assert problems == {}


@pytest.mark.parametrize("language", LANGUAGES)
def test_at_390_pixels_the_page_fits_and_wide_tables_scroll_in_their_card(
    open_page, live_server, ministry_user, bureau_user, city_user, country, language
):
    page = open_page(width=390, height=844)
    users = {"ministry": ministry_user, "bureau": bureau_user, "city": city_user}
    too_wide = {}
    for role, path, name in pages(country):
        page.context.clear_cookies()
        login(page, users[role].username)
        use_language(page, live_server, language)
        visit(page, path)
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 390:
            too_wide[path] = page.evaluate(
                """() => Array.from(document.querySelectorAll("main *"))
                  .filter((el) => el.getBoundingClientRect().right > 391 && !el.closest(".table-wrap"))
                  .slice(0, 5).map((el) => el.tagName + "." + el.className)"""
            )
        screenshot(page, f"layout-{name}-{language}-390")
    assert too_wide == {}

    # A wide table scrolls inside its card, and its first column (what the row is) stays in view.
    page.context.clear_cookies()
    login(page, ministry_user.username)
    use_language(page, live_server, language)
    visit(page, "/ministry/")
    wrap = page.get_by_test_id("province-table").locator("xpath=..")
    assert wrap.evaluate("(el) => el.scrollWidth > el.clientWidth && getComputedStyle(el).overflowX") == "auto"
    wrap.evaluate("(el) => { el.scrollLeft = el.scrollWidth; }")
    first = page.get_by_test_id("province-table").locator("tbody th").first
    box, frame = first.bounding_box(), wrap.bounding_box()
    assert frame["x"] - 1 <= box["x"] and box["x"] + box["width"] <= frame["x"] + frame["width"]
    assert first.inner_text() in {"北京市", "Beijing"}
