"""A city official fills in and submits the survey form in a real browser."""

from __future__ import annotations

import datetime
import random

import pytest
from django.utils import timezone

from reviews.demo import demo_data
from submissions.models import Status, Submission

from .conftest import login, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def fill_case(page, index: int, case: dict) -> None:
    card = page.locator("[data-case]").nth(index)
    card.locator('[data-name="title"]').fill(case["title"])
    card.locator('[data-name="domain"]').select_option(case["domain"])
    card.locator('[data-name="description"]').fill(case["description"])
    card.locator('[data-name="pain_points"]').fill(case["pain_points"])
    card.locator('[data-name="replicability"]').fill(case["replicability"])
    card.locator('[data-name="partners"]').fill(case["partners"])


def test_a_city_official_fills_in_every_section_and_submits(page, city_user, open_round):
    data, cases = demo_data(city_user.city, random.Random(7))
    login(page, city_user.username)
    page.get_by_test_id("open-form").click()
    page.wait_for_url("**/edit/")
    assert page.get_by_role("heading", level=1).inner_text().startswith("青岛市")

    # 基本情况
    page.fill("#id_data_as_of", f"{open_round.year}-10-31")
    page.fill("#id_contact_name", "王明")
    page.fill("#id_contact_phone", "0532-88886666")
    page.fill("#id_contact_email", "wangming@qingdao.gov.cn")

    # 网络建设 and 用户发展, typed as officials type: thousands separators and full-width digits.
    page.fill("#id_urban_households", "1,200,000")
    page.fill("#id_gigabit_capable_households", "１５０００００")
    assert page.locator('[data-live-value="fiber_gigabit_coverage"]').first.inner_text() == "125.0%"
    assert page.locator('[data-live-badge="fiber_gigabit_coverage"]').first.inner_text() == "达标"
    page.fill("#id_pon_ports_total", "1,000,000")
    page.fill("#id_pon_10g_ports", "250,000")
    assert page.locator('[data-live-badge="pon_10g_share"]').first.inner_text() == "未达标"  # 25 % < 30 %
    page.fill("#id_pon_10g_ports", "400,000")
    for category in ("hospital", "university", "tourism", "railway", "airport", "road"):
        page.fill(f"#id_ks_{category}_total", str(data[f"ks_{category}_total"]))
        page.fill(f"#id_ks_{category}_covered", str(data[f"ks_{category}_covered"]))
    expected_total = sum(
        data[f"ks_{c}_total"] for c in ("hospital", "university", "tourism", "railway", "airport", "road")
    )
    assert page.input_value("#id_key_sites_total") == f"{expected_total:,}"
    for name in (
        "bs5g_count",
        "resident_population",
        "users_500m_plus",
        "broadband_users_total",
        "users_1000m",
        "users_5g",
        "mobile_users_total",
    ):
        page.fill(f"#id_{name}", f"{data[name]:,}")
    confirm_box = page.locator("[data-confirm-inconsistent]")
    assert confirm_box.is_hidden()  # nothing to confirm while the numbers agree
    page.fill("#id_users_1000m", "99999999")
    assert "大于" in page.inner_text("[data-live-warnings]")  # 1000M users above 500M+ users, shown at once
    assert confirm_box.is_visible()
    page.fill("#id_ks_hospital_covered", str(data["ks_hospital_total"] + 3))
    assert "三级及以上市属公立医院 · 5G通达" in page.inner_text("[data-live-warnings]")  # names the category
    page.fill("#id_ks_hospital_covered", str(data["ks_hospital_covered"]))
    page.fill("#id_users_1000m", f"{data['users_1000m']:,}")

    # 应用创新: five cases, one of them moved up.
    for index, case in enumerate(cases[:5]):
        page.get_by_role("button", name="添加案例").click()
        fill_case(page, index, case)
    page.locator("[data-case]").nth(4).locator("[data-case-up]").click()
    assert page.locator("[data-case]").nth(3).locator('[data-name="title"]').input_value() == cases[4]["title"]
    assert page.inner_text("[data-case-count]") == "5 / 5"

    # 典型做法
    for name in ("practice_network", "practice_users", "practice_applications", "support_policies"):
        page.fill(f"#id_{name}", data[name])
    screenshot(page, "form-filled")

    with page.expect_navigation():
        page.get_by_role("button", name="保存草稿").click()
    assert "已保存" in page.inner_text(".messages")

    # Nothing lost on reload.
    page.reload()
    assert page.input_value("#id_gigabit_capable_households") == "1,500,000"
    assert page.locator("[data-case]").count() == 5
    assert page.locator("[data-case]").nth(3).locator('[data-name="title"]').input_value() == cases[4]["title"]
    submission = Submission.objects.get(city=city_user.city, round=open_round)
    assert submission.gigabit_capable_households == 1_500_000 and submission.pon_10g_ports == 400_000

    page.on("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.get_by_role("button", name="提交至省通信管理局").click()
    assert "已提交至省通信管理局" in page.inner_text(".messages")
    submission.refresh_from_db()
    assert submission.status == Status.SUBMITTED
    screenshot(page, "form-submitted")


def test_errors_are_shown_next_to_the_fields_with_a_summary_and_nothing_typed_is_lost(page, city_user, open_round):
    login(page, city_user.username)
    page.goto("/city/form/")
    page.fill("#id_urban_households", "一百万")
    assert page.inner_text("#err_urban_households") == "须为非负整数"  # at once, before saving
    page.fill("#id_resident_population", "0")
    page.fill("#id_contact_name", "王明")
    page.get_by_role("button", name="添加案例").click()
    page.locator('[data-case] [data-name="title"]').fill("5G+智慧港口")

    with page.expect_navigation():
        page.get_by_role("button", name="保存草稿").click()

    summary = page.get_by_test_id("error-summary")
    assert "未保存任何内容" in summary.inner_text()
    assert "城市家庭总户数" in summary.inner_text()
    assert page.input_value("#id_urban_households") == "一百万"
    assert page.input_value("#id_contact_name") == "王明"
    assert page.locator('[data-case] [data-name="title"]').input_value() == "5G+智慧港口"
    screenshot(page, "form-error")


def test_leaving_with_unsaved_changes_warns_and_a_crash_can_be_recovered(page, city_user, open_round):
    login(page, city_user.username)
    page.goto("/city/form/")
    page.fill("#id_bs5g_count", "4321")
    page.wait_for_timeout(1200)  # the local backup is written shortly after typing stops

    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.type), dialog.accept()))
    page.goto("/city/")
    assert dialogs == ["beforeunload"]

    page.goto("/city/form/")
    assert page.get_by_test_id("restore").inner_text() == "恢复"
    assert page.get_by_test_id("restore-discard").inner_text() == "放弃"
    page.get_by_test_id("restore").click()
    assert page.input_value("#id_bs5g_count") == "4321"


