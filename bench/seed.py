"""Data sets for benchmarks, written fast: rows go in with `bulk_create`, not through the services
(a national data set through the services would take an hour). The values are still the real ones:
raw inputs from the demo generator (`reviews.demo.plausible_inputs`), indicators computed by
`indicators.rules` exactly as the form computes them, a designation for every approved form as
`submission_approve` records it.

Two sizes, both reusable by any benchmark:
- `seed_national()`: every real unit (339), the last three rounds (the current one open), forms in
  every state, 5–20 cases each, one account per role and per unit, and the history a form in that
  state has (`seed_history`: its data changes, workflow events with snapshots and the bureau's field
  comments, notifications, and the score and flags of every reported form, computed by the real
  scoring rules);
- `seed_large()`: 3 000 units (the real ones plus synthetic county-level units spread over the
  provinces, codes PPCCnn under a real prefecture PPCC00) over 10 rounds.

Run against an empty, migrated database (the benchmark creates a throwaway one).
"""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass, field

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from gigacity.models import City, CityKind, Province, Role, User
from indicators.catalogue import INDICATOR_CODES, INDICATORS
from indicators.models import Designation, Round, RoundStatus
from indicators.reference import ensure_thresholds, reference_load
from indicators.rules import Previous, compute_indicators, key_site_sums, score
from reviews.demo import PRACTICES, demo_cases, demo_round_year, plausible_inputs
from submissions.models import (
    Action,
    Case,
    ChangeSource,
    DataChange,
    FieldComment,
    Flag,
    FormKind,
    Score,
    ScoringState,
    Status,
    Submission,
)
from submissions.scoring import score_records
from submissions.snapshots import diff, snapshot

from .web import bureau_username, city_username

PASSWORD = "Bench-pass-2026"
BATCH = 2000

# How a round's forms end up. A past round is finished: what was not decided stayed where it was.
# The open round is the busy days before the deadline: every state at once.
PAST_STATES = (
    (Status.APPROVED, 34),
    (Status.REJECTED, 8),
    (Status.RECOMMENDED, 4),
    (Status.SENT_BACK, 2),
    (Status.SUBMITTED, 6),
    (Status.RETURNED, 8),
    (Status.DRAFT, 38),
)
OPEN_STATES = (
    (Status.DRAFT, 28),
    (Status.SUBMITTED, 20),
    (Status.RETURNED, 10),
    (Status.RECOMMENDED, 16),
    (Status.SENT_BACK, 3),
    (Status.APPROVED, 17),
    (Status.REJECTED, 6),
)
# Share of units taking part in a round (the others have no form: "not started"): a realistic
# national picture, and every unit in every round for the large set (the worst case for history).
PARTICIPATION = {"past": 0.45, "open": 0.8}
EVERY_UNIT = {"past": 1.0, "open": 1.0}
REGION_STRENGTH = {"east": 1.1, "central": 0.95, "west": 0.85}
REPORTED = {Status.SUBMITTED, Status.RECOMMENDED, Status.SENT_BACK, Status.APPROVED, Status.REJECTED}


@dataclass
class SeedReport:
    units: int = 0
    rounds: list[int] = field(default_factory=list)
    submissions: int = 0
    cases: int = 0
    designations: int = 0
    users: int = 0
    history: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "units": self.units,
            "rounds": self.rounds,
            "submissions": self.submissions,
            "cases": self.cases,
            "designations": self.designations,
            "users": self.users,
            **self.history,
        }


def seed_national(
    *,
    seed: int = 2021,
    rounds: int = 3,
    cases: tuple[int, int] = (5, 20),
    end_year: int | None = None,
    history: bool = True,
) -> SeedReport:
    """Every real unit over the last `rounds` rounds, the current one open; with `history`, each form
    also has the history its state implies (`seed_history`)."""
    end = end_year or demo_round_year(timezone.localdate())
    report = seed_dataset(units=0, years=list(range(end - rounds + 1, end + 1)), seed=seed, cases=cases)
    if history:
        report.history = seed_history(seed=seed)
    return report


def seed_large(
    *,
    units: int = 3000,
    rounds: int = 10,
    seed: int = 2021,
    cases: tuple[int, int] = (0, 0),
    end_year: int | None = None,
) -> SeedReport:
    """`units` units (synthetic ones added to the real ones) over `rounds` rounds ending with the
    current one. Cases are off by default: they do not change what the dashboard reads, and 30 000
    forms × 12 cases would make seeding, not the benchmark, the slow part."""
    end = end_year or demo_round_year(timezone.localdate())
    return seed_dataset(
        units=units, years=list(range(end - rounds + 1, end + 1)), seed=seed, cases=cases, participation=EVERY_UNIT
    )


