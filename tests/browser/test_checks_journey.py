"""Checking that the numbers are true (issue 13), in a real browser: the bureau asks for evidence on a
field, cannot recommend until it is settled, the city answers with a file, the bureau accepts and
recommends; the ministry draws a sample, sees it repeat identically, and records a finding that
reopens a form to its bureau. The new pages are also checked with axe (WCAG 2.1 AA) here."""

from __future__ import annotations

import pytest

from indicators.models import Designation
from reviews.models import SampleDraw
from submissions.models import Submission
from tests.factories import make_submission

from .conftest import login, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def confirm_dialogs(page):
    page.on("dialog", lambda dialog: dialog.accept())


def look(locator, name: str) -> None:
    """A screenshot of one part of the page, to be read at full size (the full page is very tall)."""
    from .conftest import ARTIFACTS

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    locator.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def axe_violations(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    page.evaluate(Axe().axe_script)
    results = page.evaluate(
        "(options) => axe.run(document, options)",
        {"runOnly": {"type": "tag", "values": WCAG_21_AA}, "resultTypes": ["violations"]},
    )
    return [f"{v['id']}: {[n['target'] for n in v['nodes'][:3]]}" for v in results["violations"]]


def test_the_bureau_asks_for_evidence_the_city_answers_with_a_file_and_the_bureau_accepts_and_recommends(
    open_page, city_user, bureau_user, open_round, tmp_path
):
    submission = make_submission(city_user.city, open_round, "submitted")

    bureau = open_page()
    confirm_dialogs(bureau)
    login(bureau, bureau_user.username)
    bureau.goto(f"/submissions/{submission.pk}/")
    # A date in the past is refused on its field, and what was typed stays.
    bureau.select_option("#evidence-field", "bs5g_count")
    bureau.fill("#evidence-question", "5G基站数与运营商报送数相差较大，请提供运营商盖章的基站清单。")
    bureau.fill("#evidence-due", "2020-01-01")
    with bureau.expect_navigation():
        bureau.get_by_role("button", name="发出核实请求").click()
    assert "答复期限必须晚于今天" in bureau.inner_text("#evidence-due-error")
    assert "运营商盖章" in bureau.input_value("#evidence-question")
    assert axe_violations(bureau) == []
    screenshot(bureau, "checks-1-bureau-asks-error")
    look(bureau.get_by_test_id("evidence"), "checks-1-panel")
    bureau.fill("#evidence-due", "2099-12-31")
    with bureau.expect_navigation():
        bureau.get_by_role("button", name="发出核实请求").click()
    assert "已要求城市提供核实材料" in bureau.inner_text(".messages")
    assert "运营商盖章" in bureau.get_by_test_id("evidence-marker-bs5g_count").inner_text()

    # Recommending now is refused, naming the request.
    with bureau.expect_navigation():
        bureau.get_by_role("button", name="推荐", exact=True).click()
    refusal = bureau.get_by_test_id("action-error").inner_text()
    assert "不能推荐" in refusal and "5G基站数" in refusal and "尚未办结" in refusal
    screenshot(bureau, "checks-2-recommend-refused")
    look(bureau.get_by_test_id("action-error"), "checks-2-refusal")
    look(bureau.locator("section.card", has=bureau.get_by_test_id("evidence-marker-bs5g_count")), "checks-2-marker")

    # The city answers beside the request, with a PDF.
    city = open_page()
    login(city, city_user.username)
    city.goto(f"/submissions/{submission.pk}/")
    assert "运营商盖章" in city.get_by_test_id("evidence-request").inner_text()
    evidence = tmp_path / "基站清单.pdf"
    evidence.write_bytes(b"%PDF-1.4\n% 5G base station list\n")
    request_id = submission.evidence_requests.get().pk
    city.fill(f"#answer-{request_id}", "已附三家运营商盖章的基站清单，合计12,888个。")
    city.set_input_files(f"#files-{request_id}", str(evidence))
    with city.expect_navigation():
        city.get_by_role("button", name="提交答复").click()
    assert "您的答复已发送" in city.inner_text(".messages")
    assert "基站清单.pdf" in city.get_by_test_id("evidence-request").inner_text()
    assert axe_violations(city) == []
    screenshot(city, "checks-3-city-answered")
    look(city.get_by_test_id("evidence"), "checks-3-panel")

    # The bureau accepts, then recommends.
    bureau.goto(f"/submissions/{submission.pk}/")
    with bureau.expect_navigation():
        bureau.get_by_test_id("evidence-accept").click()
    assert "已接受核实材料" in bureau.inner_text(".messages")
    with bureau.expect_navigation():
        bureau.get_by_role("button", name="推荐", exact=True).click()
    assert "已推荐" in bureau.inner_text(".messages")
    history = bureau.get_by_test_id("history").inner_text()
    assert "要求提供核实材料" in history and "答复了核实材料请求" in history and "接受了核实材料" in history
    screenshot(bureau, "checks-4-accepted-and-recommended")
    look(bureau.get_by_test_id("history"), "checks-4-history")
    assert Submission.objects.get(pk=submission.pk).status == "recommended"


def test_the_ministry_draws_a_sample_and_a_finding_reopens_a_form(
    page, city_user, city_user_same_province, ministry_user, open_round, tmp_path
):
    Designation.objects.filter(city_id__in=["370200", "370100"]).delete()
    make_submission(city_user.city, open_round, "recommended")
    jinan = make_submission(city_user_same_province.city, open_round, "approved")
    confirm_dialogs(page)
    login(page, ministry_user.username)

    page.goto("/ministry/samples/")
    page.fill("#draw-size", "5")
    with page.expect_navigation():
        page.get_by_role("button", name="抽取样本").click()
    assert "不能大于可抽取的2份" in page.inner_text("#draw-size-error")
    assert axe_violations(page) == []
    screenshot(page, "checks-5-draw-error")
    page.fill("#draw-size", "")
    page.fill("#draw-share", "100")
    page.fill("#draw-seed", "2026")
    with page.expect_navigation():
        page.get_by_role("button", name="抽取样本").click()
    assert page.get_by_test_id("seed").inner_text() == "2026"
    assert page.get_by_test_id("repeat-identical").is_visible()
    assert page.get_by_test_id("sample-item").count() == 2

    item = SampleDraw.objects.get().items.get(submission=jinan)
    card = page.locator(f"#item-{item.pk}")
    card.locator("summary").click()
    card.get_by_label("核验发现问题").check()
    card.locator("select[name=finding_indicator]").first.select_option("bs5g_per_10k")
    card.locator("input[name=finding_text]").first.fill("基站数含未开通站点约1,200个")
    photo = tmp_path / "现场核查.png"
    photo.write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * 64)
    card.locator("input[type=file]").set_input_files(str(photo))
    card.get_by_label("将调查表退回省局（须记录发现的问题）").check()
    screenshot(page, "checks-6-recording-finding")
    look(card, "checks-6-card")
    with page.expect_navigation():
        card.get_by_role("button", name="记录核验结果").click()
    assert "核验结果已记录" in page.inner_text(".messages")
    card = page.locator(f"#item-{item.pk}")
    assert "核验发现问题" in card.get_by_test_id("outcome").inner_text()
    assert "已退回省局" in card.inner_text() and "现场核查.png" in card.inner_text()
    assert axe_violations(page) == []
    screenshot(page, "checks-7-finding-recorded")

    jinan.refresh_from_db()
    assert jinan.status == "sent_back"
    page.goto(f"/submissions/{jinan.pk}/")
    history = page.get_by_test_id("history").inner_text()
    assert "抽查后退回省局" in history and "基站数含未开通站点" in history
    screenshot(page, "checks-8-reopened-form")
    look(page.get_by_test_id("history"), "checks-8-history")
