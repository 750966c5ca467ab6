"""Scoring as people meet it: a city submits, the bureau recommends, the ministry moves a threshold,
and each time every affected submission carries one score per version with flags a reviewer can
read. Celery runs in-process here (after commit, as in production); the real worker, Redis outages
and killed workers are in test_worker.py."""

from __future__ import annotations

import socket
import threading
from datetime import timedelta
from decimal import Decimal

import kombu.exceptions
import pytest
from django.db import OperationalError, connection, transaction
from django.test import TestCase
from django.utils import timezone

from gigacity.celery import app as celery_app
from gigacity.models import City
from indicators.models import Threshold
from reviews.services import submission_recommend, thresholds_update
from submissions import scoring
from submissions.models import Score, ScoringState, Status, Submission
from submissions.services import submission_submit
from submissions.tasks import score_submission
from tests.factories import make_submission
from tests.submissions.processes import publishing_to

pytestmark = pytest.mark.django_db

QINGDAO, JINAN, YANTAI, XUZHOU = "370200", "370100", "370600", "320300"


def record_publishes(monkeypatch) -> list[int]:
    """From now on, the ids the app publishes to the broker, in order, instead of running them."""
    ids: list[int] = []
    lock = threading.Lock()

    def record(args=None, kwargs=None, **options):
        with lock:
            ids.append(args[0])

    monkeypatch.setattr(score_submission, "apply_async", record)
    return ids


@pytest.fixture
def published(monkeypatch) -> list[int]:
    return record_publishes(monkeypatch)


def submitted(round_, code: str, state: str = Status.SUBMITTED, **overrides) -> Submission:
    """A city's real-looking submission walked to `state`, with the scoring it triggers run after
    each commit, as the worker would (make_submission runs the on-commit callbacks)."""
    submission = make_submission(City.objects.get(pk=code), round_, state, **overrides)
    submission.refresh_from_db()
    return submission


def flags_of(score: Score) -> dict[tuple[str, str], object]:
    return {(f.code, f.indicator): f for f in score.flags.all()}


def result_of(score: Score, code: str) -> dict:
    return next(r for r in score.results if r["code"] == code)


# ------------------------------------------------------------------------------------------------
# Scoring on submit and on recommend
# ------------------------------------------------------------------------------------------------
def test_a_city_with_25_percent_10g_pon_misses_the_30_percent_line_and_is_told_so(open_round):
    submission = submitted(open_round, QINGDAO, pon_10g_ports=250_000, pon_ports_total=1_000_000)

    assert submission.scoring_state == ScoringState.SCORED
    score = submission.scores.get()
    assert (score.version, score.threshold_version) == (submission.version, open_round.threshold_version)
    pon = result_of(score, "pon_10g_share")
    assert pon == {
        "code": "pon_10g_share",
        "value": "25.0",
        "threshold": "30.00",
        "passed": False,
        "margin": "-5.00",
        "margin_relative": "-0.1667",
    }
    assert score.meets_all is False and score.missed >= 1
    assert submission.meets_all is False and submission.missed_count == score.missed
    missed = flags_of(score)[("threshold_missed", "pon_10g_share")]
    assert missed.message_zh == "城市10G-PON端口占比为25.0%，未达到30.0%的标准"
    assert missed.message_en == "10G-PON port share is 25.0%, below the threshold of 30.0%"
    assert submission.flags_count == score.flags.count() and submission.flag_severity >= 2


def test_a_city_reporting_more_1000m_than_500m_users_is_flagged_inconsistent_in_both_languages(open_round):
    submission = submitted(open_round, JINAN, users_500m_plus=200_000, users_1000m=260_000)

    flag = flags_of(submission.scores.get())[("inconsistent_inputs", "users_1000m")]
    assert flag.severity == 3
    assert "1000Mbps及以上固定宽带用户数（260,000）大于500Mbps及以上固定宽带用户数（200,000）" in flag.message_zh
    assert flag.message_en.startswith("Fixed-broadband users at 1000 Mbps or more (260,000) exceed")
    assert submission.flag_severity == 3


def test_more_hospitals_reached_by_5g_than_hospitals_confirmed_at_submission_is_flagged_for_reviewers(open_round):
    submission = submitted(open_round, JINAN, ks_hospital_total=5, ks_hospital_covered=8)

    flags = [f for f in submission.scores.get().flags.all() if f.code == "inconsistent_inputs"]
    assert "三级及以上市属公立医院：5G通达数（8）大于场所数（5）" in [f.message_zh for f in flags]
    assert {f.severity for f in flags} == {3}
    assert submission.events.get(action="submit").details["confirmed_inconsistencies"]


