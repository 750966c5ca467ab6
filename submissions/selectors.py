"""Reads of submissions, always starting from `visible_to(user)`."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from itertools import pairwise
from typing import Any

from django.db.models import Exists, Model, OuterRef, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from gigacity.i18n import pick
from gigacity.models import City, Role, User, reader_scope
from gigacity.statements import Statement
from indicators.catalogue import CATALOGUE, INDICATORS
from indicators.models import PublishedFigure, Round, Threshold, round_thresholds
from indicators.rules import ScoreResult, ScoringError, meets, score, shift_years

from .kinds import batch_annotation
from .models import (
    REPORTED_STATES,
    Action,
    Attachment,
    Case,
    DataChange,
    OperatorFigure,
    Score,
    Submission,
    SubmissionEvent,
    form_deadline_expression,
)
from .public import public_name
from .scoring import UNREAD, figures_check
from .services import CARRIED_FIELDS
from .snapshots import diff


def submission_detail(*, user: User, pk: int) -> Submission:
    """One submission with everything its page shows; DoesNotExist when outside the user's scope. Its
    latest score's versions (`with_latest_score`) are not read with it: the page reads all its scores
    and data changes anyway (`form_scores`, `form_changes`) and takes them from those
    (`latest_score_facts`)."""
    return _page_form("detail", user, pk)


def latest_score_facts(submission: Submission, scores: list[Score], changes: list[DataChange]) -> None:
    """What `SubmissionQuerySet.with_latest_score` annotates (`Submission.score_outdated` reads it),
    from the form's scores and data changes as a page read them (`form_scores`, `form_changes`)."""
    latest = latest_score(submission, scores)
    submission.scored_version = latest.version if latest else None
    submission.scored_threshold_version = latest.threshold_version if latest else None
    submission.data_changed_since_score = latest is not None and any(c.version > latest.version for c in changes)


_FORM_OF_ROUND = Statement(
    lambda city, round_: (
        Submission.objects.filter(city_id=city, round_id=round_)
        .annotate(deadline=form_deadline_expression(), batch=batch_annotation())
        .order_by("pk")[:1]
    )
)


def form_of_round(*, city: City, round_: Round) -> Submission | None:
    """The city's form of `round_` as its home page shows it, with the city's deadline in the round
    (`deadline`) and the year the city was named (`batch`), read in one statement; None when the city
    has not begun it."""
    submission = _FORM_OF_ROUND.first(city=city.pk, round_=round_.pk)
    if submission is not None:
        submission.round = round_
    return submission


def submission_for_form(*, user: User, pk: int) -> Submission:
    """What the survey form shows of a submission: `submission_detail` without who saved last (only the
    submission's page shows it)."""
    return _page_form("form", user, pk)


def _build_page_form(page: str, kind: str, pk: int, **scope: str) -> QuerySet[Submission]:
    """The form `pk` in a scope (`reader_scope`) as one of its pages reads it, its city, province
    and round with it, and, in the same statement, what both pages show around it: the city's
    deadline in the round (`deadline`, with any extension: `services.city_deadline`) and whether any
    evidence was ever asked of it (`evidence_asked`: most forms have none, and then the evidence
    requests are not read at all) and whether it was ever checked (`checked`: evidence asked or a
    sample check, whose steps are in its history; none read when there are none), and the year its
    city was named (`batch`, as `kinds.batch_of`). The submission's page adds who saved last."""
    from reviews.models import CheckEvent, EvidenceRequest  # reviews builds on submissions

    # Without the default order (by round and city: one row has no order).
    forms = Submission.objects.in_scope(kind, **scope).filter(pk=pk).order_by()
    if page == "detail":
        forms = forms.select_related("city__province", "round", "updated_by")
    else:
        forms = forms.select_related("city__province", "round")
    return forms.annotate(
        batch=batch_annotation(),
        deadline=form_deadline_expression(),
        evidence_asked=Exists(EvidenceRequest.objects.filter(submission=OuterRef("pk"))),
        checked=Exists(CheckEvent.objects.filter(submission=OuterRef("pk"))),
    )


