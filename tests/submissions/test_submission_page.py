"""A submission's pages as people read them after it has moved on: the automatic check against the
current data, the bureau's diff on resubmission, and who last changed the data as opposed to who
last took a workflow step."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from gigacity.models import City
from submissions.models import ChangeSource, Status
from submissions.services import submission_update
from submissions.snapshots import CASE_FIELDS
from tests.factories import make_submission

pytestmark = pytest.mark.django_db


def section(page: str, marker: str, end: str = "</section>") -> str:
    """The part of `page` from `marker` to the next `end`."""
    start = page.index(marker)
    return page[start : page.index(end, start)]


def queue_row(page: str, city_code: str) -> str:
    return section(page, f'data-city="{city_code}"', "</tr>")


# ------------------------------------------------------------------------------------------------
# Defect 1: a check of older data is never the headline
# ------------------------------------------------------------------------------------------------
def test_a_check_of_older_data_is_not_the_headline_the_current_data_are(client, city_user, bureau_user, open_round):
    # Given a returned form whose check found every threshold met (5G: 10,000 stations for 5,000,000
    # people is 20 per 10,000, above the provisional 12)
    submission = make_submission(
        city_user.city, open_round, Status.RETURNED, resident_population=5_000_000, bs5g_count=10_000
    )
    submission.refresh_from_db()  # scored after the factory's commit
    assert submission.meets_all is True
    # When an Excel import lowers the base stations to 4,000 (8 per 10,000: below the line)
    submission_update(
        submission_id=submission.pk,
        actor=city_user,
        data={"bs5g_count": 4_000},
        expected_version=submission.version,
        source=ChangeSource.EXCEL,
    )

    # Then the form's page says the result is recomputed from the current data, and that it misses one
    client.force_login(city_user)
    card = section(client.get(f"/submissions/{submission.pk}/").content.decode(), 'data-testid="score"')
    assert "全部指标达标" not in card
    assert "1 项未达标" in card and "每万人拥有5G基站数" in card
    assert "按当前数据重新计算" in card
    # And so does the bureau's queue
    client.force_login(bureau_user)
    row = queue_row(client.get("/bureau/").content.decode(), "370200")
    assert "全部达标" not in row
    assert "1 项未达标" in row and "按当前数据重新计算" in row
    # And its filter by result follows the current data
    assert 'data-city="370200"' not in client.get("/bureau/?result=meets").content.decode()
    assert 'data-city="370200"' in client.get("/bureau/?result=misses").content.decode()
    # And the API says the score is outdated, with the current data's result beside it
    api = APIClient()
    api.force_authenticate(bureau_user)
    score = api.get(f"/api/v1/submissions/{submission.pk}/score/").json()
    assert score["meets_all"] is True and score["outdated"] is True
    assert score["current"] == {"meets_all": False, "missed": 1}


def test_a_check_under_thresholds_changed_since_is_being_redone_and_the_current_result_shown(
    client, bureau_user, ministry_user, open_round
):
    from submissions.models import ScoringState, Submission

    # Given a submitted form that meets every threshold (20 base stations per 10,000 people)
    submission = make_submission(
        City.objects.get(pk="370200"), open_round, Status.SUBMITTED, resident_population=5_000_000, bs5g_count=10_000
    )
    submission.refresh_from_db()
    assert submission.meets_all is True
    # When the ministry raises the 5G threshold to 25 and the worker has not run yet
    threshold = open_round.thresholds.get(indicator_id="bs5g_per_10k")
    threshold.value = 25
    threshold.save()
    open_round.threshold_version += 1
    open_round.save()
    Submission.objects.filter(pk=submission.pk).update(scoring_state=ScoringState.PENDING)

    # Then the page says it is being recomputed and heads with the result under the new thresholds
    client.force_login(bureau_user)
    card = section(client.get(f"/submissions/{submission.pk}/").content.decode(), 'data-testid="score"')
    assert "全部指标达标" not in card
    assert "1 项未达标" in card and "正在按当前数据和标准值重新核查" in card and "按当前数据重新计算" in card
    row = queue_row(client.get("/bureau/").content.decode(), "370200")
    assert "全部达标" not in row and "1 项未达标" in row


# ------------------------------------------------------------------------------------------------
# Defect 5: the diff and the history read as words, not codes
# ------------------------------------------------------------------------------------------------
def test_the_resubmission_diff_and_the_history_name_case_domains_and_order_in_words(
    client, city_user, bureau_user, open_round
):
    from reviews.services import submission_return
    from submissions.services import submission_submit

    # Given a form submitted with its first case in 垂直行业 (industry), and returned by the bureau
    submission = make_submission(city_user.city, open_round, Status.DRAFT)
    cases = list(submission.cases.all())
    items = [{"id": case.pk, **{name: getattr(case, name) for name in CASE_FIELDS}} for case in cases]
    items[0]["domain"] = "industry"
    submission = submission_update(
        submission_id=submission.pk, actor=city_user, data={}, cases=items, expected_version=submission.version
    )
    submission_submit(submission_id=submission.pk, actor=city_user, confirm_inconsistent=True)
    submission_return(submission_id=submission.pk, actor=bureau_user, reason="请核实案例领域")
    submission.refresh_from_db()
    # When the city moves that case to 社会民生 (livelihood), puts it last, and resubmits
    items[0]["domain"] = "livelihood"
    items.append(items.pop(0))
    submission = submission_update(
        submission_id=submission.pk, actor=city_user, data={}, cases=items, expected_version=submission.version
    )
    submission_submit(submission_id=submission.pk, actor=city_user, confirm_inconsistent=True)

    # Then the bureau's diff reads 垂直行业 → 社会民生 and the new order by title, never the codes
    client.force_login(bureau_user)
    page = client.get(f"/submissions/{submission.pk}/").content.decode()
    diff = section(page, 'data-testid="diff"')
    assert "垂直行业" in diff and "社会民生" in diff
    assert "industry" not in diff and "livelihood" not in diff
    assert cases[0].title in section(diff, "案例顺序", "</tr>")
    # And so does the history
    history = section(page, 'data-testid="history"', "</ol>")
    assert "垂直行业" in history and "社会民生" in history
    assert ">industry<" not in history and ">livelihood<" not in history


# ------------------------------------------------------------------------------------------------
# Defect 6: workflow steps are not data edits
# ------------------------------------------------------------------------------------------------
def subtitle(page: str) -> str:
    """The line under a page's title, where the form's state, version and last changes are."""
    return section(page, 'class="subtitle"', "</div>")


def test_last_saved_names_who_changed_the_data_and_workflow_steps_are_shown_as_steps(
    client, city_user, bureau_user, ministry_user, open_round
):
    from reviews.services import submission_confirm, submission_recommend, submission_return
    from submissions.services import submission_submit

    # Given a form the city filled in and submitted, and the bureau returned
    submission = make_submission(city_user.city, open_round, Status.SUBMITTED)
    submission_return(submission_id=submission.pk, actor=bureau_user, reason="请核实")
    client.force_login(city_user)

    # Then the city's form, page, home and Excel page say the city saved the data last, and the
    # return is shown as a step of the bureau
    for url in (
        f"/submissions/{submission.pk}/edit/",
        f"/submissions/{submission.pk}/",
        f"/submissions/{submission.pk}/excel/",
    ):
        line = subtitle(client.get(url).content.decode())
        assert "最近保存" in line and "（qingdao）" in line, url
        assert "shandong）" not in line.split("最近操作")[0], url
        assert "最近操作：退回城市（shandong" in line, url
    home = section(client.get("/city/").content.decode(), 'id="current-round"')
    assert "（qingdao）" in home and "最近操作：退回城市（shandong" in home

    # When the city resubmits, the bureau recommends and the ministry confirms (青岛, a Gigabit City
    # since 2021, files an annual report)
    submission_submit(submission_id=submission.pk, actor=city_user)
    submission_recommend(submission_id=submission.pk, actor=bureau_user)
    submission_confirm(submission_id=submission.pk, actor=ministry_user)

    # Then the ministry's decision is a step, never the last save of the data
    line = subtitle(client.get(f"/submissions/{submission.pk}/").content.decode())
    assert "（qingdao）" in line and "miit）" not in line.split("最近操作")[0]
    assert "最近操作：复核通过（miit" in line


# ------------------------------------------------------------------------------------------------
# Issue 16: the review page reads each thing once, however long the form's history
# ------------------------------------------------------------------------------------------------
def returned_and_resubmitted(city_user, bureau_user, open_round, times: int):
    """A submitted form the bureau returned `times` times (with a comment on a field each time) and
    the city resubmitted after each return."""
    from reviews.services import submission_return
    from submissions.services import submission_submit

    submission = make_submission(city_user.city, open_round, Status.DRAFT)
    submission_submit(submission_id=submission.pk, actor=city_user, confirm_inconsistent=True)
    for n in range(times):
        submission_return(
            submission_id=submission.pk,
            actor=bureau_user,
            reason=f"请核实（第{n + 1}次）",
            comments={"bs5g_count": f"基站数请核实（第{n + 1}次）"},
        )
        submission.refresh_from_db()
        submission_update(
            submission_id=submission.pk,
            actor=city_user,
            data={"bs5g_count": 10_000 + n},
            expected_version=submission.version,
        )
        submission_submit(submission_id=submission.pk, actor=city_user, confirm_inconsistent=True)
    return submission


def test_the_review_page_costs_the_same_queries_after_one_return_or_three(client, city_user, bureau_user, open_round):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(bureau_user)

    def review_page_queries(submission) -> tuple[int, str]:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(f"/submissions/{submission.pk}/")
        assert response.status_code == 200
        return len(captured), response.content.decode()

    once, page = review_page_queries(returned_and_resubmitted(city_user, bureau_user, open_round, 1))
    # The page shows the last return's comment, the change since it and the whole history.
    assert "基站数请核实（第1次）" in page and 'data-testid="diff"' in page
    other = City.objects.filter(province=city_user.city.province).exclude(pk=city_user.city_id).first()
    city_user.city = other  # the same bureau, another of its cities
    thrice, page = review_page_queries(returned_and_resubmitted(city_user, bureau_user, open_round, 3))
    assert "基站数请核实（第3次）" in page and "请核实（第1次）" in page
    assert thrice == once
    # Read once each: the previous form, the peers, the thresholds, the events, the data changes, the
    # return's comments, the scores, the cover letter; with the form, the deadline and whether any
    # evidence was asked (38 queries here before issue 16).
    assert once <= 19
