"""Who is told what: in-app notifications and e-mail on every workflow step, extensions, and deadline
reminders sent exactly once."""

from __future__ import annotations

import datetime

import pytest
from django.core import mail
from django.utils import timezone

from gigacity.models import City
from reviews.models import Notification, NotificationKind, Reminder
from reviews.notifications import notification_title
from reviews.reminders import due_reminder, send_deadline_reminders
from reviews.services import (
    extension_grant,
    submission_approve,
    submission_confirm,
    submission_not_confirm,
    submission_recommend,
    submission_return,
)
from submissions.models import Status
from submissions.services import submission_submit
from tests.factories import make_submission

pytestmark = pytest.mark.django_db


def kinds_for(user):
    return list(Notification.objects.filter(recipient=user).order_by("pk").values_list("kind", flat=True))


def test_every_step_reaches_the_people_who_act_or_wait(
    city_user, bureau_user, ministry_user, open_round, django_capture_on_commit_callbacks
):
    submission = make_submission(city_user.city, open_round, Status.SUBMITTED)
    assert kinds_for(bureau_user) == [NotificationKind.SUBMITTED]

    with django_capture_on_commit_callbacks(execute=True):
        submission_return(submission_id=submission.pk, actor=bureau_user, reason="请核实基站数")
        submission_submit(submission_id=submission.pk, actor=city_user)
        submission_recommend(submission_id=submission.pk, actor=bureau_user)
        submission_confirm(submission_id=submission.pk, actor=ministry_user)

    # 青岛 is a Gigabit City since 2021: its form is an annual report, confirmed, and every message says so.
    assert kinds_for(city_user) == [
        NotificationKind.RETURNED,
        NotificationKind.RECOMMENDED,
        NotificationKind.CONFIRMED,
    ]
    assert kinds_for(bureau_user) == [
        NotificationKind.SUBMITTED,
        NotificationKind.RESUBMITTED,
        NotificationKind.CONFIRMED,
    ]
    assert kinds_for(ministry_user) == [NotificationKind.RECOMMENDED]
    returned = Notification.objects.get(recipient=city_user, kind=NotificationKind.RETURNED)
    assert notification_title(returned) == f"青岛市的{open_round.year}年度复核表已被退回修改"
    confirmed = Notification.objects.get(recipient=city_user, kind=NotificationKind.CONFIRMED)
    assert notification_title(confirmed) == f"青岛市{open_round.year}年度复核通过：仍达到千兆城市标准"
    assert "认定为" not in " ".join(m.subject for m in mail.outbox)  # never "named" again
    assert returned.text == "请核实基站数"
    subjects = [m.subject for m in mail.outbox if city_user.email in m.to]
    assert any("退回" in s for s in subjects) and any("千兆城市" in s for s in subjects)
    assert any("请核实基站数" in m.body and f"/submissions/{submission.pk}/" in m.body for m in mail.outbox)


def test_an_evaluation_approved_names_the_city_and_a_report_not_confirmed_gives_the_date(
    city_user, bureau_user, ministry_user, open_round
):
    yantai = make_submission(City.objects.get(pk="370600"), open_round, Status.RECOMMENDED)
    qingdao = make_submission(city_user.city, open_round, Status.RECOMMENDED)
    due = open_round.deadline + datetime.timedelta(days=365)

    submission_approve(submission_id=yantai.pk, actor=ministry_user)
    submission_not_confirm(
        submission_id=qingdao.pk,
        actor=ministry_user,
        reason="10G-PON端口占比未达标",
        shortfall=["pon_10g_share"],
        improvement_due=due,
    )

    approved = Notification.objects.get(kind=NotificationKind.APPROVED, recipient=bureau_user)
    assert notification_title(approved) == f"烟台市已被认定为{open_round.year}年度千兆城市"
    submitted = Notification.objects.filter(kind=NotificationKind.SUBMITTED, submission=yantai).first()
    assert notification_title(submitted) == f"烟台市已提交{open_round.year}年度调查表"
    not_confirmed = Notification.objects.get(kind=NotificationKind.NOT_CONFIRMED, recipient=city_user)
    assert (
        notification_title(not_confirmed) == f"青岛市{open_round.year}年度复核未通过：请于{due.isoformat()}前完成整改"
    )
    assert not_confirmed.text == "10G-PON端口占比未达标"