# The forms' pages are what the busiest users load over and over: their reads are built once per
# process (`gigacity.statements`).
_PAGE_FORM = Statement(_build_page_form)
_CASES = Statement(lambda submission: Case.objects.filter(submission_id=submission).order_by("position", "pk"))
_ATTACHMENTS = Statement(
    lambda submission: Attachment.objects.filter(submission_id=submission).select_related("uploaded_by")
)
_THRESHOLDS = Statement(lambda round_: Threshold.objects.filter(round_id=round_).order_by())


def _page_form(page: str, user: User, pk: int) -> Submission:
    kind, scope = reader_scope(user)
    submission = _PAGE_FORM.first(page, kind, pk=pk, **scope)
    if submission is None:
        raise Submission.DoesNotExist
    return _with_cases(submission)


def _with_cases(submission: Submission) -> Submission:
    """The submission with its cases, its attachments (each case given its own) and its round's
    thresholds: three plain queries, their rows put where `prefetch_related` would put them
    (`cases.all()`, `attachments.all()`, `round.thresholds.all()`), without its machinery (for one
    form it cost more than the queries)."""
    # A case's default order starts with its submission's, a join to two more tables; within one
    # submission it is this one. Attachments with who uploaded each: the cover letter's card names
    # its uploader. Thresholds read into a mapping (`Round.threshold_map`): in no order, without the
    # joins of the default one.
    cases = _CASES(submission=submission.pk)
    attachments = _ATTACHMENTS(submission=submission.pk)
    _prefetched(submission, "cases", cases)
    _prefetched(submission, "attachments", attachments)
    _prefetched(submission.round, "thresholds", _THRESHOLDS(round_=submission.round_id))
    # The cases' attachments are among the form's: each case given its own.
    by_case: dict[int, list[Attachment]] = {}
    for attachment in attachments:
        attachment.submission = submission
        if attachment.case_id is not None:
            by_case.setdefault(attachment.case_id, []).append(attachment)
    for case in cases:
        case.submission = submission
        _prefetched(case, "attachments", by_case.get(case.pk, []))
    return submission


def _prefetched(instance: Model, name: str, rows: list) -> None:
    """Make `instance.<name>.all()` answer `rows` without a query, as a prefetch leaves it (a filter
    on it would query)."""
    related: QuerySet = getattr(instance, name).all()
    related._result_cache = rows
    related._prefetch_done = True
    instance.__dict__.setdefault("_prefetched_objects_cache", {})[name] = related


def submission_version(*, user: User, pk: int) -> int:
    """The version of the submission `pk` in the user's scope (DoesNotExist outside it)."""
    return Submission.objects.visible_to(user).values_list("version", flat=True).get(pk=pk)


def _read_related(instance: Model, name: str) -> None:
    """Read `instance.<name>.all()` once, as `prefetch_related_objects` would, without its machinery
    (for one object it costs more than the query)."""
    if name not in instance.__dict__.get("_prefetched_objects_cache", {}):
        _prefetched(instance, name, related_rows(instance, name))


_RELATED: dict[tuple, tuple[Statement, Any]] = {}


def related_rows(
    instance: Model, name: str, *, select: tuple[str, ...] = (), order: tuple[str, ...] = (), limit: int | None = None
) -> list:
    """`instance.<name>` (a reverse foreign key), with `select_related(*select)`, in the order `order`
    (else the related model's own), the first `limit` rows, by a statement built once per process
    (`gigacity.statements`). Each row is given `instance` as its parent, as the related manager does."""
    key = (type(instance), name, select, order, limit)
    if key not in _RELATED:
        relation = instance._meta.get_field(name)
        model, parent = relation.related_model, relation.field

        def build(parent_key):
            rows = model._default_manager.filter(**{parent.attname: parent_key})
            # (`select_related()` without names would follow every relation.)
            rows = rows.select_related(*select) if select else rows
            rows = rows.order_by(*order) if order else rows
            return rows[:limit] if limit is not None else rows

        _RELATED[key] = (Statement(build), parent)
    statement, parent = _RELATED[key]
    rows = statement(parent_key=getattr(instance, parent.target_field.attname))
    for row in rows:
        setattr(row, parent.name, instance)
    return rows