def test_a_second_tab_saving_an_older_version_gets_a_clear_conflict(page, open_page, city_user, open_round):
    login(page, city_user.username)
    page.goto("/city/form/")
    other = open_page()
    login(other, city_user.username)
    other.goto("/city/form/")

    page.fill("#id_bs5g_count", "1000")
    with page.expect_navigation():
        page.get_by_role("button", name="保存草稿").click()
    other.fill("#id_bs5g_count", "2000")
    with other.expect_navigation():
        other.get_by_role("button", name="保存草稿").click()

    assert "修改了调查表" in other.get_by_test_id("conflict").inner_text()
    assert other.input_value("#id_bs5g_count") == "2000"
    assert "1,000" in other.inner_text('[data-field="bs5g_count"]')
    screenshot(other, "form-conflict")
    assert Submission.objects.get(city=city_user.city, round=open_round).bs5g_count == 1000


def test_the_form_works_on_a_tablet_and_with_the_keyboard(open_page, city_user, open_round):
    tablet = open_page(width=820, height=1180)
    login(tablet, city_user.username)
    tablet.goto("/city/form/")
    tablet.focus("#id_contact_name")
    tablet.keyboard.type("王明")
    tablet.keyboard.press("Tab")
    assert tablet.evaluate("document.activeElement.id") == "id_contact_phone"
    assert tablet.evaluate("document.documentElement.scrollWidth") <= 820  # nothing wider than the screen
    screenshot(tablet, "form-tablet")


def test_typing_never_saved_is_offered_back_even_after_someone_else_saved(page, city_user, bureau_user, open_round):
    from submissions.services import submission_update

    login(page, city_user.username)
    page.goto("/city/form/")
    page.fill("#id_contact_name", "王明")
    with page.expect_navigation():
        page.get_by_role("button", name="保存草稿").click()
    page.reload()
    assert page.get_by_test_id("restore").count() == 0  # saved: nothing to offer back

    page.fill("#id_bs5g_count", "7777")
    page.wait_for_timeout(1200)  # the local copy is written shortly after typing stops
    submission = Submission.objects.get(city=city_user.city, round=open_round)
    submission_update(
        submission_id=submission.pk,
        actor=bureau_user,
        data={"contact_phone": "0532-1234567"},
        expected_version=submission.version,
    )
    page.on("dialog", lambda dialog: dialog.accept())
    page.reload()

    page.get_by_test_id("restore").click()
    assert page.input_value("#id_bs5g_count") == "7777"
    assert page.input_value("#id_contact_phone") == "0532-1234567"  # the bureau's change is not undone


