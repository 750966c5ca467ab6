"""The demo (`dev.py run` → `seed_demo`) has an account for every role, an operator's branch among
them (issue 13), and that branch's figures in the open round, so the comparison shows in the demo."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from gigacity.models import User
from reviews.demo import DEMO_PASSWORD
from submissions.models import OperatorFigure, Submission
from submissions.scoring import submission_score

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded(reference, settings):
    settings.DEBUG = True
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_the_demo_prints_an_operator_login_that_works(seeded, client):
    line = next(line for line in seeded.splitlines() if "sd_mobile" in line)
    assert "operator" in line and "370000" in line and "中国移动" in line

    assert client.post("/login/", {"username": "sd_mobile", "password": DEMO_PASSWORD}).status_code == 302
    page = client.get("/operators/figures/").content.decode()
    # Its own figures for 山东's cities are there to see.
    assert "中国移动" in page and "青岛市" in page and "烟台市" in page


def test_the_demo_operator_has_figures_and_the_comparison_shows_a_mismatch(seeded, client):
    figures = OperatorFigure.objects.filter(city_id="370600").current()
    assert {f.operator_id for f in figures} == {"mobile", "telecom", "unicom"}
    # The bureau reported 电信's and 联通's on their behalf, 中国移动's branch its own.
    assert {f.operator_id: f.on_behalf for f in figures} == {"mobile": False, "telecom": True, "unicom": True}

    yantai = Submission.objects.get(city_id="370600", round__status="open")
    submission_score(submission_id=yantai.pk)  # the worker's step (tests do not run on-commit work)
    yantai.refresh_from_db()
    assert yantai.figures_check == "mismatch"
    # The other cities' counts add up to what they typed, within the tolerance.
    weifang = Submission.objects.get(city_id="370700", round__status="open")
    submission_score(submission_id=weifang.pk)
    weifang.refresh_from_db()
    assert weifang.figures_check == "consistent"

    client.force_login(User.objects.get(username="shandong"))
    page = client.get(f"/submissions/{yantai.pk}/").content.decode()
    assert "运营商合计" in page


def test_seeding_twice_reports_no_figure_twice(seeded):
    count = OperatorFigure.objects.count()
    call_command("seed_demo", stdout=StringIO())
    assert OperatorFigure.objects.count() == count