def form_scores(submission: Submission) -> list[Score]:
    """All the form's scores, oldest first, in one query: for a page that shows the latest
    (`latest_score`) and what the operators' figures changed between them (`submission_history`)."""
    return related_rows(submission, "scores", order=("created_at", "pk"))


def latest_score(submission: Submission, scores: list[Score] | None = None) -> Score | None:
    """The form's latest score with its flags. `scores`: as read by `form_scores`, when the caller has
    them."""
    if scores is None:
        return submission.scores.prefetch_related("flags").order_by("-created_at", "-pk").first()
    latest = max(scores, key=lambda score: (score.created_at, score.pk), default=None)
    if latest is not None:
        _read_related(latest, "flags")
    return latest


def current_result(submission: Submission, thresholds: dict[str, Decimal] | None = None) -> ScoreResult | None:
    """The form's current data judged now, against the round's current thresholds, by the rules the
    worker scores with: what pages show instead of a score that is outdated (`score_outdated`), until
    the worker scores the form again. Flags against last year and the other cities are the worker's;
    the result (meets all, misses N) does not depend on them. None when the round lacks a threshold.
    `thresholds`: the round's, when the caller has loaded them for several forms."""
    if thresholds is None:
        thresholds = round_thresholds(submission.round_id).values
    try:
        return score(
            inputs=submission.checked_inputs,
            case_domains=[case.domain for case in submission.cases.all()],
            thresholds=thresholds,
            settings=submission.round.flag_settings,
        )
    except ScoringError:
        return None


def _latest_before(objects: QuerySet, city: str, year: int) -> QuerySet:
    return objects.filter(city_id=city, round__year__lt=year).select_related("round").order_by("-round__year")[:1]


_PREVIOUS_FORM = Statement(
    lambda city, year: _latest_before(Submission.objects.filter(status__in=REPORTED_STATES), city, year)
)
_PREVIOUS_PUBLISHED = Statement(lambda city, year: _latest_before(PublishedFigure.objects, city, year))


def previous_submission(submission: Submission) -> Submission | None:
    """The same city's submission in the latest earlier round in which it submitted."""
    return _PREVIOUS_FORM.first(city=submission.city_id, year=submission.round.year)


def previous_figures(
    submission: Submission, form: Submission | object | None = UNREAD
) -> Submission | PublishedFigure | None:
    """What the form's "last year" column shows: the city's figures of the latest earlier round, from
    its reported form, or, where it has none that recent, the figures MIIT published for that round
    (both carry `round` and `value_<code>`; a published one says so with `is_published`). `form`:
    `previous_submission`, when the caller has read it already."""
    if form is UNREAD:
        form = previous_submission(submission)
    if form is not None and form.round.year == submission.round.year - 1:
        return form  # no round lies between: nothing published can be more recent
    published = _PREVIOUS_PUBLISHED.first(city=submission.city_id, year=submission.round.year)
    if published is not None and (form is None or published.round.year > form.round.year):
        published.is_published = True
        return published
    return form


def shortfall_rows(submission: Submission, score: Score | None) -> list[dict[str, Any]]:
    """The indicators (and the case requirement) a ministry may record as fallen short when it does
    not confirm an annual report, each marked where the latest score says it missed its threshold
    (or, once decided, where the ministry recorded it)."""
    missed = {row["code"] for row in (score.results if score else []) if row.get("passed") is False}
    if score is not None and score.cases_count is not None:
        threshold = submission.round.threshold_map().get("applications")
        if threshold is not None and score.cases_count < threshold:
            missed.add("applications")
    recorded = set(submission.shortfall or ())
    return [
        {
            "code": spec.code,
            "name": pick(spec.name_zh, spec.name_en),
            "missed": spec.code in missed,
            "recorded": spec.code in recorded,
        }
        for spec in CATALOGUE
    ]


