"""Operators' figures (issue 13): reporting them, who may, what is refused, the history, and the
comparison the worker adds to the score."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import TestCase
from django.utils import translation

from gigacity.errors import Conflict, RoleNotAllowed
from gigacity.models import Role, User
from indicators.models import ToleranceChange
from submissions.models import OperatorFigure, Submission
from submissions.operators import operator_figures_report, round_tolerance_set
from tests.factories import make_submission

pytestmark = pytest.mark.django_db

QINGDAO, JINAN, XUZHOU = "370200", "370100", "320300"


def report(actor, round_, rows, operator=None, **kwargs):
    with TestCase.captureOnCommitCallbacks(execute=True):
        return operator_figures_report(
            actor=actor, round_=round_, operator_code=operator, rows=rows, source="api", **kwargs
        )


def test_an_operator_reports_and_a_second_report_keeps_the_first(open_round, operator_user):
    report(operator_user, open_round, [{"city": QINGDAO, "bs5g_count": 9000, "users_5g": "1,200,000"}])
    result = report(operator_user, open_round, [{"city": QINGDAO, "bs5g_count": 9500, "users_5g": 1200000}])
    rows = OperatorFigure.objects.filter(city_id=QINGDAO, operator_id="mobile").order_by("pk")
    assert [(r.bs5g_count, r.users_5g) for r in rows] == [(9000, 1200000), (9500, 1200000)]
    assert [r.on_behalf for r in rows] == [False, False]
    assert result.plans[0].changes == [{"input": "bs5g_count", "label": "5G基站数", "old": 9000, "new": 9500}]
    current = OperatorFigure.objects.filter(city_id=QINGDAO).current()
    assert [f.bs5g_count for f in current] == [9500]


def test_the_same_figures_again_change_nothing(open_round, operator_user):
    report(operator_user, open_round, [{"city": QINGDAO, "bs5g_count": 9000}])
    result = report(operator_user, open_round, [{"city": QINGDAO, "bs5g_count": 9000}])
    assert result.plans == []
    assert OperatorFigure.objects.count() == 1


def test_a_bureau_reports_on_an_operators_behalf(open_round, bureau_user):
    report(bureau_user, open_round, [{"city": JINAN, "pon_ports_total": 50000}], operator="unicom")
    figure = OperatorFigure.objects.get()
    assert (figure.operator_id, figure.on_behalf, figure.reported_by) == ("unicom", True, bureau_user)


def test_a_bureau_must_name_the_operator(open_round, bureau_user):
    with pytest.raises(ValidationError) as caught:
        report(bureau_user, open_round, [{"city": JINAN, "pon_ports_total": 1}])
    assert "operator" in caught.value.message_dict


@pytest.mark.parametrize("role_fixture", ["city_user", "ministry_user"])
def test_other_roles_may_not_report(open_round, role_fixture, request):
    with pytest.raises(RoleNotAllowed):
        report(request.getfixturevalue(role_fixture), open_round, [{"city": QINGDAO, "bs5g_count": 1}])


def test_an_operator_reports_only_its_own_figures(open_round, operator_user):
    with pytest.raises(ValidationError) as caught:
        report(operator_user, open_round, [{"city": QINGDAO, "bs5g_count": 1}], operator="telecom")
    assert "中国电信" in caught.value.message_dict["operator"][0]


@pytest.mark.parametrize(
    ("rows", "key", "words"),
    [
        ([{"city": QINGDAO, "bs5g_count": -5}], "rows[1].bs5g_count", "负"),
        ([{"city": QINGDAO, "bs5g_count": 2.5}], "rows[1].bs5g_count", "整数"),
        ([{"city": QINGDAO, "bs5g_count": 10**9}], "rows[1].bs5g_count", "1,000,000"),
        ([{"city": QINGDAO, "users_5g": 200, "mobile_users_total": 100}], "rows[1].users_5g", "不能超过"),
        ([{"city": XUZHOU, "bs5g_count": 1}], "rows[1].city", "山东省"),
        ([{"city": QINGDAO, "bs5g_count": 1}, {"city": QINGDAO, "bs5g_count": 2}], "rows[2].city", "两次"),
    ],
    ids=["negative", "fraction", "impossible", "part-above-whole", "outside-province", "duplicate"],
)
def test_bad_rows_are_refused_on_their_cell_and_nothing_is_saved(open_round, operator_user, rows, key, words):
    good = {"city": JINAN, "bs5g_count": 100}
    with pytest.raises(ValidationError) as caught:
        report(operator_user, open_round, [good, *rows])
    errors = caught.value.message_dict
    assert key in errors, errors
    assert words in errors[key][0]
    assert not OperatorFigure.objects.exists()


def test_a_published_round_takes_no_figures(open_round, operator_user, ministry_user):
    from reviews.services import round_set_status

    round_set_status(round_=open_round, status="closed", actor=ministry_user)
    round_set_status(round_=open_round, status="published", actor=ministry_user)
    with pytest.raises(Conflict):
        report(operator_user, open_round, [{"city": QINGDAO, "bs5g_count": 1}])


def test_figures_are_scoped(
    open_round,
    operator_user,
    operator_user_other,
    operator_user_other_province,
    bureau_user,
    bureau_user_other_province,
    city_user,
    ministry_user,
):
    report(operator_user, open_round, [{"city": QINGDAO, "bs5g_count": 1}])
    report(operator_user_other, open_round, [{"city": QINGDAO, "bs5g_count": 2}])
    seen = {
        user.username: sorted(OperatorFigure.objects.visible_to(user).values_list("bs5g_count", flat=True))
        for user in (
            operator_user,
            operator_user_other,
            operator_user_other_province,
            bureau_user,
            bureau_user_other_province,
            city_user,
            ministry_user,
        )
    }
    assert seen == {
        "sd_mobile": [1],
        "sd_telecom": [2],
        "js_mobile": [],
        "shandong": [1, 2],
        "jiangsu": [],
        "qingdao": [],
        "miit": [1, 2],
    }
    # And nothing of the cities' forms.
    make_submission(operator_user.province.cities.get(code=QINGDAO), open_round, "submitted")
    assert not Submission.objects.visible_to(operator_user).exists()


def test_figures_arriving_after_scoring_raise_the_flags_without_a_new_submission(
    open_round, operator_user, bureau_user
):
    submission = make_submission(
        operator_user.province.cities.get(code=QINGDAO), open_round, "submitted", bs5g_count=20000
    )
    before = submission.scores.latest()
    assert {f.code for f in before.flags.all()} >= {"operator_unreported"}
    version = submission.version

    report(operator_user, open_round, [{"city": QINGDAO, "bs5g_count": 9000}])
    report(bureau_user, open_round, [{"city": QINGDAO, "bs5g_count": 6000}], operator="telecom")

    submission.refresh_from_db()
    assert submission.version == version  # no new submission
    assert submission.scoring_state == "scored"
    assert submission.figures_check == "mismatch"
    flag = submission.scores.latest().flags.get(code="operator_mismatch")
    assert flag.details == {"input": "bs5g_count", "city": 20000, "operators": 15000, "missing": ["unicom", "broadnet"]}
    assert "中国联通、中国广电" in flag.message_zh


def test_the_mismatch_names_the_missing_operators_in_either_language(client, open_round, operator_user, bureau_user):
    submission = make_submission(
        operator_user.province.cities.get(code=QINGDAO), open_round, "submitted", bs5g_count=20000
    )
    report(operator_user, open_round, [{"city": QINGDAO, "bs5g_count": 9000}])
    client.force_login(bureau_user)

    chinese = client.get(f"/submissions/{submission.pk}/").content.decode()
    assert "未报送的运营商：中国电信、中国联通、中国广电" in chinese

    # The request switches this thread to English; the override puts it back for the next tests.
    with translation.override(settings.LANGUAGE_CODE):
        english = client.get(f"/submissions/{submission.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "operators not reported: China Telecom, China Unicom, China Broadnet." in english
    assert "telecom, unicom" not in english


def test_the_tolerance_is_a_percentage_with_history(open_round, ministry_user, bureau_user):
    assert open_round.operator_tolerance == Decimal("5")
    for bad in ("-1", "100.5", "abc", "NaN"):
        with pytest.raises(ValidationError):
            round_tolerance_set(round_=open_round, value=bad, actor=ministry_user, reason="试")
    with pytest.raises(RoleNotAllowed):
        round_tolerance_set(round_=open_round, value="8", actor=bureau_user, reason="试")
    round_tolerance_set(round_=open_round, value="8", actor=ministry_user, reason="运营商统计口径差异")
    round_tolerance_set(round_=open_round, value="3.5", actor=ministry_user, reason="收紧")
    open_round.refresh_from_db()
    assert open_round.operator_tolerance == Decimal("3.5")
    assert list(ToleranceChange.objects.values_list("old_value", "new_value")) == [
        (Decimal("5"), Decimal("8")),
        (Decimal("8"), Decimal("3.5")),
    ]


def test_add_user_provisions_an_operator(reference):
    call_command(
        "add_user",
        "gd_unicom",
        "--password",
        "Qz7!long-enough-pw",
        "--role",
        "operator",
        "--operator",
        "unicom",
        "--province",
        "440000",
    )
    user = User.objects.get(username="gd_unicom")
    assert (user.role, user.operator_id, user.province_id, user.city_id) == (Role.OPERATOR, "unicom", "440000", None)
    assert user.scope_label == "中国联通 · 广东省"
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="operator"):
        call_command("add_user", "x1", "--password", "Qz7!long-enough-pw", "--role", "operator", "--province", "440000")
    with pytest.raises(CommandError, match="operator"):
        call_command(
            "add_user",
            "x2",
            "--password",
            "Qz7!long-enough-pw",
            "--role",
            "bureau",
            "--province",
            "440000",
            "--operator",
            "unicom",
        )


def test_the_admin_provisions_an_operator_and_refuses_one_without_its_operator(admin_user):
    from django.test import Client

    client = Client()
    client.force_login(admin_user)
    form = {
        "username": "sd_broadnet",
        "password1": "Qz7!long-enough-pw",
        "password2": "Qz7!long-enough-pw",
        "role": "operator",
        "province": "370000",
        "full_name": "广电山东",
        "email": "",
    }
    refused = client.post("/admin/gigacity/user/add/", form)
    assert refused.status_code == 200
    assert "基础电信企业账号须指定企业和省份" in refused.content.decode()
    assert not User.objects.filter(username="sd_broadnet").exists()
    created = client.post("/admin/gigacity/user/add/", {**form, "operator": "broadnet"})
    assert created.status_code == 302
    assert User.objects.get(username="sd_broadnet").operator_id == "broadnet"
