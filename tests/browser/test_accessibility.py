"""Every page, in its normal state and in its error state, has no accessibility violation: none that
axe-core finds with the WCAG 2.1 A and AA rules, and none of the faults that axe cannot see (an error
message that its field does not point at, a link to an id that does not exist, a faint focus ring).

The pages come from the URL conf (`page_routes`, as the page permission matrix reads it): a page
route that is neither visited in VISITS nor excluded in NOT_PAGES with its reason fails
`test_every_page_is_checked_or_excluded`, so a new page cannot be forgotten. Everything is read in
Chinese, a sample (`english=True`) in English too.

axe-core is the one bundled in the PyPI package axe-playwright-python (pinned in pyproject.toml, so
the axe-core version is fixed and CI installs it like every other dev dependency; nothing is fetched
at run time and nothing is added to static/, whose files are served to users). It is injected
through the DevTools protocol, which the pages' Content-Security-Policy does not govern.

The report of each run: artifacts/accessibility-<language>.json (git-ignored), with the violations
counted by rule; screenshots: artifacts/screenshots/a11y-*.png.
"""

from __future__ import annotations

import datetime
import json
import os
import random
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.contrib.auth.tokens import default_token_generator
from django.db.models import F
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from gigacity.models import City
from tests.api.test_page_matrix import page_routes
from tests.conftest import PASSWORD
from tests.factories import make_submission
from tests.reviews.data import add_forms

from .conftest import ARTIFACTS, screenshot, use_language

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
AXE_VERSION = "4.12.1"  # the axe-core inside axe-playwright-python 0.1.8

# Page routes that are not pages a person reads, or that only redirect to one checked below.
NOT_PAGES = {
    # Downloads and POST-only routes added with issues 12, 14 and 17.
    "audit:export": "an Excel download of the audit trail",
    "reviews:public_csv": "CSV download of the public list",
    "reviews:public_json": "JSON copy of the public list",
    "submissions:pdf": "a PDF download (the print view is its source)",
    "submissions:cover_letter": "POST only (an upload); redirects to the form",
    "reviews:round_next": "POST only; redirects to the new round's page",
    # Evidence requests and sample checks (issue 13): the two ministry pages are read by axe (WCAG 2.1 AA,
    # with their error states) in tests/browser/test_checks_journey.py, as is the form page's evidence
    # panel; the rest are POST-only or downloads.
    "reviews:samples": "checked by axe in test_checks_journey.py (normal and error: size too large)",
    "reviews:sample": "checked by axe in test_checks_journey.py (after recording a finding)",
    "reviews:sample_export": "an Excel download",
    "reviews:sample_item": "POST only (an upload); redirects to the draw's page",
    "reviews:evidence_new": "POST only; redirects to the form's page (errors: test_checks_journey.py)",
    "reviews:evidence_answer": "POST only (an upload); redirects to the form's page",
    "reviews:evidence_act": "POST only; redirects to the form's page",
    "reviews:check_file": "a file download",
    "submissions:operator_workbook": "an Excel download (issue 13)",
    "home": "redirects to the role's home page, checked as that page",
    "healthz": "JSON for the container healthcheck",
    "logout": "POST only; redirects to the login page",
    "set_language": "POST only; redirects back (the English sample below is read through its cookie)",
    "schema": "the OpenAPI schema as YAML",
    "api-docs": "third-party Swagger UI (drf-spectacular's sidecar), none of our templates",
    "submissions:form": "redirects to the city's form (submissions:edit)",
    "submissions:attachment": "a file download",
    "submissions:excel_template": "an .xlsx download",
    "submissions:province_workbook": "an .xlsx download",
    "reviews:bureau_bulk": "POST only; redirects to the bureau queue, whose error state is checked",
    "reviews:ministry_bulk": "POST only; redirects to the ministry queue, whose error state is checked",
    "reviews:bureau_start": "POST only; redirects to the form the bureau fills in for the city",
    "reviews:act": "POST only; a refused action renders the submission page (submissions:detail, error states)",
    "reviews:my_province_dashboard": "redirects to the bureau's province dashboard",
    "reviews:notification_open": "redirects to what the notification is about",
    "reviews:notifications_read_all": "POST only; redirects to the notifications",
}