def test_recommending_scores_the_new_version_and_keeps_the_first_score(open_round, bureau_user):
    submission = submitted(open_round, QINGDAO)
    first = submission.scores.get()

    with TestCase.captureOnCommitCallbacks(execute=True):
        submission_recommend(submission_id=submission.pk, actor=bureau_user, note="数据已核实")
    submission.refresh_from_db()

    assert submission.status == Status.RECOMMENDED and submission.scoring_state == ScoringState.SCORED
    assert sorted(submission.scores.values_list("version", flat=True)) == [first.version, submission.version]
    assert Score.objects.filter(pk=first.pk).exists()


def test_a_threshold_change_rescores_every_submitted_submission_of_the_round_in_the_background(
    open_round, ministry_user, monkeypatch
):
    # Given three cities that sent their forms (one already recommended) and one still drafting
    strong = submitted(open_round, QINGDAO, pon_10g_ports=450_000, pon_ports_total=1_000_000)
    recommended = submitted(open_round, JINAN, Status.RECOMMENDED)
    weak = submitted(open_round, YANTAI, pon_10g_ports=350_000, pon_ports_total=1_000_000)
    draft = make_submission(City.objects.get(pk=XUZHOU), open_round, Status.DRAFT)
    assert result_of(strong.scores.get(), "pon_10g_share")["passed"] is True
    before = {s.pk: set(s.scores.values_list("pk", flat=True)) for s in (strong, recommended, weak)}

    # When the ministry raises the 10G-PON line from 30 % to 40 %
    published = record_publishes(monkeypatch)
    with TestCase.captureOnCommitCallbacks(execute=False) as callbacks:
        changed = thresholds_update(
            round_=open_round, values={"pon_10g_share": "40"}, reason="部里确认2023年度标准", actor=ministry_user
        )
    assert changed == 1

    # Then the page returns before any scoring: the submissions wait as pending, nothing published yet
    submissions = Submission.objects.filter(pk__in=before)
    assert set(submissions.values_list("scoring_state", flat=True)) == {ScoringState.PENDING}
    assert published == [] and len(callbacks) == 1
    assert Score.objects.filter(threshold_version=2).count() == 0

    # And after the commit each one is published once and scored against threshold version 2
    callbacks[0]()
    assert sorted(published) == sorted(before)
    for pk in published:
        score_submission.apply(args=(pk,))
    for submission in submissions:
        scores = list(submission.scores.order_by("threshold_version"))
        assert [s.threshold_version for s in scores] == [1, 2]  # the old score is kept
        assert {s.pk for s in scores} > before[submission.pk]
        assert result_of(scores[1], "pon_10g_share")["threshold"] == "40.00"
        assert submission.scoring_state == ScoringState.SCORED
    assert Submission.objects.get(pk=strong.pk).scores.get(threshold_version=2).meets_all == (
        Submission.objects.get(pk=strong.pk).missed_count == 0
    )
    weak_new = Submission.objects.get(pk=weak.pk).scores.get(threshold_version=2)
    assert result_of(weak_new, "pon_10g_share")["passed"] is False
    assert ("threshold_missed", "pon_10g_share") in flags_of(weak_new)
    assert not draft.scores.exists() and Submission.objects.get(pk=draft.pk).scoring_state == ScoringState.IDLE


# ------------------------------------------------------------------------------------------------
# Exactly once, retries, poison
# ------------------------------------------------------------------------------------------------
def test_the_task_delivered_twice_writes_one_score(open_round, published):
    submission = submitted(open_round, QINGDAO)
    assert published == [submission.pk]

    assert score_submission.apply(args=(submission.pk,)).get() == ScoringState.SCORED
    assert score_submission.apply(args=(submission.pk,)).get() == "skipped"
    # A copy delivered again after the score was written but before the broker heard of it (the row
    # is pending again, e.g. published by the sweep): the same version is not scored a second time.
    Submission.objects.filter(pk=submission.pk).update(scoring_state=ScoringState.PENDING)
    assert score_submission.apply(args=(submission.pk,)).get() == ScoringState.SCORED

    assert Score.objects.filter(submission=submission).count() == 1
    submission.refresh_from_db()
    assert submission.scoring_state == ScoringState.SCORED and submission.scoring_attempts == 2


