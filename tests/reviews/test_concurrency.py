"""Two people acting on the same submission at once: exactly one wins, the others are told who did,
and the history has one event. On PostgreSQL, with real concurrent connections."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections, transaction

from gigacity.errors import Conflict
from gigacity.models import City
from indicators.models import Designation, Round, RoundStatus
from indicators.reference import ensure_thresholds
from reviews.services import submission_approve, submission_send_back
from submissions.models import Status, SubmissionEvent
from tests.conftest import make_user
from tests.factories import make_submission

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def race(workers):
    """Run the callables at the same moment, each on its own database connection."""
    barrier = threading.Barrier(len(workers))
    results = [None] * len(workers)

    def run(index, work):
        try:
            barrier.wait()
            work()
            results[index] = "ok"
        except Conflict as exc:
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, w)) for i, w in enumerate(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_many_simultaneous_approvals_have_one_winner_and_one_event(open_round, ministry_user):
    submission = make_submission(City.objects.get(pk="370600"), open_round, Status.RECOMMENDED)  # 烟台: evaluation
    staff = [ministry_user] + [make_user(f"miit{i}", "ministry") for i in range(7)]

    results = race([lambda u=u: submission_approve(submission_id=submission.pk, actor=u) for u in staff])

    assert results.count("ok") == 1
    losers = [r for r in results if r != "ok"]
    assert len(losers) == 7 and all("已认定" in r.message for r in losers)
    assert SubmissionEvent.objects.filter(submission=submission, action="approve").count() == 1
    submission.refresh_from_db()
    assert submission.status == Status.APPROVED


def test_a_return_and_an_approval_at_once_leave_one_consistent_outcome(open_round, ministry_user):
    submission = make_submission(City.objects.get(pk="370600"), open_round, Status.RECOMMENDED)
    results = race(
        [
            lambda: submission_approve(submission_id=submission.pk, actor=ministry_user),
            lambda: submission_send_back(
                submission_id=submission.pk, actor=make_user("miit-b", "ministry"), reason="请复核"
            ),
        ]
    )

    assert results.count("ok") == 1
    submission.refresh_from_db()
    events = list(SubmissionEvent.objects.filter(submission=submission).values_list("to_status", flat=True))
    assert events[-1] == submission.status and submission.status in (Status.APPROVED, Status.SENT_BACK)
    assert events.count(Status.APPROVED) + events.count(Status.SENT_BACK) == 1


def test_two_decisions_naming_the_same_city_in_two_rounds_at_once_name_it_once(open_round, ministry_user):
    # 烟台's evaluations of last year (decisions still open) and of this year, approved at the same moment
    # by two members of staff: the city is named once; the other decision finds its form an annual report.
    last_year = Round.objects.create(year=open_round.year - 1, status=RoundStatus.OPEN, deadline=open_round.deadline)
    ensure_thresholds(last_year)
    yantai = City.objects.get(pk="370600")
    forms = [make_submission(yantai, r, Status.RECOMMENDED) for r in (last_year, open_round)]
    staff = [ministry_user, make_user("miit-2", "ministry")]

    results = race(
        [lambda f=f, u=u: submission_approve(submission_id=f.pk, actor=u) for f, u in zip(forms, staff, strict=True)]
    )

    assert results.count("ok") == 1
    refusal = next(r for r in results if r != "ok")
    assert isinstance(refusal, Conflict), refusal  # told in words, never a deadlock or a server error
    assert Designation.objects.filter(city=yantai).count() == 1
    loser = forms[results.index(refusal)]
    loser.refresh_from_db()
    assert loser.status == Status.RECOMMENDED
    named = Designation.objects.get(city=yantai).round.year
    assert loser.kind == ("annual_report" if loser.round.year > named else "evaluation")


def test_the_database_refuses_to_change_or_delete_history(open_round, city_user):
    submission = make_submission(city_user.city, open_round, Status.SUBMITTED)
    event = SubmissionEvent.objects.filter(submission=submission).first()
    with pytest.raises(Exception, match="history records cannot be changed or deleted"), connection.cursor() as c:
        c.execute("UPDATE submissions_submissionevent SET reason = 'rewritten' WHERE id = %s", [event.pk])
    with pytest.raises(Exception, match="history records cannot be changed or deleted"), connection.cursor() as c:
        c.execute("DELETE FROM submissions_datachange WHERE submission_id = %s", [submission.pk])


def test_a_decision_waits_for_the_one_holding_the_form_then_sees_its_outcome(open_round, ministry_user):
    # Deterministic, unlike a race: the first ministry user holds the row lock until the second is seen
    # waiting for it in pg_stat_activity. Without the lock the second would not wait but approve too.
    from submissions.workflow import lock_submission, transition

    submission = make_submission(City.objects.get(pk="370600"), open_round, Status.RECOMMENDED)  # 烟台: evaluation
    second_user = make_user("miit-second", "ministry")
    holding, outcome = threading.Event(), {}

    def first():
        try:
            with transaction.atomic():
                lock_submission(submission_id=submission.pk, actor=ministry_user)
                holding.set()
                outcome["second waited"] = _wait_for_a_lock_wait()
                transition(submission_id=submission.pk, action="approve", actor=ministry_user, via_header=False)
            outcome["first"] = "ok"
        finally:
            connections.close_all()

    def second():
        try:
            holding.wait(timeout=60)
            submission_approve(submission_id=submission.pk, actor=second_user)
            outcome["second"] = "ok"
        except Conflict as exc:
            outcome["second"] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert outcome["second waited"], "the second decision did not wait for the row lock"
    assert outcome["first"] == "ok"
    assert isinstance(outcome["second"], Conflict) and "已认定" in outcome["second"].message
    assert SubmissionEvent.objects.filter(submission=submission, action="approve").count() == 1


def _wait_for_a_lock_wait(attempts: int = 600) -> bool:
    """Whether another connection of this database is seen waiting for a row lock (polled from a
    connection of its own, at most `attempts` times 50 ms)."""
    import time

    import psycopg2

    settings_dict = connection.settings_dict
    watcher = psycopg2.connect(
        dbname=settings_dict["NAME"],
        user=settings_dict["USER"],
        password=settings_dict["PASSWORD"],
        host=settings_dict["HOST"] or None,
        port=settings_dict["PORT"] or None,
    )
    watcher.autocommit = True
    try:
        with watcher.cursor() as cursor:
            for _attempt in range(attempts):
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
                )
                if cursor.fetchone()[0]:
                    return True
                time.sleep(0.05)
        return False
    finally:
        watcher.close()