def test_nobody_is_notified_of_their_own_action(city_user, bureau_user, open_round):
    submission = make_submission(city_user.city, open_round, Status.SUBMITTED)
    submission_return(submission_id=submission.pk, actor=bureau_user, reason="x")
    assert NotificationKind.RETURNED not in kinds_for(bureau_user)


def test_the_bell_counts_unread_notifications_and_opening_one_marks_it_read(client, city_user, bureau_user, open_round):
    submission = make_submission(city_user.city, open_round, Status.SUBMITTED)
    submission_return(submission_id=submission.pk, actor=bureau_user, reason="请核实")
    client.force_login(city_user)

    page = client.get("/city/").content.decode()
    assert 'data-testid="unread-count">1<' in page
    notification = Notification.objects.get(recipient=city_user)
    response = client.get(f"/notifications/{notification.pk}/")
    assert response["Location"] == f"/submissions/{submission.pk}/"
    assert 'data-testid="unread-count"' not in client.get("/city/").content.decode()


def test_an_extension_is_announced_to_the_city(city_user, bureau_user, open_round):
    extension_grant(
        city=city_user.city,
        round_=open_round,
        until=open_round.deadline + datetime.timedelta(days=9),
        reason="数据复核",
        actor=bureau_user,
    )
    notification = Notification.objects.get(recipient=city_user)
    assert notification.kind == NotificationKind.EXTENSION
    assert "延期" in notification_title(notification)


@pytest.mark.parametrize(
    ("days_left", "due"), [(30, None), (8, None), (7, 7), (3, 7), (2, 7), (1, 1), (0, 1), (-1, None)]
)
def test_which_reminder_is_due(days_left, due):
    assert due_reminder(days_left) == due


def test_reminders_go_to_cities_still_in_draft_once_each(city_user, city_user_same_province, open_round):
    make_submission(city_user_same_province.city, open_round, Status.SUBMITTED)
    today = open_round.deadline - datetime.timedelta(days=7)

    first = send_deadline_reminders(today)
    again = send_deadline_reminders(today)
    next_day = send_deadline_reminders(today + datetime.timedelta(days=1))
    last_day = send_deadline_reminders(open_round.deadline - datetime.timedelta(days=1))

    assert (first, again, next_day, last_day) == (1, 0, 0, 1)  # 济南 submitted: only 青岛 is reminded
    assert list(Reminder.objects.order_by("pk").values_list("city_id", "days_before")) == [("370200", 7), ("370200", 1)]
    reminder = Notification.objects.filter(recipient=city_user, kind=NotificationKind.REMINDER).first()
    assert "尚未提交" in notification_title(reminder)
    assert not Notification.objects.filter(recipient=city_user_same_province, kind=NotificationKind.REMINDER)


def test_no_reminders_outside_the_last_week_or_after_the_deadline(city_user, open_round):
    assert send_deadline_reminders(open_round.deadline - datetime.timedelta(days=20)) == 0
    assert send_deadline_reminders(open_round.deadline + datetime.timedelta(days=1)) == 0
    assert not Reminder.objects.exists()


def test_reminders_count_from_the_city_s_own_deadline_after_an_extension(city_user, bureau_user, open_round):
    # 青岛 has ten more days than the round; the round's last day is not 青岛's last day.
    until = open_round.deadline + datetime.timedelta(days=10)
    extension_grant(city=city_user.city, round_=open_round, until=until, reason="数据核实", actor=bureau_user)

    on_round_last_day = send_deadline_reminders(open_round.deadline - datetime.timedelta(days=1))
    after_round_deadline = send_deadline_reminders(open_round.deadline + datetime.timedelta(days=3))
    on_own_last_day = send_deadline_reminders(until - datetime.timedelta(days=1))

    assert (on_round_last_day, after_round_deadline, on_own_last_day) == (0, 1, 1)
    assert list(Reminder.objects.order_by("pk").values_list("days_before", flat=True)) == [7, 1]
    last = Notification.objects.filter(recipient=city_user, kind=NotificationKind.REMINDER).last()
    assert last.extra["deadline"] == until.isoformat()


