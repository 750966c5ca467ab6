"""Issue 13 in a real browser: an operator's branch uploads its workbook (dry run, then confirm), and
the bureau sees the city's figure disagree with the operators' on the review page and in its queue."""

from __future__ import annotations

import pytest

from gigacity.models import Province, Role
from indicators.models import Operator
from submissions.excel.operators import operator_workbook
from submissions.models import Status
from tests.conftest import make_user
from tests.factories import make_submission
from tests.submissions.excel_helpers import load, save

from .conftest import ARTIFACTS, login, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_operator_uploads_its_workbook_and_the_bureau_sees_the_mismatch(open_page, bureau_user, open_round):
    # 青岛 submitted 20 000 5G base stations.
    qingdao = make_user("qingdao_j", Role.CITY, city="370200").city
    submission = make_submission(qingdao, open_round, Status.SUBMITTED, bs5g_count=20000)
    operator = make_user("sd_mobile_j", Role.OPERATOR, province="370000", operator="mobile")

    # 中国移动's 山东 branch fills in its workbook: 9 000 stations in 青岛 (row 5).
    book = load(
        operator_workbook(
            province=Province.objects.get(code="370000"),
            operator=Operator.objects.get(code="mobile"),
            round_=open_round,
        )
    )
    book["运营商数据"]["E5"] = 9000
    path = ARTIFACTS / "运营商数据-中国移动.xlsx"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(save(book))

    page = open_page()
    login(page, operator.username)
    assert page.url.endswith("/operators/figures/")
    page.get_by_test_id("operator-excel").click()
    page.set_input_files("#operator-file", str(path))
    with page.expect_navigation():
        page.get_by_test_id("operator-check").click()
    result = page.get_by_test_id("operator-import-result").inner_text()
    assert "校验通过" in result and "青岛市" in result and "9000" in result
    screenshot(page, "operators-1-dry-run")
    with page.expect_navigation():
        page.get_by_test_id("operator-confirm").click()
    assert "已导入" in page.inner_text(".messages")
    grid = page.get_by_test_id("operator-grid")
    assert grid.locator('input[name="370200-bs5g_count"]').input_value() == "9000"
    screenshot(page, "operators-2-grid")

    # The bureau finds 青岛 under 数据不一致 and sees both numbers on the review page.
    bureau = open_page()
    login(bureau, bureau_user.username)
    bureau.select_option("#f-figures", "mismatch")
    bureau.wait_for_url("**figures=mismatch**")
    assert "青岛市" in bureau.inner_text("main")
    screenshot(bureau, "operators-3-queue-filtered")
    bureau.goto(f"/submissions/{submission.pk}/")
    comparison = bureau.get_by_test_id("operator-comparison")
    text = comparison.inner_text()
    assert "20,000" in text and "9,000" in text and "数据不一致" in text
    comparison.scroll_into_view_if_needed()
    screenshot(bureau, "operators-4-review-comparison")