def test_a_number_above_the_servers_limit_is_refused_as_it_is_typed_and_the_panel_keeps_its_shape(
    page, city_user, open_round
):
    login(page, city_user.username)
    page.goto("/city/form/")
    page.fill("#id_users_500m_plus", "300,000")

    # 1000M users typed with far too many digits: the limit (60,000,000 users) is said at once
    page.fill("#id_users_1000m", "99999999999999999")
    assert page.inner_text("#err_users_1000m") == "数值过大（上限 60,000,000），请检查单位是否正确"
    assert page.get_attribute("#id_users_1000m", "aria-invalid") == "true"
    # and the indicator does not pass
    for badge in page.locator('[data-live-badge="users_1000m"]').all():
        assert badge.inner_text() != "达标"
    # and the side panel keeps its width, even with a long share within the limits (100 million 5G
    # users of 1 mobile user): nothing spills out of it or off the screen
    page.fill("#id_mobile_users_total", "1")
    page.fill("#id_users_5g", "100,000,000")
    panel = page.locator(".live-panel")
    assert panel.evaluate("el => el.scrollWidth <= el.clientWidth")
    box = panel.bounding_box()
    assert box["x"] + box["width"] <= 1366
    screenshot(page, "form-number-too-large")

    # Back within the limit, the message goes and the check passes (60,000 ≥ 50,000 households)
    page.fill("#id_users_1000m", "60,000")
    assert page.inner_text("#err_users_1000m") == ""
    assert page.locator('[data-live-badge="users_1000m"]').first.inner_text() == "达标"


def test_a_refused_save_offers_nothing_back_that_is_on_the_page_and_backups_tell_the_servers_time(
    page, city_user, open_round
):
    # Given an official whose computer's clock is years wrong
    page.clock.set_system_time(datetime.datetime(2001, 2, 3, 4, 5))
    login(page, city_user.username)
    page.goto("/city/form/")
    page.fill("#id_contact_name", "王明")
    page.fill("#id_urban_households", "一百万")

    # When the save is refused
    with page.expect_navigation():
        page.get_by_role("button", name="保存草稿").click()
    assert "未保存任何内容" in page.get_by_test_id("error-summary").inner_text()

    # Then what was typed is on the page, and nothing is offered back
    assert page.input_value("#id_contact_name") == "王明"
    page.wait_for_timeout(1200)  # the local backup is written shortly after the page loads
    assert page.get_by_test_id("restore").count() == 0
    assert page.inner_text("[data-save-state]") == "有尚未保存的修改。"
    screenshot(page, "form-refused-nothing-to-restore")

    # And coming back to the form later offers it back, at the time the server's clock says
    before = timezone.localdate().isoformat()
    page.goto("/city/")
    page.goto("/city/form/")
    bar = page.get_by_test_id("restore-bar").inner_text()
    assert before in bar or timezone.localdate().isoformat() in bar  # the server's date (even across midnight)
    assert "2001" not in bar
    screenshot(page, "form-restore-server-time")
    page.get_by_test_id("restore").click()
    assert page.input_value("#id_contact_name") == "王明"
    assert page.input_value("#id_urban_households") == "一百万"


def test_the_section_progress_moves_as_fields_are_filled_in(page, city_user, open_round):
    login(page, city_user.username)
    page.goto("/city/form/")
    progress = {key: page.locator(f'[data-progress="{key}"]') for key in ("basic", "network", "users", "practices")}
    assert progress["basic"].inner_text() == "0/4"  # as-of date, contact person, phone, e-mail

    page.fill("#id_contact_name", "王明")
    page.fill("#id_contact_phone", "0532-88886666")
    assert progress["basic"].inner_text() == "2/4"
    page.fill("#id_urban_households", "1,200,000")
    assert progress["network"].inner_text() == "1/20"  # 8 inputs and 12 key-site counts
    page.fill("#id_mobile_users_total", "9,000,000")
    assert progress["users"].inner_text() == "1/5"
    page.fill("#id_practice_network", "共建共享")
    assert progress["practices"].inner_text() == "1/4"
    page.fill("#id_contact_phone", "")
    assert progress["basic"].inner_text() == "1/4"  # emptied again
    screenshot(page, "form-section-progress")