# Pages with nothing a person can get wrong on them (no form, or only choices that are all valid).
NO_ERROR_STATE = {
    "password_reset_done": "a message, no form",
    "password_reset_complete": "a message, no form",
    "submissions:home": "no form: the city's rounds and links to its form",
    "reviews:rounds": "a list of rounds, no form",
    "reviews:ministry_home": "a dashboard: its only control picks a round, and every choice is valid",
    "reviews:province_dashboard": "a dashboard: its only control picks a round, and every choice is valid",
    "reviews:notifications": "a list, no form",
    "reviews:data_quality": "a table: its only control picks a round, and every choice is valid",
    "reviews:data_quality_province": "a table: its only control picks a round, and every choice is valid",
    "reviews:public_rounds": "the published rounds, no form",
    "reviews:public_list": "a published list, no form",
    "submissions:print": "the form laid out for printing, no form",
    "reviews:watch": "a list: its filters pick a round, province, region and reason, and every choice is valid",
}

# Pages without a route of their own: Django's error pages, rendered from our templates.
ERROR_PAGES = {"(403)", "(404)"}


@dataclass
class Scene:
    """What the pages show: a round with forms in every state, and one form of each kind to act on."""

    round: Any
    users: dict[str, Any]
    form: Any  # 青岛's, returned by its bureau with comments on a field and a case: the city fills it in
    review: Any  # 济南's, submitted: the bureau reviews it
    decision: Any  # 烟台's, recommended: the ministry decides
    tmp: Path
    reset_link: str = ""


@dataclass(frozen=True)
class Visit:
    route: str  # a URL name from the URL conf, or one of ERROR_PAGES
    state: str  # "normal", or what went wrong
    role: str  # anonymous, city, bureau, ministry
    go: Callable[[Any, Scene], None]  # brings the page into the state (navigates, types, submits)
    english: bool = False  # also read in English


# -- How each page is brought into its state ------------------------------------------------------


def submit(page, selector: str) -> None:
    with page.expect_navigation():
        page.locator(selector).click()


