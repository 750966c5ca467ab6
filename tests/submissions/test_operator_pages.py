"""The pages of operators' figures (issue 13): the grid, the workbook upload, and what reviewers see."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client, TestCase
from django.utils import translation

from submissions.models import OperatorFigure
from submissions.operators import operator_figures_report
from tests.factories import make_submission

pytestmark = pytest.mark.django_db
QINGDAO, JINAN = "370200", "370100"


def client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_an_operator_lands_on_its_grid_and_saves_figures(open_round, operator_user):
    c = client(operator_user)
    assert c.get("/").url == "/operators/figures/"
    page = c.get("/operators/figures/").content.decode()
    assert "中国移动 · 山东省 · 运营商数据" in page
    assert page.count('name="370200-') == 8  # one input per operator-held count
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = c.post("/operators/figures/", {"370200-bs5g_count": "9,000", "370100-users_5g": "800000"})
    assert response.status_code == 302
    assert sorted(OperatorFigure.objects.values_list("city_id", "bs5g_count", "users_5g")) == [
        (JINAN, None, 800000),
        (QINGDAO, 9000, None),
    ]
    assert "已保存" in c.get("/operators/figures/").content.decode()


def grid_head(page: str) -> str:
    return page.split('data-testid="operator-grid"')[1].split("</thead>")[0]


def test_the_grid_speaks_the_page_s_language(open_round, operator_user):
    c = client(operator_user)
    chinese = grid_head(c.get("/operators/figures/").content.decode())
    assert "5G基站数" in chinese and "（个）" in chinese and "移动电话用户总数" in chinese

    # The request switches this thread to English; the override puts it back for the next tests.
    with translation.override(settings.LANGUAGE_CODE):
        page = c.get("/operators/figures/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    english = grid_head(page)
    assert "City" in english and "Last reported" in english
    for header in ("10G-PON (and above) ports", "5G base stations", "(stations)", "Mobile phone users", "(users)"):
        assert header in english
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in english), english  # no Chinese left in the headers
    assert "5G base stations" in page.split("<tbody>")[1]  # each cell's label, read out by a screen reader


def test_a_bad_cell_is_shown_on_its_cell_and_nothing_is_saved(open_round, operator_user):
    c = client(operator_user)
    response = c.post("/operators/figures/", {"370200-bs5g_count": "-3", "370100-bs5g_count": "10"})
    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="e-370200-bs5g_count">数量不能为负数。' in page
    assert 'value="10"' in page  # what was typed stays
    assert not OperatorFigure.objects.exists()


def test_a_bureau_enters_an_operators_figures_on_its_behalf(open_round, bureau_user):
    c = client(bureau_user)
    page = c.get("/operators/figures/?operator=unicom").content.decode()
    assert "中国联通 · 山东省" in page
    with TestCase.captureOnCommitCallbacks(execute=True):
        c.post("/operators/figures/", {"operator": "unicom", "370200-pon_ports_total": "40000"})
    figure = OperatorFigure.objects.get()
    assert (figure.operator_id, figure.on_behalf) == ("unicom", True)


@pytest.mark.parametrize("fixture", ["city_user", "ministry_user"])
def test_others_have_no_grid(open_round, fixture, request):
    assert client(request.getfixturevalue(fixture)).get("/operators/figures/").status_code == 403


def test_the_review_page_queue_and_dashboard_show_the_comparison(open_round, operator_user, bureau_user, city_user):
    qingdao = city_user.city
    submission = make_submission(qingdao, open_round, "submitted", bs5g_count=20000)
    with TestCase.captureOnCommitCallbacks(execute=True):
        operator_figures_report(
            actor=operator_user,
            round_=open_round,
            operator_code=None,
            rows=[{"city": QINGDAO, "bs5g_count": 9000}],
            source="page",
        )
    page = client(bureau_user).get(f"/submissions/{submission.pk}/").content.decode()
    assert "与运营商数据比对" in page
    assert "20,000" in page and "9,000" in page
    assert "数据不一致" in page
    # The city does not see the operators' figures.
    assert "与运营商数据比对" not in client(city_user).get(f"/submissions/{submission.pk}/").content.decode()
    # The queue filtered to inconsistent forms holds 青岛 only.
    queue = client(bureau_user).get("/bureau/?figures=mismatch").content.decode()
    assert "青岛市" in queue and "济南市" not in queue
    # The dashboard: 中国移动 has reported 1 of 山东's 16 cities.
    dashboard = client(bureau_user).get("/dashboard/province/370000/").content.decode()
    assert "运营商数据报送情况" in dashboard
    assert "1 / 16" in dashboard