def improvement_due_default(submission: Submission) -> datetime.date:
    """The date suggested for improvement: the same deadline a year on (the next annual report),
    else half a year from today."""
    return shift_years(submission.round.deadline, 1) or timezone.localdate() + datetime.timedelta(days=182)


def carried_over(submission: Submission, cases: list[Case] | None = None) -> dict[str, Any] | None:
    """What of the form is still last year's, as carried over when it was opened (`carry_over`): the
    fields whose value is unchanged and the cases the city has not changed. None when the form did not
    start from an earlier one."""
    if submission.carried_from_id is None:
        return None
    last = Submission.objects.filter(pk=submission.carried_from_id).select_related("round").first()
    cases = list(submission.cases.all()) if cases is None else cases
    fields = [name for name in CARRIED_FIELDS if last is not None and getattr(submission, name) == getattr(last, name)]
    years = {case.carried_from_year for case in cases if case.carried_from_year}
    return {
        "year": last.round.year if last is not None else (min(years) if years else None),
        "fields": [name for name in fields if getattr(submission, name)],
        "cases": sum(1 for case in cases if case.carried_from_year),
    }


@dataclass(frozen=True)
class HistorySource:
    """More of a form's history kept by another app (the reviews app's evidence requests and sample
    checks): `rows` for the page (each with `created_at`, `pk`, `actor`), `payload` for the API under
    `key`. Added to `history_sources` when that app is ready, since this app does not know it."""

    key: str
    rows: Callable[[Submission], list]
    payload: Callable[[Submission], list[dict]]


history_sources: list[HistorySource] = []


def submission_history(
    submission: Submission,
    user: User | None = None,
    events: list[SubmissionEvent] | None = None,
    changes: list[DataChange] | None = None,
    scores: list[Score] | None = None,
) -> list[SubmissionEvent | DataChange | FiguresEntry]:
    """Workflow events, data changes, the steps of checks (`history_sources`) and (for a viewer, `user`)
    the operators' figures that changed the form's comparison verdict, together, oldest first.
    `events`, `changes`, `scores`: as read by `form_events`, `form_changes` and `form_scores`, when the
    caller has them."""
    events = form_events(submission) if events is None else events
    changes = form_changes(submission) if changes is None else changes
    figures = figures_history(submission, user=user, scores=scores) if user is not None else []
    extra = [row for source in history_sources for row in source.rows(submission)]
    return sorted([*events, *changes, *figures, *extra], key=lambda item: (item.created_at, item.pk))


@dataclass(frozen=True)
class FigureReportEntry:
    """One operator's report within a `FiguresEntry`; who is None where the viewer may not know it."""

    operator: str | None  # the operator's code
    operator_name: str | None
    actor: str | None
    role: str | None
    on_behalf: bool | None
    time: datetime.datetime
    counts: int  # how many counts it reported (a first report) or changed (a later one)
    first: bool  # the operator's first report for the city in the round

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


@dataclass(frozen=True)
class FiguresEntry:
    """Operators' figures that moved the form's comparison verdict (`Submission.figures_check`), as a row
    of the form's history. Derived, not recorded: the scores keep each verdict with the latest figure it
    used (`Score.figures_key`), and the figures keep who reported what and when, so a second record
    would only repeat them (and could disagree with them)."""

    created_at: datetime.datetime  # the last report's time
    pk: int  # the score's, to order entries of one instant
    previous: str  # the verdict before (FiguresCheck)
    verdict: str  # the verdict after
    outside: int  # counts outside the tolerance after
    unreported: int  # counts no operator has reported after
    reports: tuple[FigureReportEntry, ...]
    text: str
    actor: str  # who, as the viewer may know it (the last report's)

    is_figures = True  # the history template's switch

    def as_dict(self) -> dict[str, Any]:
        return {
            "time": self.created_at,
            "previous": self.previous,
            "verdict": self.verdict,
            "outside": self.outside,
            "unreported": self.unreported,
            "text": self.text,
            "reports": [report.as_dict() for report in self.reports],
        }