def seed_dataset(
    *,
    units: int,
    years: list[int],
    seed: int,
    cases: tuple[int, int],
    participation: dict[str, float] = PARTICIPATION,
) -> SeedReport:
    """`units` = 0: the real units only; otherwise synthetic units are added up to that number."""
    rng = random.Random(seed)
    reference_load()
    report = SeedReport()
    with transaction.atomic():
        if units:
            add_synthetic_units(total=units, rng=rng)
        report.units = City.objects.count()
        report.users = seed_accounts()
        rounds = seed_rounds(years)
        report.rounds = [r.year for r in rounds]
        cities = list(City.objects.select_related("province").order_by("code"))
        strength = {c.code: REGION_STRENGTH[c.province.region] * rng.uniform(0.8, 1.15) for c in cities}
        named: set[str] = set(Designation.objects.values_list("city_id", flat=True))
        for round_ in rounds:
            made = seed_round(
                round_=round_,
                cities=cities,
                strength=strength,
                named=named,
                rng=rng,
                cases=cases,
                participation=participation,
            )
            report.submissions += made[0]
            report.cases += made[1]
            report.designations += made[2]
            # Cities grow from one year to the next.
            for code in strength:
                strength[code] *= rng.uniform(1.02, 1.12)
    return report


def add_synthetic_units(*, total: int, rng: random.Random) -> int:
    """County-level units under the real prefectures, until there are `total` units."""
    existing = set(City.objects.values_list("code", flat=True))
    parents = list(City.objects.filter(kind=CityKind.PREFECTURE).order_by("code"))
    new: list[City] = []
    index = 1
    while len(existing) + len(new) < total:
        for parent in parents:
            if len(existing) + len(new) >= total:
                break
            code = f"{parent.code[:4]}{index:02d}"
            if code in existing or index > 99:
                continue
            new.append(
                City(
                    code=code,
                    province_id=parent.province_id,
                    name=f"{parent.name.removesuffix('市')}第{index:02d}县",
                    kind=CityKind.SPECIAL,
                )
            )
        index += 1
        if index > 99:
            break
    City.objects.bulk_create(new, batch_size=BATCH)
    return len(new)


def seed_accounts() -> int:
    """The ministry, one bureau per province and one official per unit, all with `PASSWORD` (hashed
    once: hashing is deliberately slow)."""
    hashed = make_password(PASSWORD)
    users = [User(username="bench-miit", role=Role.MINISTRY, full_name="工信部", password=hashed)]
    users += [
        User(
            username=bureau_username(p.code),
            role=Role.BUREAU,
            province=p,
            full_name=f"{p.name}通信管理局",
            password=hashed,
        )
        for p in Province.objects.all()
    ]
    users += [
        User(username=city_username(c.code), role=Role.CITY, city=c, full_name=f"{c.name}填报员", password=hashed)
        for c in City.objects.all()
    ]
    User.objects.bulk_create(users, batch_size=BATCH, ignore_conflicts=True)
    return len(users)


def seed_rounds(years: list[int]) -> list[Round]:
    rounds = []
    for year in years:
        last = year == years[-1]
        round_, _created = Round.objects.get_or_create(year=year)
        round_.status = RoundStatus.OPEN if last else RoundStatus.PUBLISHED
        round_.opens_on = datetime.date(year, 7, 1)
        round_.deadline = datetime.date(year, 12, 15)
        round_.data_as_of = datetime.date(year, 10, 31)
        round_.published_on = None if last else datetime.date(year, 12, 24)
        round_.save()
        ensure_thresholds(round_)
        rounds.append(round_)
    return rounds