def test_a_poison_submission_ends_failed_with_its_reason_and_the_others_are_scored(open_round, monkeypatch):
    real = scoring.compute_score

    def broken_for_jinan(submission, thresholds):
        if submission.city_id == JINAN:
            raise ValueError("case domain '数字乡村' is not in the catalogue")
        return real(submission, thresholds)

    monkeypatch.setattr(scoring, "compute_score", broken_for_jinan)
    poison = submitted(open_round, JINAN)
    healthy = [submitted(open_round, code) for code in (QINGDAO, YANTAI, XUZHOU)]

    # Not retried: one attempt, and the reason kept for the technical team.
    assert (poison.scoring_state, poison.scoring_attempts) == (ScoringState.FAILED, 1)
    assert poison.scoring_error == "ValueError: case domain '数字乡村' is not in the catalogue"
    assert not poison.scores.exists()
    assert [s.scoring_state for s in healthy] == [ScoringState.SCORED] * 3
    assert all(s.scores.count() == 1 for s in healthy)


def test_a_round_without_a_threshold_cannot_be_scored_and_says_which_one(open_round):
    Threshold.objects.filter(round=open_round, indicator_id="users_5g_share").delete()

    submission = submitted(open_round, QINGDAO)

    assert submission.scoring_state == ScoringState.FAILED
    assert submission.scoring_error == "the round has no threshold for: users_5g_share"


def test_a_submission_that_kills_its_worker_every_time_ends_failed_after_the_allowed_attempts(
    open_round, settings, monkeypatch, published
):
    # SystemExit is what a dying pool child looks like in-process: Celery lets it through, the
    # message is not acknowledged, and the broker delivers it again.
    def dies(submission, thresholds):
        raise SystemExit(137)

    monkeypatch.setattr(scoring, "compute_score", dies)
    settings.GIGACITY_SCORING_MAX_ATTEMPTS = 3
    submission = submitted(open_round, QINGDAO)

    for delivery in range(1, 4):
        with pytest.raises(SystemExit):
            score_submission.apply(args=(submission.pk,))
        submission.refresh_from_db()
        assert (submission.scoring_state, submission.scoring_attempts) == (ScoringState.PENDING, delivery)

    score_submission.apply(args=(submission.pk,))
    submission.refresh_from_db()
    assert submission.scoring_state == ScoringState.FAILED
    assert submission.scoring_error == "gave up after 3 attempts"


def test_a_lost_database_connection_is_retried_and_the_submission_scored(open_round, monkeypatch, published):
    real, calls = scoring.compute_score, []

    def flaky(submission, thresholds):
        calls.append(submission.pk)
        if len(calls) <= 2:
            raise OperationalError("server closed the connection unexpectedly")
        return real(submission, thresholds)

    monkeypatch.setattr(scoring, "compute_score", flaky)
    submission = submitted(open_round, QINGDAO)

    score_submission.apply(args=(submission.pk,))

    submission.refresh_from_db()
    assert len(calls) == 3
    assert (submission.scoring_state, submission.scoring_attempts) == (ScoringState.SCORED, 3)
    assert submission.scores.count() == 1


def test_an_outage_longer_than_the_retries_waits_for_the_sweep_then_ends_failed_when_attempts_run_out(
    open_round, monkeypatch, published, settings
):
    def database_down(submission, thresholds):
        raise OperationalError("could not connect to server: Connection refused")

    monkeypatch.setattr(scoring, "compute_score", database_down)
    submission = submitted(open_round, QINGDAO)

    score_submission.apply(args=(submission.pk,))

    # max_retries + 1 tries, then the row waits for the sweep instead of failing on a transient error
    submission.refresh_from_db()
    assert submission.scoring_attempts == score_submission.max_retries + 1
    assert submission.scoring_state == ScoringState.PENDING
    assert submission.scoring_error.startswith("OperationalError: could not connect to server")

    published.clear()
    assert scoring.sweep_stale_scoring(lease=timedelta(0)) == [submission.pk]
    assert published == [submission.pk]
    score_submission.apply(args=(submission.pk,))
    submission.refresh_from_db()
    assert submission.scoring_state == ScoringState.FAILED
    assert submission.scoring_attempts == settings.GIGACITY_SCORING_MAX_ATTEMPTS + 1
    assert submission.scoring_error == (
        f"gave up after {settings.GIGACITY_SCORING_MAX_ATTEMPTS} attempts; "
        "last error: OperationalError: could not connect to server: Connection refused"
    )
    assert not submission.scores.exists()