def figures_history(submission: Submission, *, user: User, scores: list[Score] | None = None) -> list[FiguresEntry]:
    """The verdict changes that operators' figures brought to the form, oldest first: between two of
    its consecutive scores, the latest figure changed (new reports) and the verdict with it. A change
    of verdict from the city's own data or from the tolerance is not the operators' doing, and the
    verdict of the first score is the one the form was submitted into (the review page shows it).

    Reviewers (bureau, ministry) see which operator reported and who entered it; the city's officials
    see that operators' figures arrived and what they changed, not which operator: they answer for
    their own figures, and naming the operator would invite settling the difference with it rather
    than showing the evidence. `scores`: all the form's, as read by `form_scores`, when the caller has
    them."""
    if scores is None:
        scores = list(
            submission.scores.exclude(figures_key="")
            .order_by("created_at", "pk")
            .values_list("pk", "figures_key", "comparison")
        )
    else:
        scores = [(score.pk, score.figures_key, score.comparison) for score in scores if score.figures_key]
    steps = []
    for (_pk, before_key, before_rows), (pk, key, rows) in pairwise(scores):
        start, end = int(before_key.split(":")[0]), int(key.split(":")[0])
        previous, verdict = figures_check(before_rows), figures_check(rows)
        if end > start and verdict != previous:
            steps.append((pk, start, end, previous, verdict, rows))
    if not steps:
        return []
    reviewer = user.role in (Role.BUREAU, Role.MINISTRY, Role.ADMIN) or user.is_superuser
    figures = list(
        OperatorFigure.objects.filter(
            round_id=submission.round_id, city_id=submission.city_id, pk__lte=max(step[2] for step in steps)
        )
        .select_related("operator", "reported_by")
        .order_by("pk")
    )
    reports: dict[int, FigureReportEntry] = {}
    last: dict[str, OperatorFigure] = {}
    for figure in figures:
        before = last.get(figure.operator_id)
        counts = sum(
            1
            for name, value in figure.values.items()
            if (value is not None if before is None else value != before.values[name])
        )
        reports[figure.pk] = FigureReportEntry(
            operator=figure.operator_id if reviewer else None,
            operator_name=figure.operator.name if reviewer else None,
            actor=str(figure.reported_by) if reviewer else None,
            role=figure.reported_by.role if reviewer else None,
            on_behalf=figure.on_behalf if reviewer else None,
            time=figure.reported_at,
            counts=counts,
            first=before is None,
        )
        last[figure.operator_id] = figure
    entries = []
    for pk, start, end, previous, verdict, rows in steps:
        batch = tuple(reports[fid] for fid in sorted(reports) if start < fid <= end)
        if not batch:
            continue
        outside = sum(1 for row in rows if row["within"] is False)
        unreported = sum(1 for row in rows if row["total"] is None)
        latest = batch[-1]
        entries.append(
            FiguresEntry(
                created_at=latest.time,
                pk=pk,
                previous=previous,
                verdict=verdict,
                outside=outside,
                unreported=unreported,
                reports=batch,
                text=_figures_text(batch, verdict, outside, unreported),
                actor=latest.actor or Role(Role.OPERATOR).label,
            )
        )
    return entries


def _figures_text(reports: tuple[FigureReportEntry, ...], verdict: str, outside: int, unreported: int) -> str:
    parts = []
    for report in reports:
        who = report.operator_name or _("an operator")
        if report.on_behalf:
            who = _("%(operator)s, entered by %(who)s on its behalf") % {"operator": who, "who": report.actor}
        if report.first:
            text = ngettext("%(who)s reported %(n)s count", "%(who)s reported %(n)s counts", report.counts)
        else:
            text = ngettext("%(who)s updated %(n)s count", "%(who)s updated %(n)s counts", report.counts)
        parts.append(text % {"who": who, "n": report.counts})
    if verdict == "mismatch":
        outcome = ngettext(
            "inconsistent with the city's figures (%(n)s count)",
            "inconsistent with the city's figures (%(n)s counts)",
            outside,
        ) % {"n": outside}
    elif verdict == "unreported":
        outcome = ngettext(
            "consistent where compared; %(n)s count not yet reported by any operator",
            "consistent where compared; %(n)s counts not yet reported by any operator",
            unreported,
        ) % {"n": unreported}
    else:
        outcome = _("consistent with the city's figures")
    return _("Operators' figures: %(reports)s — %(outcome)s") % {"reports": _("; ").join(parts), "outcome": outcome}