def _pick(rng: random.Random, weights: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([s for s, _w in weights], weights=[w for _s, w in weights])[0]


def seed_round(
    *,
    round_: Round,
    cities: list[City],
    strength: dict[str, float],
    named: set[str],
    rng: random.Random,
    cases: tuple[int, int],
    participation: dict[str, float] = PARTICIPATION,
) -> tuple[int, int, int]:
    """The forms of one round; returns (forms, cases, designations) written."""
    is_open = round_.status == RoundStatus.OPEN
    states = OPEN_STATES if is_open else PAST_STATES
    thresholds = round_.threshold_map()
    now = timezone.now()
    submitted_at = timezone.make_aware(datetime.datetime(round_.year, 11, 20, 10, 0))
    forms: list[Submission] = []
    for city in cities:
        if rng.random() > participation["open" if is_open else "past"]:
            continue
        status = _pick(rng, states)
        if city.code in named and status == Status.APPROVED:
            status = Status.RECOMMENDED  # named once: later rounds report, they are not named again
        inputs = plausible_inputs(rng, strength=strength[city.code])
        covered, total = key_site_sums(inputs)
        inputs["key_sites_5g_covered"], inputs["key_sites_total"] = covered, total
        values = compute_indicators(inputs)
        reported = status in REPORTED
        missed = sum(
            1
            for spec in INDICATORS
            if values[spec.code] is not None and spec.code in thresholds and values[spec.code] < thresholds[spec.code]
        )
        form = Submission(
            city=city,
            round=round_,
            status=status,
            # A Gigabit City named in an earlier round files an annual report.
            kind=FormKind.ANNUAL_REPORT if city.code in named else FormKind.EVALUATION,
            version=rng.randint(2, 9),
            data_as_of=round_.data_as_of,
            contact_name="联系人",
            contact_phone="010-12345678",
            contact_email=f"gigabit{city.code}@example.gov.cn",
            **inputs,
            **{f"value_{code}": value for code, value in values.items()},
            **PRACTICES,
            created_at=now,
            updated_at=now,
            submitted_at=submitted_at if reported else None,
            scoring_state=ScoringState.SCORED if reported else ScoringState.IDLE,
            meets_all=(missed == 0) if reported else None,
            missed_count=missed if reported else None,
        )
        forms.append(form)
    Submission.objects.bulk_create(forms, batch_size=BATCH)

    case_rows: list[Case] = []
    low, high = cases
    for form in forms:
        count = rng.randint(low, high) if high else 0
        form.cases_count = count
        for position, item in enumerate(demo_cases(form.city, rng, count)):
            case_rows.append(
                Case(
                    submission=form,
                    position=position,
                    **item,
                    is_excellent=form.status in (Status.RECOMMENDED, Status.SENT_BACK, Status.APPROVED)
                    and position < 2,
                )
            )
    Case.objects.bulk_create(case_rows, batch_size=BATCH)
    if case_rows:
        Submission.objects.bulk_update(forms, ["cases_count"], batch_size=BATCH)

    designations = [
        Designation(
            city=form.city,
            round=round_,
            source=Designation.Source.APPROVED,
            designated_on=datetime.date(round_.year, 12, 24),
        )
        for form in forms
        if form.status == Status.APPROVED
    ]
    Designation.objects.bulk_create(designations, batch_size=BATCH, ignore_conflicts=True)
    named.update(d.city_id for d in designations)
    return len(forms), len(case_rows), len(designations)


# ------------------------------------------------------------------------------------------------
# History: what a form in a given state has behind it
# ------------------------------------------------------------------------------------------------
# The workflow steps that lead to each state (the ones `submissions.workflow.TRANSITIONS` allows).
PATHS = {
    Status.DRAFT: (),
    Status.SUBMITTED: (Action.SUBMIT,),
    Status.RETURNED: (Action.SUBMIT, Action.RETURN),
    Status.RECOMMENDED: (Action.SUBMIT, Action.RECOMMEND),
    Status.SENT_BACK: (Action.SUBMIT, Action.RECOMMEND, Action.SEND_BACK),
    Status.APPROVED: (Action.SUBMIT, Action.RECOMMEND, Action.APPROVE),
    Status.REJECTED: (Action.SUBMIT, Action.RECOMMEND, Action.REJECT),
}
RETURNED_ONCE = 0.25  # share of reported forms that were returned once and resubmitted on the way
ACTOR_ROLE = {
    Action.SUBMIT: Role.CITY,
    Action.RETURN: Role.BUREAU,
    Action.RECOMMEND: Role.BUREAU,
    Action.APPROVE: Role.MINISTRY,
    Action.REJECT: Role.MINISTRY,
    Action.SEND_BACK: Role.MINISTRY,
}
TARGET = {
    Action.SUBMIT: Status.SUBMITTED,
    Action.RETURN: Status.RETURNED,
    Action.RECOMMEND: Status.RECOMMENDED,
    Action.APPROVE: Status.APPROVED,
    Action.REJECT: Status.REJECTED,
    Action.SEND_BACK: Status.SENT_BACK,
}
REASONS = {
    Action.RETURN: "5G基站数与上年相比变化较大，请核实并补充说明。",
    Action.REJECT: "10G-PON端口占比未达到要求。",
    Action.SEND_BACK: "请省管局核实重点场所5G覆盖数据。",
}
COMMENT_FIELDS = ("bs5g_count", "pon_10g_ports", "users_1000m", "contact_phone", "practice_users")


def _notified(action: str, *, resubmitted: bool) -> list[tuple[str, str]]:
    """(recipient role, notification kind) of one step, as `reviews.notifications` sends them."""
    kinds = {
        Action.SUBMIT: [(Role.BUREAU, "resubmitted" if resubmitted else "submitted")],
        Action.RETURN: [(Role.CITY, "returned")],
        Action.RECOMMEND: [(Role.MINISTRY, "recommended"), (Role.CITY, "recommended")],
        Action.APPROVE: [(Role.CITY, "approved"), (Role.BUREAU, "approved")],
        Action.REJECT: [(Role.CITY, "rejected"), (Role.BUREAU, "rejected")],
        Action.SEND_BACK: [(Role.BUREAU, "sent_back")],
    }
    return kinds[action]


def seed_history(*, seed: int = 2021) -> dict[str, int]:
    """Give every form of the database the history its state implies, as the services would have
    written it: data changes (the first fill-in, then a few edits), one workflow event per step with
    its snapshot (a quarter of the reported forms were returned once, with field comments, and
    resubmitted with those fields corrected), the notifications of each step, and for every reported
    form the score and flags of the real scoring rules (peers and previous round included). Versions
    and `submitted_at` are set to match. Returns how many rows of each kind were written."""
    from reviews.models import Notification
    from submissions.models import SubmissionEvent

    rng = random.Random(seed + 1)
    users = {u.username: u for u in User.objects.all()}
    ministry = users["bench-miit"]
    counts = {"events": 0, "data_changes": 0, "field_comments": 0, "notifications": 0, "scores": 0, "flags": 0}
    now = timezone.now()
    with transaction.atomic():
        for round_ in Round.objects.filter(submissions__isnull=False).distinct().order_by("year"):
            forms = list(
                Submission.objects.filter(round=round_).select_related("city").prefetch_related("cases").order_by("pk")
            )
            pending_comments: list[tuple[SubmissionEvent, list[str]]] = []
            events: list[SubmissionEvent] = []
            changes: list[DataChange] = []
            notifications: list[Notification] = []
            is_open = round_.status == RoundStatus.OPEN
            for form in forms:
                city_user = users[city_username(form.city_id)]
                bureau = users[bureau_username(form.city.province_id)]
                actors = {Role.CITY: city_user, Role.BUREAU: bureau, Role.MINISTRY: ministry}
                final = snapshot(form)
                path = list(PATHS[Status(form.status)])
                if path and form.status != Status.RETURNED and rng.random() < RETURNED_ONCE:
                    path = [Action.SUBMIT, Action.RETURN, *path]
                returned = Action.RETURN in path
                commented = rng.sample(COMMENT_FIELDS, 2)
                # A returned form was first submitted with the commented fields different.
                first = {"fields": dict(final["fields"]), "cases": final["cases"]}
                if returned:
                    for name in commented:
                        first["fields"][name] = _altered(first["fields"].get(name))
                step = datetime.timedelta(hours=7)
                base = form.submitted_at or timezone.make_aware(datetime.datetime(round_.year, 11, 10, 10, 0))
                at = min(base, now) - step * (len(path) + 4)
                version = 1
                edited = rng.choice(("contact_phone", "practice_network", "bs5g_count"))
                value = first["fields"].get(edited)
                fill_in = [diff({"fields": {}, "cases": []}, first)]
                fill_in += [{edited: [_altered(value), value]}] * rng.randint(0, 2)
                for change in fill_in:
                    version += 1
                    changes.append(_data_change(form, version, city_user, change, at))
                    at += step / 3
                fix = {name: [first["fields"].get(name), final["fields"].get(name)] for name in commented}
                status = Status.DRAFT
                seen = first
                for action in path:
                    if action == Action.SUBMIT and status == Status.RETURNED:
                        version += 1
                        changes.append(_data_change(form, version, city_user, fix, at))
                        seen = final
                        at += step / 3
                    version += 1
                    actor = actors[ACTOR_ROLE[action]]
                    event = SubmissionEvent(
                        submission=form,
                        action=action,
                        from_status=status,
                        to_status=TARGET[action],
                        actor=actor,
                        actor_role=actor.role,
                        reason=REASONS.get(action, ""),
                        details={"comments": len(commented)} if action == Action.RETURN else {},
                        snapshot=seen,
                        version=version,
                        created_at=at,
                    )
                    events.append(event)
                    if action == Action.RETURN:
                        pending_comments.append((event, commented))
                    elif action == Action.SUBMIT:
                        form.submitted_at = at
                    resubmitted = action == Action.SUBMIT and status == Status.RETURNED
                    for role, kind in _notified(action, resubmitted=resubmitted):
                        notifications.append(
                            Notification(
                                recipient=actors[role],
                                kind=kind,
                                submission=form,
                                city_id=form.city_id,
                                round=round_,
                                actor=actor,
                                text=REASONS.get(action, ""),
                                created_at=at,
                                read_at=None if is_open and rng.random() < 0.5 else at + step,
                            )
                        )
                    status = TARGET[action]
                    at += step
                if form.status == Status.RETURNED:
                    # The city is correcting what the bureau commented on.
                    version += 1
                    changes.append(_data_change(form, version, city_user, fix, at))
                form.version = version
                form.updated_at = at - step
                form.updated_by = city_user
            SubmissionEvent.objects.bulk_create(events, batch_size=BATCH)
            DataChange.objects.bulk_create(changes, batch_size=BATCH)
            Notification.objects.bulk_create(notifications, batch_size=BATCH)
            comments = [
                FieldComment(
                    submission_id=event.submission_id,
                    event=event,
                    field=name,
                    message="请核实该数据的统计口径，并与上年数据对比说明变化原因。",
                )
                for event, names in pending_comments
                for name in names
            ]
            FieldComment.objects.bulk_create(comments, batch_size=BATCH)
            scored = _seed_scores(round_, forms, counts)
            Submission.objects.bulk_update(
                forms,
                ["version", "updated_at", "updated_by", "submitted_at", *scored],
                batch_size=BATCH,
            )
            counts["events"] += len(events)
            counts["data_changes"] += len(changes)
            counts["field_comments"] += len(comments)
            counts["notifications"] += len(notifications)
    return counts


def _altered(value):
    """An earlier value of a field: a count a fifth lower, a text without its last sentence."""
    if isinstance(value, int):
        return int(value * 0.8)
    return (value or "")[: max(0, len(value or "") // 2)]


def _data_change(form: Submission, version: int, actor: User, changes: dict, at: datetime.datetime) -> DataChange:
    return DataChange(
        submission=form,
        version=version,
        actor=actor,
        actor_role=actor.role,
        source=ChangeSource.FORM,
        changes=changes,
        created_at=at,
    )


def _seed_scores(round_: Round, forms: list[Submission], counts: dict[str, int]) -> list[str]:
    """The score and flags of every reported form of the round, by `indicators.rules.score` with the
    round's peers and each city's previous round, as the worker computes them."""
    thresholds = round_.threshold_map()
    reported = [form for form in forms if form.status in REPORTED]
    values = {form.pk: form.indicator_values for form in reported}
    previous: dict[str, Submission] = {}
    for earlier in (
        Submission.objects.filter(round__year__lt=round_.year, status__in=REPORTED)
        .select_related("round")
        .order_by("round__year")
    ):
        previous[earlier.city_id] = earlier  # the latest earlier round wins
    scores: list[Score] = []
    flags: list[list[Flag]] = []
    for form in reported:
        peers: dict[str, list] = {code: [] for code in INDICATOR_CODES}
        for pk, row in values.items():
            if pk != form.pk:
                for code in INDICATOR_CODES:
                    if row[code] is not None:
                        peers[code].append(row[code])
        before = previous.get(form.city_id)
        result = score(
            inputs=form.checked_inputs,
            case_domains=[case.domain for case in form.cases.all()],
            thresholds=thresholds,
            settings=round_.flag_settings,
            previous=Previous(year=before.round.year, inputs=before.inputs, values=before.indicator_values)
            if before
            else None,
            peers=peers,
        )
        record, its_flags = score_records(form, round_.threshold_version, result)
        record.created_at = form.submitted_at or timezone.now()
        scores.append(record)
        flags.append(its_flags)
        form.meets_all, form.missed_count = result.meets_all, result.missed
        form.flag_severity, form.flags_count = result.max_severity, len(result.flags)
    Score.objects.bulk_create(scores, batch_size=BATCH)
    rows = []
    for saved, its_flags in zip(scores, flags, strict=True):
        for flag in its_flags:
            flag.score = saved
            rows.append(flag)
    Flag.objects.bulk_create(rows, batch_size=BATCH)
    counts["scores"] += len(scores)
    counts["flags"] += len(rows)
    return ["meets_all", "missed_count", "flag_severity", "flags_count"]