# ------------------------------------------------------------------------------------------------
# Evidence requests past their answer-by date
# ------------------------------------------------------------------------------------------------
def test_an_overdue_evidence_request_reminds_the_city_and_tells_the_reviewer_once(
    city_user, city_user_same_province, bureau_user, open_round, django_capture_on_commit_callbacks
):
    from reviews.evidence import evidence_request_create
    from reviews.reminders import send_evidence_reminders
    from reviews.tasks import send_deadline_reminders as periodic_task

    submission = make_submission(city_user.city, open_round, Status.SUBMITTED, scored=False)
    # A date after today (the service refuses any other); every run below has its own clock.
    due = timezone.localdate() + datetime.timedelta(days=5)
    request = evidence_request_create(
        submission_id=submission.pk, actor=bureau_user, field="bs5g_count", question="请提供基站清单", due_on=due
    )
    Notification.objects.all().delete()  # the request's own notification is another test's business

    # On the answer-by date the city is still in time; the day after, it is late.
    assert send_evidence_reminders(due) == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert send_evidence_reminders(due + datetime.timedelta(days=1)) == 1
    # The next runs, the next hour or the next days, send nothing more.
    assert send_evidence_reminders(due + datetime.timedelta(days=1)) == 0
    assert send_evidence_reminders(due + datetime.timedelta(days=9)) == 0
    assert periodic_task() == 0

    (to_city,) = Notification.objects.filter(recipient=city_user)
    assert to_city.kind == NotificationKind.EVIDENCE_OVERDUE
    title = notification_title(to_city)
    assert "5G基站数" in title and due.isoformat() in title and "请尽快答复" in title
    (to_reviewer,) = Notification.objects.filter(recipient=bureau_user)
    assert to_reviewer.kind == NotificationKind.EVIDENCE_UNANSWERED
    assert "青岛市尚未答复" in notification_title(to_reviewer) and "5G基站数" in notification_title(to_reviewer)
    # Nobody else: not the province's other city.
    assert not Notification.objects.filter(recipient=city_user_same_province).exists()
    # And by e-mail, each with a link to the form's page where the request is answered.
    assert sorted(m.to[0] for m in mail.outbox) == sorted([city_user.email, bureau_user.email])
    assert all(f"/submissions/{submission.pk}/" in m.body for m in mail.outbox)
    request.refresh_from_db()
    assert request.state == "open"


def test_a_request_to_answer_again_is_reminded_but_not_one_answered_settled_or_in_a_published_round(
    city_user, bureau_user, open_round
):
    from indicators.models import Round, RoundStatus
    from reviews.evidence import evidence_answer, evidence_reject, evidence_request_create, evidence_withdraw
    from reviews.reminders import send_evidence_reminders

    submission = make_submission(city_user.city, open_round, Status.SUBMITTED, scored=False)
    due = timezone.localdate() + datetime.timedelta(days=3)

    def ask(field):
        return evidence_request_create(
            submission_id=submission.pk, actor=bureau_user, field=field, question=f"请核实{field}", due_on=due
        )

    answered, withdrawn, rejected = ask("bs5g_count"), ask("users_5g"), ask("pon_ports_total")
    evidence_answer(request_id=answered.pk, actor=city_user, text="见附件说明")
    evidence_withdraw(request_id=withdrawn.pk, actor=bureau_user, reason="已核实")
    evidence_answer(request_id=rejected.pk, actor=city_user, text="数据无误")
    evidence_reject(request_id=rejected.pk, actor=bureau_user, reason="请提供运营商盖章的统计表")
    Notification.objects.all().delete()
    late = due + datetime.timedelta(days=1)

    # Once the round is published nothing can be answered: no reminder.
    Round.objects.filter(pk=open_round.pk).update(status=RoundStatus.PUBLISHED)
    assert send_evidence_reminders(late) == 0
    Round.objects.filter(pk=open_round.pk).update(status=RoundStatus.OPEN)

    # The answered one waits on the reviewer, the withdrawn one on nobody; the rejected one on the city.
    assert send_evidence_reminders(late) == 1
    (to_city,) = Notification.objects.filter(recipient=city_user)
    assert to_city.extra["request"] == rejected.pk and "PON端口总数" in notification_title(to_city)