def indicator_rows(submission: Submission, previous: Submission | None = None) -> list[dict]:
    """Per indicator: the value, the round's threshold, whether it passes, and last round's value."""
    thresholds = submission.round.threshold_map()
    rows = []
    for spec in INDICATORS:
        value = getattr(submission, f"value_{spec.code}")
        threshold = thresholds.get(spec.code)
        rows.append(
            {
                "spec": spec,
                "value": value,
                "threshold": threshold,
                "passed": meets(value, threshold),
                "previous": getattr(previous, f"value_{spec.code}") if previous else None,
            }
        )
    return rows


@dataclass(frozen=True)
class Activity:
    """What last happened to a form, kept apart: a workflow step moves the version too, but a city
    must not read a return or an approval as somebody having changed its data."""

    saved: DataChange | None  # the last change of the data (who saved what, when)
    step: SubmissionEvent | None  # the last workflow step (submit, return, recommend, decide)


def _latest_step(submission: Submission, name: str) -> SubmissionEvent | DataChange | None:
    """The form's latest event or data change (`name`), with its actor."""
    rows = related_rows(submission, name, select=("actor",), order=("-version", "-pk"), limit=1)
    return rows[0] if rows else None


def last_activity(
    submission: Submission,
    events: list[SubmissionEvent] | None = None,
    changes: list[DataChange] | None = None,
) -> Activity:
    """`events`, `changes`: all the form's workflow events and data changes (with their actors), when
    the caller has read them (`form_events`, `form_changes`)."""
    if events is None:
        step = _latest_step(submission, "events")
    else:
        step = max(events, key=lambda event: (event.version, event.pk), default=None)
    if changes is None:
        saved = _latest_step(submission, "data_changes")
    else:
        saved = max(changes, key=lambda change: (change.version, change.pk), default=None)
    return Activity(saved=saved, step=step)


def form_changes(submission: Submission) -> list[DataChange]:
    """All the form's data changes with their actors, in one query (`form_events`' counterpart)."""
    return related_rows(submission, "data_changes", select=("actor",))


def form_events(submission: Submission) -> list[SubmissionEvent]:
    """All the form's workflow events with their actors, in one query, for a page that shows several
    things of them (`last_return`, `last_activity`, `changes_since_return`, the history)."""
    return related_rows(submission, "events", select=("actor",))


def last_return(submission: Submission, events: list[SubmissionEvent] | None = None) -> SubmissionEvent | None:
    """The form's latest return to its city (`events`: as read by `form_events`), with its comments."""
    if events is None:
        return submission.events.filter(action=Action.RETURN).order_by("-created_at", "-pk").first()
    returns = [event for event in events if event.action == Action.RETURN]
    latest = max(returns, key=lambda event: (event.created_at, event.pk), default=None)
    if latest is not None:
        _read_related(latest, "field_comments")
    return latest


@dataclass(frozen=True)
class ResubmissionDiff:
    returned: SubmissionEvent
    changes: dict[str, list]


def changes_since_return(
    submission: Submission, events: list[SubmissionEvent] | None = None
) -> ResubmissionDiff | None:
    """What the city changed between the bureau's last return and its resubmission, field by field, so
    that the bureau checks exactly that. None when the submission was never returned and resubmitted.
    `events`: all the form's events (`form_events`), when the caller has read them."""
    returned = last_return(submission, events)
    if returned is None:
        return None
    if events is None:
        resubmitted = (
            submission.events.filter(action=Action.SUBMIT, created_at__gte=returned.created_at)
            .exclude(pk=returned.pk)
            .order_by("-created_at", "-pk")
            .first()
        )
    else:
        submits = [
            event
            for event in events
            if event.action == Action.SUBMIT and event.created_at >= returned.created_at and event.pk != returned.pk
        ]
        resubmitted = max(submits, key=lambda event: (event.created_at, event.pk), default=None)
    if resubmitted is None:
        return None
    return ResubmissionDiff(returned, diff(returned.snapshot, resubmitted.snapshot))


