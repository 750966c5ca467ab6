"""Submissions in any state, made through the services people use (so events, scores and
notifications are real), with plausible values from the demo generator."""

from __future__ import annotations

import datetime
import random

from django.test import TestCase
from django.utils import timezone

from gigacity.models import Role, User
from reviews import services as review_services
from reviews.demo import demo_data
from submissions.models import Attachment, AttachmentKind, FormKind, Status, Submission
from submissions.services import submission_get_or_create, submission_submit, submission_update
from tests.conftest import make_user


def _actor(role: str, *, city=None, province=None) -> User:
    if role == Role.CITY:
        return User.objects.filter(role=Role.CITY, city=city).first() or make_user(f"city{city.pk}", role, city=city.pk)
    if role == Role.BUREAU:
        return User.objects.filter(role=Role.BUREAU, province=province).first() or make_user(
            f"bureau{province.pk}", role, province=province.pk
        )
    return User.objects.filter(role=Role.MINISTRY).first() or make_user("ministry-factory", Role.MINISTRY)


def make_attachment(submission, name: str, *, uploaded_by, case=None, kind=AttachmentKind.EVIDENCE) -> Attachment:
    """A stored PDF attachment of the form (or of one of its cases), as an upload leaves it."""
    return Attachment.objects.create(
        submission=submission,
        case=case,
        kind=kind,
        file=f"attachments/{name}",
        original_name=name,
        content_type="application/pdf",
        size=10,
        sha256="0" * 64,
        uploaded_by=uploaded_by,
    )


def make_submission(
    city,
    round_,
    state: str = Status.DRAFT,
    *,
    complete: bool = True,
    seed: int | str | None = None,
    strength: float = 1.0,
    scored: bool = True,
    **overrides,
) -> Submission:
    """A submission of `city` in `round_`, walked to `state`. A draft is empty unless `complete`;
    `overrides` replace generated data fields before submitting. Scoring (an on-commit task) runs as
    in real life unless `scored=False`, even inside a test's rolled-back transaction."""
    if not scored:
        return _make_submission(city, round_, state, complete, seed, strength, overrides)
    with TestCase.captureOnCommitCallbacks(execute=True):
        return _make_submission(city, round_, state, complete, seed, strength, overrides)


def _make_submission(city, round_, state, complete, seed, strength, overrides) -> Submission:
    city_user = _actor(Role.CITY, city=city)
    bureau = _actor(Role.BUREAU, province=city.province)
    submission = submission_get_or_create(city=city, round_=round_, actor=city_user)
    if state == Status.DRAFT and not complete:
        return submission
    data, cases = demo_data(city, random.Random(seed if seed is not None else city.pk), strength=strength)
    data.update(overrides)
    submission = submission_update(
        submission_id=submission.pk, actor=city_user, data=data, cases=cases, expected_version=submission.version
    )
    if state == Status.DRAFT:
        return submission
    # Tests build contradictory numbers on purpose (to see them flagged): the city confirms them.
    submission_submit(submission_id=submission.pk, actor=city_user, confirm_inconsistent=True)
    if state == Status.RETURNED:
        review_services.submission_return(submission_id=submission.pk, actor=bureau, reason="请核实")
    elif state in (Status.RECOMMENDED, Status.APPROVED, Status.REJECTED, Status.SENT_BACK):
        review_services.submission_recommend(submission_id=submission.pk, actor=bureau)
        ministry = _actor(Role.MINISTRY)
        annual = submission.kind == FormKind.ANNUAL_REPORT  # a Gigabit City is confirmed, never named again
        if state == Status.APPROVED and annual:
            review_services.submission_confirm(submission_id=submission.pk, actor=ministry)
        elif state == Status.APPROVED:
            review_services.submission_approve(submission_id=submission.pk, actor=ministry)
        elif state == Status.REJECTED and annual:
            review_services.submission_not_confirm(
                submission_id=submission.pk,
                actor=ministry,
                reason="未达标",
                shortfall=["pon_10g_share"],
                improvement_due=timezone.localdate() + datetime.timedelta(days=180),
            )
        elif state == Status.REJECTED:
            review_services.submission_reject(submission_id=submission.pk, actor=ministry, reason="未达标")
        elif state == Status.SENT_BACK:
            review_services.submission_send_back(submission_id=submission.pk, actor=ministry, reason="请复核")
    submission.refresh_from_db()
    return submission