# ------------------------------------------------------------------------------------------------
# Publishing: after commit only, and never failing the request
# ------------------------------------------------------------------------------------------------
def test_a_rolled_back_submit_publishes_nothing_and_a_committed_one_publishes_once(
    open_round, city_user, published, django_capture_on_commit_callbacks
):
    draft = make_submission(city_user.city, open_round, Status.DRAFT)

    def submit_then_fail():
        with transaction.atomic():
            submission_submit(submission_id=draft.pk, actor=city_user)
            raise RuntimeError("the request failed after the submit")

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError):
        submit_then_fail()
    assert callbacks == [] and published == []
    draft.refresh_from_db()
    assert (draft.status, draft.scoring_state) == (Status.DRAFT, ScoringState.IDLE)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        submission_submit(submission_id=draft.pk, actor=city_user)
    assert callbacks and published == [draft.pk]


def test_with_the_broker_down_the_city_still_submits_and_the_row_waits_pending(
    open_round, city_user, monkeypatch, django_capture_on_commit_callbacks
):
    def broker_down(*args, **kwargs):
        raise kombu.exceptions.OperationalError("Error 111 connecting to redis:6379. Connection refused.")

    monkeypatch.setattr(score_submission, "apply_async", broker_down)
    draft = make_submission(city_user.city, open_round, Status.DRAFT)

    with django_capture_on_commit_callbacks(execute=True):
        submission = submission_submit(submission_id=draft.pk, actor=city_user)

    submission.refresh_from_db()
    assert submission.status == Status.SUBMITTED
    assert submission.scoring_state == ScoringState.PENDING and submission.scoring_attempts == 0


@pytest.mark.parametrize("redis_is", ["refusing connections", "accepting connections but never answering"])
def test_with_redis_unreachable_the_publish_after_a_submit_gives_up_instead_of_hanging(
    open_round, city_user, redis_is, caplog, django_capture_on_commit_callbacks
):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        if redis_is.startswith("accepting"):
            listener.listen(16)  # the kernel completes the handshake; nobody ever reads or answers
        port = listener.getsockname()[1]
        if redis_is.startswith("refusing"):
            listener.close()
        celery_app.conf.task_always_eager = False  # put back by the _test_settings fixture
        draft = make_submission(city_user.city, open_round, Status.DRAFT)
        with publishing_to(f"redis://127.0.0.1:{port}/0", "gigacity-test-unreachable"):
            with django_capture_on_commit_callbacks() as callbacks:
                submission_submit(submission_id=draft.pk, actor=city_user)
            # What runs after the commit, in a thread, so that a hang fails the test instead of stalling it
            publishing = threading.Thread(target=lambda: [callback() for callback in callbacks], daemon=True)
            publishing.start()
            publishing.join(timeout=60)

    assert not publishing.is_alive(), "publishing hung"
    assert any(r.getMessage().startswith("could not publish scoring") for r in caplog.records)
    draft.refresh_from_db()
    assert (draft.status, draft.scoring_state) == (Status.SUBMITTED, ScoringState.PENDING)


# ------------------------------------------------------------------------------------------------
# The sweep
# ------------------------------------------------------------------------------------------------
def _pending(round_, code: str, *, waited: timedelta) -> Submission:
    submission = make_submission(City.objects.get(pk=code), round_, Status.DRAFT)
    Submission.objects.filter(pk=submission.pk).update(
        status=Status.SUBMITTED, scoring_state=ScoringState.PENDING, scoring_touched_at=timezone.now() - waited
    )
    return submission