def history_payload(submission: Submission, *, user: User) -> dict[str, list[dict]]:
    """The form's workflow events (actor, role, from, to, reason, time, comments), its data changes and
    the operators' figures that changed its comparison verdict (`figures_history`: which operator
    only for reviewers), each oldest first, with fields in their public names: what the API's history
    answers."""
    events = [
        {
            "action": event.action,
            "actor": str(event.actor),
            "role": event.actor_role,
            "from": event.from_status,
            "to": event.to_status,
            "reason": event.reason,
            "time": event.created_at,
            "version": event.version,
            "comments": [
                {"field": public_name(comment.field), "message": comment.message}
                for comment in event.field_comments.all()
            ],
        }
        for event in submission.events.select_related("actor").prefetch_related("field_comments")
    ]
    changes = [
        {
            "actor": str(change.actor),
            "role": change.actor_role,
            "source": change.source,
            "time": change.created_at,
            "version": change.version,
            "changes": {public_name(field): value for field, value in change.changes.items()},
        }
        for change in submission.data_changes.select_related("actor")
    ]
    figures = [entry.as_dict() for entry in figures_history(submission, user=user)]
    return {
        "events": events,
        "changes": changes,
        "figures": figures,
        **{source.key: source.payload(submission) for source in history_sources},
    }


def _figures_in_scope(row: dict, reviewer: bool) -> dict:
    """A comparison row or a flag's numbers as the viewer may read them: the city's officials get the
    operators' sum, not each operator's count nor which operators have not reported (see
    `figures_history` for why)."""
    if reviewer or not row:
        return row
    return {key: value for key, value in row.items() if key not in ("shares", "missing")}


def score_payload(submission: Submission, *, user: User) -> dict[str, Any]:
    """The form's latest score as the API answers it: per indicator value, threshold, passed and
    margin, meets_all and the flags. Why the check failed is told in technical terms to national
    staff only; cities and bureaus are told in words they can act on."""
    score = latest_score(submission)
    reviewer = user.role in (Role.BUREAU, Role.MINISTRY, Role.ADMIN) or user.is_superuser
    error = None
    if submission.scoring_error and submission.scoring_state == "failed":
        error = (
            submission.scoring_error
            if user.has_national_scope
            else _("The automatic check could not be completed; reviewers check this form by hand.")
        )
    body: dict[str, Any] = {
        "status": submission.scoring_state,
        "error": error,
        "indicators": [],
        "meets_all": None,
        "missed": None,
        "flags": [],
    }
    if score is not None:
        # A score of older data, or of thresholds changed since, is said to be outdated, with the
        # current data's result beside it (what the pages show as the headline) until it is redone.
        outdated = (
            score.threshold_version != submission.round.threshold_version
            or submission.data_changes.filter(version__gt=score.version).exists()
        )
        current = current_result(submission) if outdated else None
        body.update(
            outdated=outdated,
            current=None if current is None else {"meets_all": current.meets_all, "missed": current.missed},
            version=score.version,
            threshold_version=score.threshold_version,
            scored_at=score.created_at,
            indicators=score.results,
            meets_all=score.meets_all,
            missed=score.missed,
            cases=score.cases_count,
            case_domains=score.case_domains,
            flags=[
                {
                    "code": flag.code,
                    "severity": flag.severity_label,
                    "indicator": flag.indicator or None,
                    "message": flag.message,
                    "message_zh": flag.message_zh,
                    "message_en": flag.message_en,
                    "details": _figures_in_scope(flag.details, reviewer) or None,
                }
                for flag in score.flags.all()
            ],
            # Issue 13: the form's counts beside the operators' sum, as the worker compared them.
            comparison=[_figures_in_scope(row, reviewer) for row in score.comparison or []],
            figures_check=submission.figures_check or None,
        )
    return body