def log_in(page, username: str, password: str = PASSWORD) -> None:
    page.goto("/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    submit(page, ".login-card button[type=submit]")


def form_url(scene: Scene) -> str:
    return f"/submissions/{scene.form.pk}/edit/"


def refused_save(page, scene: Scene) -> None:
    """A number typed in words and one above its limit: nothing is saved, every field says why."""
    page.goto(form_url(scene))
    page.fill("#id_urban_households", "一百万")
    page.fill("#id_users_1000m", "99999999999999999")
    submit(page, "button[name=action][value=save]")


def refused_case_save(page, scene: Scene) -> None:
    """The numbers are fine but a case is not (a domain the server does not know, as a stale page or
    a crafted request would send): the error is on the case's field."""
    page.goto(form_url(scene))
    page.evaluate(
        """() => {
          const select = document.querySelector('[data-case] [data-name="domain"]');
          select.add(new Option("?", "no-such-domain"));
          select.value = "no-such-domain";
        }"""
    )
    submit(page, "button[name=action][value=save]")


def failed_submit(page, scene: Scene) -> None:
    """Submitting an incomplete form: it is saved as a draft, and every missing value is listed, on
    the fields, on the cases' fields and for the cases as a whole."""
    page.goto(form_url(scene))
    page.fill("#id_contact_name", "")
    page.locator('[data-case] [data-name="description"]').first.fill("")
    page.locator('[data-case] [data-name="partners"]').first.fill("")
    while page.locator("[data-case]").count() > 3:
        page.locator("[data-case-remove]").last.click()
    submit(page, "button[name=action][value=submit]")


def moved_case(page, scene: Scene) -> None:
    """After a refused submission the city moves the case in error down and adds two: the messages
    move with their fields, and every new field has ids of its own."""
    failed_submit(page, scene)
    page.locator("[data-case]").first.locator("[data-case-down]").click()
    page.locator("[data-case-add]").click()
    page.locator("[data-case-add]").click()


def conflict(page, scene: Scene) -> None:
    """Somebody else saved the form after this page was opened."""
    page.goto(form_url(scene))
    type(scene.form).objects.filter(pk=scene.form.pk).update(version=F("version") + 1)
    page.fill("#id_bs5g_count", "12345")
    submit(page, "button[name=action][value=save]")


def live_errors(page, scene: Scene) -> None:
    """Errors said as they are typed, before any save: a word for a number, a part above its whole."""
    page.goto(form_url(scene))
    page.fill("#id_pon_10g_ports", "很多")
    page.fill("#id_users_5g", "999999999")
    page.locator("#id_pon_10g_ports").blur()


def upload(page, scene: Scene, url: str, name: str, content: bytes) -> None:
    path = scene.tmp / name
    path.write_bytes(content)
    page.goto(url)
    before = page.url
    page.set_input_files("#excel-file", str(path))
    page.locator(".excel-upload button[type=submit]").click()
    page.wait_for_url(lambda url: "?upload=" in url and url != before)


OLD_XLS = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 1024  # an old .xls file: refused, with the reason


def city_workbook(scene: Scene, **typed) -> bytes:
    """The city's template with values typed into it, by the label of their row."""
    from submissions.excel.city import city_template
    from tests.submissions.excel_helpers import load, save, type_into

    scene.form.refresh_from_db()
    workbook = load(city_template(submission=scene.form))
    for label, value in typed.items():
        type_into(workbook, label, value)
    return save(workbook)


def province_workbook(scene: Scene) -> bytes:
    """山东's workbook with a new 5G base station count for 青岛 and a first one for 淄博."""
    from submissions.excel.province import province_workbook
    from tests.submissions.excel_helpers import load, save

    workbook = load(province_workbook(province=scene.form.city.province, round_=scene.round))
    sheet = workbook["城市数据"]
    column = next(c for c in range(1, sheet.max_column + 1) if sheet.cell(row=2, column=c).value == "5G基站数（个）")
    for row in range(3, sheet.max_row + 1):
        if sheet.cell(row=row, column=1).value in ("370200", "370300"):
            sheet.cell(row=row, column=column).value = 15000
    return save(workbook)


def excel_url(scene: Scene) -> str:
    return f"/submissions/{scene.form.pk}/excel/"


def goto(path: str | Callable[[Scene], str]) -> Callable[[Any, Scene], None]:
    def go(page, scene: Scene) -> None:
        page.goto(path(scene) if callable(path) else path)

    return go


def login_failure(page, scene: Scene) -> None:
    page.goto("/login/")
    page.fill("#id_username", "qingdao")
    page.fill("#id_password", "wrong-password")
    submit(page, ".login-card button[type=submit]")


def reset_unknown_address(page, scene: Scene) -> None:
    page.goto("/password/reset/")
    page.fill("#id_email", "not-an-address")
    submit(page, "main button[type=submit]")


def reset_mismatch(page, scene: Scene) -> None:
    page.goto(scene.reset_link)
    page.fill("#id_new_password1", "Another-pass-2026")
    page.fill("#id_new_password2", "Different-pass-2026")
    submit(page, "main button[type=submit]")


def change_wrong_old_password(page, scene: Scene) -> None:
    page.goto("/password/change/")
    page.fill("#id_old_password", "not-my-password")
    page.fill("#id_new_password1", "Another-pass-2026")
    page.fill("#id_new_password2", "Another-pass-2026")
    submit(page, "main button[type=submit]")


def bulk_return_without_reason(page, scene: Scene) -> None:
    page.goto("/bureau/")
    page.locator(f'input[name="ids"][value="{scene.review.pk}"]').check()
    submit(page, "button[name=bulk_action][value=return]")


def bulk_reject_without_reason(page, scene: Scene) -> None:
    page.goto("/ministry/queue/")
    page.locator(f'input[name="ids"][value="{scene.decision.pk}"]').check()
    submit(page, "button[name=bulk_action][value=reject]")


def return_without_reason(page, scene: Scene) -> None:
    """The bureau returns a form without a reason (the browser's own check bypassed, as an old
    browser would): the action is refused and the page says why."""
    page.goto(f"/submissions/{scene.review.pk}/")
    page.locator("#return-reason").evaluate("(el) => el.removeAttribute('required')")
    page.fill("#ct0", "请核实")
    submit(page, "form[data-comment-form] button[type=submit]")


def stale_recommendation(page, scene: Scene) -> None:
    """The form changed after the page was opened: the recommendation is refused as a conflict."""
    page.goto(f"/submissions/{scene.review.pk}/")
    type(scene.review).objects.filter(pk=scene.review.pk).update(version=F("version") + 1)
    submit(page, "form:has(#recommend-note) button[type=submit]")


def reject_without_reason(page, scene: Scene) -> None:
    page.goto(f"/submissions/{scene.decision.pk}/")
    page.locator("#decision-reason").evaluate("(el) => el.removeAttribute('required')")
    submit(page, "button.btn-danger[formaction$='/reject/']")


def extension_without_reason(page, scene: Scene) -> None:
    page.goto("/bureau/extensions/370300/")
    page.fill("#id_until", "")
    submit(page, "main form button[type=submit]")


def negative_threshold(page, scene: Scene) -> None:
    page.goto(f"/ministry/rounds/{scene.round.year}/")
    page.locator("[data-testid=thresholds-form] input[type=number]").first.fill("-5")
    submit(page, "button[name=save_thresholds]")


def bad_round_settings(page, scene: Scene) -> None:
    page.goto(f"/ministry/rounds/{scene.round.year}/")
    page.fill("#id_borderline_margin", "-1")
    page.fill("#id_deadline", "")
    submit(page, "button[name=save_round]")


def tolerance_above_100(page, scene: Scene) -> None:
    page.goto(f"/ministry/rounds/{scene.round.year}/")
    page.fill("#tolerance_tolerance", "120")
    page.fill("#tolerance_reason", "放宽")
    submit(page, "button[name=save_tolerance]")


def negative_reference_value(page, scene: Scene) -> None:
    page.goto(f"/ministry/reference-values/?round={scene.round.year}")
    page.locator("[data-testid=reference-form] input[type=number]").first.fill("-1")
    submit(page, "main form[method=post] button[type=submit]")


def negative_operator_count(page, scene: Scene) -> None:
    """An operator types a negative count for 青岛 and a word for 济南's: nothing is saved, each cell
    says why."""
    page.goto("/operators/figures/")
    page.fill("#f-370200-bs5g_count", "-5")
    page.fill("#f-370100-pon_ports_total", "很多")
    submit(page, "[data-testid=operator-save]")


def refused_operator_file(page, scene: Scene) -> None:
    """An old .xls file instead of the workbook: refused, with the reason."""
    path = scene.tmp / "operator.xls"
    path.write_bytes(OLD_XLS)
    page.goto("/operators/figures/excel/")
    page.set_input_files("#operator-file", str(path))
    submit(page, "[data-testid=operator-check]")


def failed_export(page, scene: Scene) -> None:
    from reviews.exports import export_request
    from reviews.models import ExportState

    job = export_request(user=scene.users["ministry"], kind="cities", round_=scene.round)
    type(job).objects.filter(pk=job.pk).update(state=ExportState.FAILED, error="磁盘已满")
    page.goto("/exports/")


def audit_backwards_dates(page, scene: Scene) -> None:
    page.goto("/security/audit/")
    page.fill("#id_since", "2026-12-10")
    page.fill("#id_until", "2026-12-01")
    submit(page, "form[data-testid=audit-filters] button[type=submit]")


VISITS = [
    # Anyone
    Visit("login", "normal", "anonymous", goto("/login/"), english=True),
    Visit("login", "error: wrong password", "anonymous", login_failure, english=True),
    Visit("password_reset", "normal", "anonymous", goto("/password/reset/")),
    Visit("password_reset", "error: not an e-mail address", "anonymous", reset_unknown_address),
    Visit("password_reset_done", "normal", "anonymous", goto("/password/reset/sent/")),
    Visit("password_reset_confirm", "normal", "anonymous", lambda page, scene: page.goto(scene.reset_link)),
    Visit("password_reset_confirm", "error: passwords differ", "anonymous", reset_mismatch),
    Visit("password_reset_confirm", "error: link used or expired", "anonymous", goto("/password/reset/MQ/nope/")),
    Visit("password_reset_complete", "normal", "anonymous", goto("/password/reset/done/")),
    Visit("reviews:public_rounds", "normal", "anonymous", goto("/gigabit-cities/"), english=True),
    Visit("reviews:public_list", "normal", "anonymous", goto("/gigabit-cities/2021/"), english=True),
    # The city official
    Visit("submissions:home", "normal", "city", goto("/city/"), english=True),
    Visit("submissions:edit", "normal", "city", goto(form_url), english=True),
    Visit("submissions:edit", "error: typed, not saved", "city", live_errors),
    Visit("submissions:edit", "error: refused save", "city", refused_save, english=True),
    Visit("submissions:edit", "error: refused save of a case", "city", refused_case_save),
    Visit("submissions:edit", "error: cannot be submitted", "city", failed_submit, english=True),
    Visit("submissions:edit", "error: cannot be submitted, a case moved", "city", moved_case),
    Visit("submissions:edit", "error: saved by somebody else", "city", conflict),
    Visit("submissions:detail", "normal", "city", goto(lambda s: f"/submissions/{s.form.pk}/")),
    Visit("submissions:print", "normal", "city", goto(lambda s: f"/submissions/{s.form.pk}/print/"), english=True),
    Visit("submissions:excel", "normal", "city", goto(excel_url)),
    Visit(
        "submissions:excel",
        "normal: a checked workbook",
        "city",
        lambda page, scene: upload(
            page, scene, excel_url(scene), "调查表.xlsx", city_workbook(scene, **{"5G基站数": 12888})
        ),
    ),
    Visit(
        "submissions:excel",
        "error: a workbook with mistakes",
        "city",
        lambda page, scene: upload(
            page, scene, excel_url(scene), "有错误.xlsx", city_workbook(scene, 常住人口数="约600万", 电子邮箱="liuna@")
        ),
    ),
    Visit(
        "submissions:excel",
        "error: unreadable workbook",
        "city",
        lambda page, scene: upload(page, scene, excel_url(scene), "旧格式.xls", OLD_XLS),
    ),
    Visit("password_change", "normal", "city", goto("/password/change/")),
    Visit("password_change", "error: wrong old password", "city", change_wrong_old_password, english=True),
    Visit("reviews:notifications", "normal", "city", goto("/notifications/")),
    Visit("(404)", "error: no such page", "city", goto("/no-such-page/")),
    Visit("(403)", "error: not for this role", "city", goto("/bureau/")),
    # The provincial bureau
    Visit("reviews:bureau_home", "normal", "bureau", goto("/bureau/"), english=True),
    Visit("reviews:bureau_home", "error: bulk return without a reason", "bureau", bulk_return_without_reason),
    Visit("submissions:detail", "normal: review", "bureau", goto(lambda s: f"/submissions/{s.review.pk}/")),
    Visit("submissions:detail", "error: return without a reason", "bureau", return_without_reason, english=True),
    Visit("submissions:detail", "error: changed meanwhile", "bureau", stale_recommendation),
    Visit("reviews:extension_new", "normal", "bureau", goto("/bureau/extensions/370300/")),
    Visit("reviews:extension_new", "error: no date, no reason", "bureau", extension_without_reason),
    Visit("submissions:province_excel", "normal", "bureau", goto("/province/excel/")),
    Visit(
        "submissions:province_excel",
        "normal: a checked workbook",
        "bureau",
        lambda page, scene: upload(page, scene, "/province/excel/", "山东.xlsx", province_workbook(scene)),
    ),
    Visit(
        "submissions:province_excel",
        "error: unreadable workbook",
        "bureau",
        lambda page, scene: upload(page, scene, "/province/excel/", "旧格式.xls", OLD_XLS),
    ),
    Visit("reviews:province_dashboard", "normal", "bureau", goto("/dashboard/province/370000/")),
    Visit(
        "submissions:operator_figures",
        "normal: on the operator's behalf",
        "bureau",
        goto("/operators/figures/?operator=unicom"),
    ),
    Visit("reviews:exports", "normal", "bureau", goto("/exports/")),
    Visit("reviews:data_quality_province", "normal", "bureau", goto("/dashboard/data-quality/370000/")),
    # The ministry
    Visit("reviews:ministry_home", "normal", "ministry", goto("/ministry/"), english=True),
    Visit("reviews:province_dashboard", "normal: national staff", "ministry", goto("/dashboard/province/370000/")),
    Visit("reviews:ministry_queue", "normal", "ministry", goto("/ministry/queue/")),
    Visit("reviews:ministry_queue", "error: bulk reject without a reason", "ministry", bulk_reject_without_reason),
    Visit("submissions:detail", "normal: decision", "ministry", goto(lambda s: f"/submissions/{s.decision.pk}/")),
    Visit("submissions:detail", "error: reject without a reason", "ministry", reject_without_reason),
    Visit("reviews:rounds", "normal", "ministry", goto("/ministry/rounds/")),
    Visit("reviews:round", "normal", "ministry", goto(lambda s: f"/ministry/rounds/{s.round.year}/"), english=True),
    Visit("reviews:round", "error: negative threshold", "ministry", negative_threshold, english=True),
    Visit("reviews:round", "error: bad settings", "ministry", bad_round_settings),
    Visit("reviews:round", "error: tolerance above 100", "ministry", tolerance_above_100),
    Visit("reviews:reference_values", "normal", "ministry", goto("/ministry/reference-values/")),
    Visit("reviews:reference_values", "error: negative value", "ministry", negative_reference_value),
    Visit("reviews:exports", "error: failed export", "ministry", failed_export),
    Visit("reviews:notifications", "normal: ministry", "ministry", goto("/notifications/")),
    Visit("reviews:data_quality", "normal", "ministry", goto("/dashboard/data-quality/"), english=True),
    Visit("reviews:watch", "normal", "ministry", goto("/ministry/watch/"), english=True),
    # The ministry account of the scene is also the security officer (the permission, see `scene`).
    Visit("audit:trail", "normal", "ministry", goto("/security/audit/"), english=True),
    Visit("audit:trail", "error: first day after the last", "ministry", audit_backwards_dates, english=True),
    # Issue 13: an operator's provincial branch.
    Visit("submissions:operator_figures", "normal", "operator", goto("/operators/figures/"), english=True),
    Visit("submissions:operator_figures", "error: negative count", "operator", negative_operator_count, english=True),
    Visit("submissions:operator_excel", "normal", "operator", goto("/operators/figures/excel/")),
    Visit("submissions:operator_excel", "error: refused file", "operator", refused_operator_file),
]


def test_every_page_is_checked_or_excluded():
    routes = page_routes()
    visited = {visit.route for visit in VISITS}
    assert not (routes - visited - NOT_PAGES.keys()), "visit these pages in VISITS or exclude them in NOT_PAGES"
    assert not (visited - routes - ERROR_PAGES), "VISITS names routes that do not exist"
    assert not (NOT_PAGES.keys() - routes), "NOT_PAGES names routes that do not exist"
    assert not (visited & NOT_PAGES.keys()), "a route is both visited and excluded"
    with_error = {visit.route for visit in VISITS if visit.state.startswith("error")}
    without = visited - with_error - ERROR_PAGES - NO_ERROR_STATE.keys()
    assert not without, "check these pages in an error state too, or say in NO_ERROR_STATE why they have none"
    assert not (with_error & NO_ERROR_STATE.keys()), "a page with an error state is listed in NO_ERROR_STATE"


# -- What is checked on each page -----------------------------------------------------------------

# What axe does not see: an error its field does not point at, an id that ARIA or a link names but
# that does not exist, a list that lost its role, a faint input border, a faint focus ring.
CHECKS = (Path(__file__).parent / "accessibility_checks.js").read_text(encoding="utf-8")


def settle(page) -> None:
    """Wait until the page has drawn what its scripts draw (charts, live values)."""
    page.wait_for_load_state("load")
    if page.locator("#dashboard-data").count():
        page.wait_for_function("document.documentElement.dataset.charts !== undefined")
    page.wait_for_timeout(150)


def axe_violations(page, axe) -> list[dict]:
    page.evaluate(axe.axe_script)
    assert page.evaluate("axe.version") == AXE_VERSION
    results = page.evaluate(
        "(options) => axe.run(document, options)",
        {"runOnly": {"type": "tag", "values": WCAG_21_AA}, "resultTypes": ["violations"]},
    )
    return results["violations"]


def check(page, axe) -> tuple[dict[str, list[str]], Counter]:
    """What is wrong on the page, by rule (lines to read), and how many elements each rule found."""
    found: dict[str, list[str]] = {}
    counts: Counter = Counter()
    for violation in axe_violations(page, axe):
        nodes = violation["nodes"]
        counts[violation["id"]] += len(nodes)
        lines = [f"{violation['impact']}: {violation['help']} ({len(nodes)})"]
        for node in nodes[:6]:
            summary = (node.get("failureSummary") or "").replace("\n", " ")[:160]
            lines.append(f"  {' '.join(node['target'])}: {summary}")
        found[violation["id"]] = lines
    page.keyboard.press("Shift")  # focus moved from here on is keyboard focus, which shows the ring
    for name, problems in page.evaluate(CHECKS).items():
        if problems:
            found[name] = problems
            counts[name] += len(problems)
    return found, counts


@pytest.fixture
def scene(open_round, city_user, bureau_user, ministry_user, operator_user, tmp_path) -> Scene:
    from reviews.services import submission_return

    qingdao, jinan, yantai = (City.objects.get(pk=code) for code in ("370200", "370100", "370600"))
    form = make_submission(qingdao, open_round, "submitted")
    case = form.cases.order_by("position").first()
    submission_return(
        submission_id=form.pk,
        actor=bureau_user,
        reason="5G基站数与运营商数据不一致",
        comments={"bs5g_count": "请按运营商年报口径填写", f"case:{case.pk}": "请补充合作单位"},
    )
    review = make_submission(jinan, open_round, "submitted")
    decision = make_submission(yantai, open_round, "recommended")
    # Forms in every state across a sixth of the country and most of 山东, for the dashboards.
    taken = {"370200", "370100", "370600", "370300"}
    cities = [c for c in City.objects.order_by("code")[::6] if c.code not in taken]
    add_forms(round_=open_round, cities=cities, rng=random.Random(2026), cases=5, excellent=1)
    shandong = City.objects.filter(province="370000").exclude(code__in=taken | {c.code for c in cities})
    add_forms(round_=open_round, cities=shandong, rng=random.Random(37), states=["approved", "recommended"])
    open_round.deadline = timezone.localdate() + datetime.timedelta(days=20)
    open_round.save(update_fields=["deadline"])
    ministry_user.user_permissions.add(Permission.objects.get(codename="browse_audit"))
    uid = urlsafe_base64_encode(force_bytes(city_user.pk))
    users = {"city": city_user, "bureau": bureau_user, "ministry": ministry_user, "operator": operator_user}
    link = f"/password/reset/{uid}/{default_token_generator.make_token(city_user)}/"
    return Scene(
        round=open_round, users=users, form=form, review=review, decision=decision, tmp=tmp_path, reset_link=link
    )


@dataclass
class Report:
    language: str
    pages: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    by_rule: Counter = field(default_factory=Counter)

    def add(self, key: str, found: dict[str, list[str]], counts: Counter) -> None:
        if found:
            self.pages[key] = found
        self.by_rule.update(counts)

    def write(self) -> None:
        by_rule = dict(self.by_rule.most_common())
        path = ARTIFACTS.parent / f"accessibility-{self.language}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"by_rule": by_rule, "pages": self.pages}, ensure_ascii=False, indent=1))

    def text(self) -> str:
        out = []
        for key, found in self.pages.items():
            out.append(key)
            for rule, lines in found.items():
                out.append(f"  [{rule}] " + lines[0])
                out.extend("    " + line for line in lines[1:])
        return "\n".join(out)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_no_page_has_an_accessibility_violation(page, live_server, scene, language):
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    page.on("dialog", lambda dialog: dialog.accept())
    visits = [visit for visit in VISITS if language == "zh-hans" or visit.english]
    # GIGACITY_A11Y_ONLY=<regex of routes> reads only those pages (while fixing them); the suite reads all.
    if only := os.environ.get("GIGACITY_A11Y_ONLY"):
        visits = [visit for visit in visits if re.search(only, visit.route)]
    report = Report(language)
    role = None
    for index, visit in enumerate(visits):
        if visit.role != role:
            page.context.clear_cookies()
            use_language(page, live_server, language)
            if visit.role != "anonymous":
                log_in(page, scene.users[visit.role].username)
            role = visit.role
        visit.go(page, scene)
        settle(page)
        name = re.sub(r"[^\w]+", "-", f"{index:02d} {visit.route} {visit.state}", flags=re.ASCII).strip("-")
        screenshot(page, f"a11y-{language}-{name}")
        key = f"{visit.route} [{visit.state}] as {visit.role}: {page.url.removeprefix(live_server.url)}"
        report.add(key, *check(page, axe))
    report.write()
    assert not report.pages, f"accessibility violations ({language}):\n{report.text()}"
