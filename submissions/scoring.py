"""Scoring submissions in the background, reliably (reliability.md §4.3).

The database row is the truth and the broker only wakes the worker:
- a request marks the row `pending` inside the caller's transaction and publishes after commit; if
  the broker is down the publish fails fast and the sweep publishes again later;
- the task counts the attempt in its own transaction *before* working (so a worker killed mid-task
  still uses up an attempt and a poison submission ends `failed`), then locks the row, re-checks the
  state and writes exactly one score per (submission version, threshold version);
- the sweep re-publishes rows that have been pending for longer than a lease, claiming them with
  SKIP LOCKED so that two sweeps running at once never publish the same row twice.

What ends a submission `failed`: an error that another try cannot fix (bad data, a bug) at once; a
transient one (the database or the broker went away) only when the attempts run out, so that a short
outage does not leave reviewers with submissions that were never scored.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta
from decimal import Decimal

import kombu.exceptions
from django.conf import settings
from django.db import InterfaceError, OperationalError, transaction
from django.db.models import F, Q
from django.utils import timezone

from gigacity.statements import Statement
from indicators import crosscheck
from indicators.catalogue import INDICATOR_CODES, OPERATOR_INPUTS
from indicators.models import Operator, round_thresholds
from indicators.rules import Previous, ScoreResult, ScoringError, score

from .models import REPORTED_STATES, Flag, OperatorFigure, Score, ScoringState, Submission

logger = logging.getLogger(__name__)

# Errors another try may not meet: a lost or refused database connection, a deadlock, a broker that
# went away. Anything else is deterministic for the same data.
TRANSIENT_ERRORS = (OperationalError, InterfaceError, kombu.exceptions.OperationalError)


def request_scoring(submission: Submission) -> None:
    """Mark the (locked) submission for scoring; the caller saves it. Published after commit."""
    now = timezone.now()
    submission.scoring_state = ScoringState.PENDING
    submission.scoring_attempts = 0
    submission.scoring_error = ""
    submission.scoring_requested_at = now
    submission.scoring_touched_at = now
    submission_id = submission.pk
    transaction.on_commit(lambda: publish(submission_id), robust=True)


def request_round_rescoring(*, round_id: int) -> int:
    """After the round's thresholds changed: every submission that has been scored before is scored
    again against the new thresholds. Returns how many were requested."""
    now = timezone.now()
    ids = list(Submission.objects.filter(round_id=round_id, status__in=REPORTED_STATES).values_list("pk", flat=True))
    Submission.objects.filter(pk__in=ids).update(
        scoring_state=ScoringState.PENDING,
        scoring_attempts=0,
        scoring_error="",
        scoring_requested_at=now,
        scoring_touched_at=now,
    )
    transaction.on_commit(lambda: publish_many(ids), robust=True)
    return len(ids)


def request_city_rescoring(*, round_id: int, city_ids: Iterable[str]) -> int:
    """After operators' figures for these cities arrived or changed: their reported forms of the round
    are scored again (the comparison is part of the score), without a new submission. Returns how
    many were requested."""
    now = timezone.now()
    ids = list(
        Submission.objects.filter(round_id=round_id, city_id__in=list(city_ids), status__in=REPORTED_STATES)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    Submission.objects.filter(pk__in=ids).update(
        scoring_state=ScoringState.PENDING,
        scoring_attempts=0,
        scoring_error="",
        scoring_requested_at=now,
        scoring_touched_at=now,
    )
    transaction.on_commit(lambda: publish_many(ids), robust=True)
    return len(ids)


def publish(submission_id: int) -> bool:
    """Wake a worker for one submission. Never raises: when the broker is down, the row stays
    pending and the sweep publishes it again."""
    from .tasks import score_submission

    try:
        # One bounded, immediate retry (CELERY_TASK_PUBLISH_RETRY_POLICY) and short socket timeouts:
        # with Redis down this fails in milliseconds instead of holding the request.
        score_submission.apply_async((submission_id,), retry=True)
    except Exception:  # a broker error of any kind must not fail the request that committed
        logger.warning("could not publish scoring of submission %s; the sweep will retry", submission_id, exc_info=True)
        return False
    return True


def publish_many(ids: Iterable[int]) -> None:
    for submission_id in ids:
        if not publish(submission_id):
            break  # the broker is down: the sweep will publish the rest


def _claim(submission_id: int) -> bool:
    """Count one attempt, committed before any work, so that it survives a crash."""
    with transaction.atomic():
        claimed = Submission.objects.filter(pk=submission_id, scoring_state=ScoringState.PENDING).update(
            scoring_attempts=F("scoring_attempts") + 1, scoring_touched_at=timezone.now()
        )
    return bool(claimed)


UNREAD = object()  # an argument not given (None means "there is none")


def previous_round_data(submission: Submission, previous: Submission | object | None = UNREAD) -> Previous | None:
    """The same city's data in the latest earlier round in which it submitted (`previous`: that form,
    when the caller has read it already with `selectors.previous_submission`)."""
    if previous is UNREAD:
        previous = (
            Submission.objects.filter(
                city_id=submission.city_id, round__year__lt=submission.round.year, status__in=REPORTED_STATES
            )
            .select_related("round")
            .order_by("-round__year")
            .first()
        )
    if previous is None:
        return None
    return Previous(year=previous.round.year, inputs=previous.inputs, values=previous.indicator_values)


_PEER_VALUES = Statement(
    lambda round_, form: (
        Submission.objects.filter(round_id=round_, status__in=REPORTED_STATES)
        .exclude(pk=form)
        .order_by()  # medians and ranks: the order is of no use, and the default one joins two tables
        .values_list(*(f"value_{code}" for code in INDICATOR_CODES))
    )
)


def peer_values(submission: Submission) -> dict[str, list[Decimal]]:
    """The indicator values of the round's other submitted cities, in one query, each indicator's in
    ascending order: the medians of the outlier flags sort them again in linear time, and a rank is a
    binary search (`explain.score_explanation`)."""
    rows = _PEER_VALUES(round_=submission.round_id, form=submission.pk)
    peers: dict[str, list[Decimal]] = {code: [] for code in INDICATOR_CODES}
    for row in rows:
        for code, value in zip(INDICATOR_CODES, row, strict=True):
            if value is not None:
                peers[code].append(value)
    for values in peers.values():
        values.sort()
    return peers


def compute_score(
    submission: Submission,
    thresholds: dict[str, Decimal],
    *,
    previous: Submission | object | None = UNREAD,
    peers: dict[str, list[Decimal]] | None = None,
) -> ScoreResult:
    """`previous` (the city's previous reported form) and `peers` (`peer_values`): when the caller
    has read them already, for a page that shows them too."""
    from .services import late_days

    return score(
        inputs=submission.checked_inputs,
        case_domains=[case.domain for case in submission.cases.all()],
        thresholds=thresholds,
        settings=submission.round.flag_settings,
        previous=previous_round_data(submission, previous),
        peers=peer_values(submission) if peers is None else peers,
        late_days=late_days(submission),
    )


def operator_figures_of(submission: Submission) -> tuple[str, dict[str, dict[str, int | None]]]:
    """The operators' current figures for the form's city and round (operator code → counts) and the
    key that names them with the round's tolerance: new figures or a new tolerance, a new key."""
    rows = list(OperatorFigure.objects.filter(round_id=submission.round_id, city_id=submission.city_id).current())
    latest = max((row.pk for row in rows), default=0)
    return f"{latest}:{submission.round.operator_tolerance}", {row.operator_id: row.values for row in rows}


def compute_comparison(submission: Submission, figures: dict[str, dict[str, int | None]]) -> crosscheck.Comparison:
    operators = list(Operator.objects.values_list("code", "name_zh", "name_en"))
    return crosscheck.compare(
        city={name: getattr(submission, name) for name in OPERATOR_INPUTS},
        operators=figures,
        operator_codes=[code for code, _zh, _en in operators],
        tolerance=submission.round.operator_tolerance,
        names={code: zh for code, zh, _en in operators},
        names_en={code: en for code, _zh, en in operators},
    )


def submission_score(*, submission_id: int) -> str:
    """Score one pending submission; safe to run any number of times. Returns the resulting state
    (or 'skipped' when there was nothing to do)."""
    if not _claim(submission_id):
        return "skipped"
    with transaction.atomic():
        # The round is read after the lock, not joined into the locking query: PostgreSQL would hand a
        # query that waited for the lock the round as it was *before* a threshold change committed.
        submission = Submission.objects.select_for_update().get(pk=submission_id)
        if submission.scoring_state != ScoringState.PENDING:
            return "skipped"
        if submission.scoring_attempts > settings.GIGACITY_SCORING_MAX_ATTEMPTS:
            reason = f"gave up after {settings.GIGACITY_SCORING_MAX_ATTEMPTS} attempts"
            if submission.scoring_error:
                reason += f"; last error: {submission.scoring_error}"
            return _fail(submission, reason)
        thresholds = round_thresholds(submission.round_id)
        figures_key, figures = operator_figures_of(submission)
        existing = Score.objects.filter(
            submission=submission,
            version=submission.version,
            threshold_version=thresholds.version,
            figures_key=figures_key,
        ).first()
        if existing is None:
            try:
                result = compute_score(submission, thresholds.values)
            except ScoringError as exc:
                return _fail(submission, str(exc))
            comparison = compute_comparison(submission, figures)
            existing, flags = score_records(submission, thresholds.version, result)
            existing.figures_key = figures_key
            existing.comparison = comparison.as_dicts()
            existing.max_severity = max(existing.max_severity, *(int(f.severity) for f in comparison.flags), 0)
            flags += comparison_flags(comparison)
            existing.save()
            for flag in flags:
                flag.score = existing
            Flag.objects.bulk_create(flags)
            flags_count = len(flags)
        else:
            flags_count = existing.flags.count()
        submission.scoring_state = ScoringState.SCORED
        submission.scoring_error = ""
        submission.meets_all = existing.meets_all
        submission.missed_count = existing.missed
        submission.flag_severity = existing.max_severity
        submission.flags_count = flags_count
        submission.figures_check = figures_check(existing.comparison)
        submission.save(
            update_fields=[
                "scoring_state",
                "scoring_error",
                "meets_all",
                "missed_count",
                "flag_severity",
                "flags_count",
                "figures_check",
            ]
        )
    return ScoringState.SCORED


def _fail(submission: Submission, reason: str) -> str:
    logger.error("scoring of submission %s failed: %s", submission.pk, reason)
    submission.scoring_state = ScoringState.FAILED
    submission.scoring_error = reason[:500]
    submission.save(update_fields=["scoring_state", "scoring_error"])
    return ScoringState.FAILED


def submission_scoring_error(*, submission_id: int, error: BaseException) -> str:
    """The task raised and will not retry. A deterministic error ends the submission `failed` with
    the error as the reason. A transient one leaves it `pending` with the error noted: the sweep
    publishes it again after the lease, and the attempt counter still bounds how often. Returns the
    resulting state."""
    reason = f"{type(error).__name__}: {error}"[:500]
    with transaction.atomic():
        submission = Submission.objects.select_for_update().filter(pk=submission_id).first()
        if submission is None or submission.scoring_state != ScoringState.PENDING:
            return "skipped"
        if isinstance(error, TRANSIENT_ERRORS):
            logger.warning("scoring of submission %s failed for now (%s); the sweep will retry", submission_id, reason)
            submission.scoring_error = reason
            submission.save(update_fields=["scoring_error"])
            return ScoringState.PENDING
        return _fail(submission, reason)


def sweep_stale_scoring(*, lease: timedelta | None = None, limit: int = 500) -> list[int]:
    """Publish again every submission pending for longer than the lease. Rows are claimed with SKIP
    LOCKED and their lease renewed in the same transaction, so concurrent sweeps never overlap."""
    lease = lease if lease is not None else timedelta(seconds=settings.GIGACITY_SCORING_LEASE_SECONDS)
    cutoff = timezone.now() - lease
    with transaction.atomic():
        ids = list(
            Submission.objects.select_for_update(skip_locked=True)
            .filter(Q(scoring_touched_at__lt=cutoff) | Q(scoring_touched_at__isnull=True))
            .filter(scoring_state=ScoringState.PENDING)
            .order_by("scoring_touched_at")
            .values_list("pk", flat=True)[:limit]
        )
        Submission.objects.filter(pk__in=ids).update(scoring_touched_at=timezone.now())
    if ids:
        logger.warning("publishing scoring again for %s submission(s) pending longer than %s", len(ids), lease)
    publish_many(ids)
    return ids


def score_records(submission: Submission, threshold_version: int, result: ScoreResult) -> tuple[Score, list[Flag]]:
    """The rows that keep `result` (unsaved): the score of the submission's current version against
    `threshold_version`, and its flags (their `score` is set once the score is saved)."""
    record = Score(
        submission=submission,
        version=submission.version,
        threshold_version=threshold_version,
        results=[
            {
                "code": r.code,
                "value": _str(r.value),
                "threshold": _str(r.threshold),
                "passed": r.passed,
                "margin": _str(r.margin),
                "margin_relative": _str(r.margin_relative),
            }
            for r in result.results
        ],
        cases_count=result.cases_count,
        case_domains=result.case_domains,
        meets_all=result.meets_all,
        missed=result.missed,
        max_severity=result.max_severity,
    )
    flags = [
        Flag(
            code=f.code,
            severity=int(f.severity),
            indicator=f.indicator or "",
            message_zh=f.message_zh,
            message_en=f.message_en,
        )
        for f in result.flags
    ]
    return record, flags


def comparison_flags(comparison: crosscheck.Comparison) -> list[Flag]:
    """The comparison's flags as rows (unsaved), each with the numbers behind it."""
    return [
        Flag(
            code=f.code,
            severity=int(f.severity),
            indicator=f.indicator or "",
            message_zh=f.message_zh,
            message_en=f.message_en,
            details=details,
        )
        for f, details in zip(comparison.flags, crosscheck.flag_details(comparison), strict=True)
    ]


def figures_check(rows: list[dict]) -> str:
    """The queue's summary of a stored comparison (FiguresCheck)."""
    if any(row["within"] is False for row in rows):
        return "mismatch"
    if any(row["total"] is None for row in rows):
        return "unreported"
    return "consistent" if rows else ""


def _str(value: Decimal | None) -> str | None:
    return None if value is None else str(value)