def test_the_sweep_publishes_again_only_what_waited_longer_than_the_lease(open_round, published, settings):
    settings.GIGACITY_SCORING_LEASE_SECONDS = 300
    stale = _pending(open_round, QINGDAO, waited=timedelta(minutes=10))
    fresh = _pending(open_round, JINAN, waited=timedelta(minutes=1))
    done = _pending(open_round, YANTAI, waited=timedelta(minutes=10))
    Submission.objects.filter(pk=done.pk).update(scoring_state=ScoringState.SCORED)

    assert scoring.sweep_stale_scoring() == [stale.pk]
    assert published == [stale.pk]
    # Its lease is renewed: the next sweep, a minute later, leaves it to the worker.
    assert scoring.sweep_stale_scoring() == []
    assert published == [stale.pk]
    assert Submission.objects.get(pk=fresh.pk).scoring_state == ScoringState.PENDING


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_never_publish_the_same_submission_twice(open_round, published):
    codes = list(City.objects.order_by("code").values_list("code", flat=True)[:30])
    stale = {_pending(open_round, code, waited=timedelta(hours=1)).pk for code in codes}
    first_holds_its_rows, second_done = threading.Event(), threading.Event()
    outcome: dict[str, object] = {}

    def hold_before_commit(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if sql.startswith('UPDATE "submissions_submission"'):
            first_holds_its_rows.set()
            outcome["second_finished_while_first_held_locks"] = second_done.wait(timeout=60)
        return result

    def first():
        try:
            with connection.execute_wrapper(hold_before_commit):
                outcome["first"] = scoring.sweep_stale_scoring(limit=20)
        finally:
            connection.close()

    def second():
        try:
            first_holds_its_rows.wait(timeout=60)
            outcome["second"] = scoring.sweep_stale_scoring()
        finally:
            second_done.set()
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    # The second sweep skipped the 20 rows the first had claimed instead of waiting for them
    assert outcome["second_finished_while_first_held_locks"] is True
    assert len(outcome["first"]) == 20 and len(outcome["second"]) == 10
    assert set(outcome["first"]).isdisjoint(outcome["second"])
    assert sorted(published) == sorted(stale)


# ------------------------------------------------------------------------------------------------
# What reviewers and the city see
# ------------------------------------------------------------------------------------------------
def test_city_bureau_and_ministry_see_the_flags_on_the_submission_page(
    client, open_round, city_user, bureau_user, ministry_user
):
    submission = submitted(
        open_round, QINGDAO, users_500m_plus=200_000, users_1000m=260_000, pon_10g_ports=250_000, pon_ports_total=10**6
    )
    url = f"/submissions/{submission.pk}/"

    for user in (city_user, bureau_user, ministry_user):
        client.force_login(user)
        page = client.get(url).content.decode()
        assert "城市10G-PON端口占比为25.0%，未达到30.0%的标准" in page, user.role
        assert "大于500Mbps及以上固定宽带用户数（200,000）" in page, user.role
        assert f"数据版本 {submission.version} · 标准版本 {open_round.threshold_version}" in page

    client.cookies["gigacity_language"] = "en"
    page = client.get(url).content.decode()
    assert "10G-PON port share is 25.0%, below the threshold of 30.0%" in page
    assert "Fixed-broadband users at 1000 Mbps or more (260,000) exceed" in page


def test_the_page_says_when_scoring_is_still_under_way_or_failed(client, open_round, city_user, published):
    submission = submitted(open_round, QINGDAO)
    client.force_login(city_user)
    client.cookies["gigacity_language"] = "en"

    assert "Scoring is in progress" in client.get(f"/submissions/{submission.pk}/").content.decode()

    Submission.objects.filter(pk=submission.pk).update(scoring_state=ScoringState.FAILED, scoring_error="x")
    assert "could not be scored automatically" in client.get(f"/submissions/{submission.pk}/").content.decode()


def test_scores_keep_thresholds_as_decimals_that_read_back_exactly(open_round):
    submission = submitted(open_round, QINGDAO)
    score = submission.scores.get()
    for result in score.results:
        assert Decimal(result["threshold"]) == open_round.thresholds.get(indicator_id=result["code"]).value


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_threshold_change_committed_while_scoring_waits_for_the_row_gives_a_consistent_score(
    open_round, ministry_user, published
):
    # Given a submitted form whose scoring has been claimed by a worker, but not yet started
    submission = make_submission(City.objects.get(pk=QINGDAO), open_round, Status.SUBMITTED)
    claimed, resume = threading.Event(), threading.Event()
    outcome: dict[str, object] = {}

    def pause_after_claim(execute, sql, params, many, context):
        # The claim has committed; the next statement is the one that locks the row.
        if sql.startswith("SELECT") and "FOR UPDATE" in sql:
            claimed.set()
            outcome["resumed"] = resume.wait(timeout=60)
        return execute(sql, params, many, context)

    def worker():
        try:
            with connection.execute_wrapper(pause_after_claim):
                outcome["state"] = scoring.submission_score(submission_id=submission.pk)
        finally:
            connection.close()

    thread = threading.Thread(target=worker)
    thread.start()
    assert claimed.wait(timeout=60)

    # When the ministry changes a threshold, and commits only once the worker waits for the row lock
    with transaction.atomic():
        thresholds_update(round_=open_round, values={"pon_10g_share": "40"}, reason="部里确认", actor=ministry_user)
        resume.set()
        with connection.cursor() as cursor:
            for _ in range(600):
                cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
                if cursor.fetchone()[0]:
                    break
                threading.Event().wait(0.1)
    thread.join(timeout=120)

    # Then the score says which thresholds it used, and used those
    assert outcome["resumed"] is True
    assert outcome["state"] == ScoringState.SCORED
    score = Score.objects.get(submission=submission)
    assert result_of(score, "pon_10g_share")["threshold"] == "40.00"
    assert score.threshold_version == 2
