"""Sample checks (抽查核验): the ministry draws a sample of a round's recommended or approved forms and
verifies each one.

The draw is a pure function of the population, the seed and the size, so that the same draw can be
repeated and audited:
- the population is the round's recommended and approved forms, ordered by id, each with its
  stratum (its province's code or its region, or "" when the draw is not stratified);
- a share becomes a size by rounding up (ceil(share × N / 100)): any share above 0 draws at least
  one form, and 100 % draws all;
- the size is shared among the strata by the largest-remainder rule (Hamilton's method): each
  stratum's quota is size × N_s / N; each gets the whole part, and the seats left go one each to
  the strata with the largest fractional parts (ties: the larger stratum, then the stratum's key in
  order). So every stratum gets its quota rounded down or up, and the sizes add up to the size;
- `random.Random(seed)` then samples, stratum by stratum in the order of their keys, the stratum's
  share of its ids (in ascending order). The sample is the union, in id order.
Python's `random.Random` is documented to give the same sequence for the same seed across versions
(for `random()` and `sample()` over a sequence of the same length); we record the seed and the
population, and the draw's page runs it again to show the result identical.
"""

from __future__ import annotations

import math
import random
import secrets
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from gigacity.errors import RoleNotAllowed
from gigacity.models import Province, Region, Role, User
from indicators.catalogue import CATALOGUE_BY_CODE, INDICATOR_CODES
from indicators.models import Round
from submissions.models import Status, Submission

from .evidence import _check_files, files_kept_only_on_commit, save_files
from .models import CheckEvent, CheckEventKind, SampleDraw, SampleItem, SampleStratum, VerificationOutcome

# The forms a sample is drawn from: those a bureau vouched for, and those the ministry named.
SAMPLED_STATES = (Status.RECOMMENDED, Status.APPROVED)
MAX_SEED = 2**63 - 1
FINDING_LIMIT = 2000


# ------------------------------------------------------------------------------------------------
# The draw (pure)
# ------------------------------------------------------------------------------------------------
def size_from_share(population: int, share: Decimal | Fraction) -> int:
    """The number of forms a share (in percent, 0 < share ≤ 100) of the population is: rounded up."""
    return math.ceil(Fraction(share) * population / 100)


def allocate(counts: Mapping[str, int], size: int) -> dict[str, int]:
    """The size shared among strata in proportion to their counts, by the largest-remainder rule."""
    total = sum(counts.values())
    if total == 0:
        return dict.fromkeys(counts, 0)
    quotas = {key: Fraction(size * count, total) for key, count in counts.items()}
    seats = {key: math.floor(quota) for key, quota in quotas.items()}
    left = size - sum(seats.values())
    order = sorted(counts, key=lambda key: (-(quotas[key] - seats[key]), -counts[key], key))
    for key in order[:left]:
        seats[key] += 1
    return seats


def draw(population: Sequence[tuple[int, str]], *, seed: int, size: int) -> list[int]:
    """The ids drawn: `size` of the (id, stratum) pairs, shared among the strata by `allocate`,
    sampled by `random.Random(seed)`; in id order."""
    strata: dict[str, list[int]] = {}
    for pk, stratum in population:
        strata.setdefault(stratum, []).append(pk)
    seats = allocate({key: len(ids) for key, ids in strata.items()}, size)
    rng = random.Random(seed)
    chosen: list[int] = []
    for key in sorted(strata):
        chosen += rng.sample(sorted(strata[key]), seats[key])
    return sorted(chosen)


# ------------------------------------------------------------------------------------------------
# Services
# ------------------------------------------------------------------------------------------------
def _ensure_ministry(actor: User) -> None:
    if actor.role != Role.MINISTRY:
        raise RoleNotAllowed(_("Sample checks are the ministry's."))


def stratum_of(submission: Submission, stratify: str) -> str:
    if stratify == SampleStratum.PROVINCE:
        return submission.city.province_id
    if stratify == SampleStratum.REGION:
        return submission.city.province.region
    return ""


def stratum_label(key: str, stratify: str) -> str:
    if stratify == SampleStratum.PROVINCE:
        return Province.objects.filter(pk=key).values_list("name", flat=True).first() or key
    if stratify == SampleStratum.REGION:
        return str(Region(key).label) if key in Region.values else key
    return str(_("All"))


def population_of(round_: Round, stratify: str, strata: Sequence[str] = ()) -> list[tuple[int, str]]:
    """The round's recommended and approved forms as (id, stratum), in id order; only the strata
    chosen, when some are."""
    forms = (
        Submission.objects.filter(round=round_, status__in=SAMPLED_STATES)
        .select_related("city__province")
        .order_by("pk")
    )
    rows = [(form.pk, stratum_of(form, stratify)) for form in forms]
    if strata:
        rows = [row for row in rows if row[1] in set(strata)]
    return rows


def _parse_share(share) -> Decimal | None:
    if share in (None, ""):
        return None
    try:
        value = Decimal(str(share).strip().rstrip("%"))
    except (InvalidOperation, ValueError):
        raise ValidationError({"share": [_("Enter a percentage between 0 and 100.")]}) from None
    if not value.is_finite() or not Decimal(0) < value <= Decimal(100):
        raise ValidationError({"share": [_("The share must be more than 0 and at most 100 (%).")]})
    return value.quantize(Decimal("0.01"))


def sample_draw_create(
    *,
    round_: Round,
    actor: User,
    size: int | None = None,
    share=None,
    stratify: str = "",
    strata: Iterable[str] = (),
    seed: int | None = None,
    note: str = "",
) -> SampleDraw:
    """Draw a sample of the round's recommended or approved forms: a size or a share, stratified by
    province or region or not, from a seed (given, or chosen at random and recorded)."""
    _ensure_ministry(actor)
    stratify = stratify or ""
    strata = list(dict.fromkeys(str(key) for key in (strata or ()) if str(key).strip()))
    errors: dict[str, list[str]] = {}
    if stratify not in SampleStratum.values:
        errors["stratify"] = [_("Choose by province, by region, or not stratified.")]
    if strata and not stratify:
        errors["strata"] = [_("Choose how to stratify before choosing strata.")]
    share_value = None
    try:
        share_value = _parse_share(share)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if (size in (None, "")) == (share in (None, "")):
        errors.setdefault("size", []).append(_("Give either a sample size or a share, not both."))
    elif size not in (None, "") and (not isinstance(size, int) or size < 1):
        errors["size"] = [_("The sample size must be at least 1.")]
    if seed is not None and not 0 <= seed <= MAX_SEED:
        errors["seed"] = [_("The seed must be a whole number between 0 and %(max)s.") % {"max": MAX_SEED}]
    if errors:
        raise ValidationError(errors)

    with transaction.atomic():
        # Decisions on the round's forms wait while the population is read: what is recorded is what
        # was drawn from.
        population_all = population_of(round_, stratify)
        present = {stratum for _pk, stratum in population_all}
        for key in strata:
            if key not in present:
                errors.setdefault("strata", []).append(
                    _("%(stratum)s has no recommended or approved form in the %(year)s round.")
                    % {"stratum": stratum_label(key, stratify), "year": round_.year}
                )
        if errors:
            raise ValidationError(errors)
        population = [row for row in population_all if not strata or row[1] in strata]
        if not population:
            raise ValidationError(
                {
                    "round": [
                        _("The %(year)s round has no recommended or approved form to draw from.")
                        % {"year": round_.year}
                    ]
                }
            )
        n = size if size not in (None, "") else size_from_share(len(population), share_value)
        if n > len(population):
            raise ValidationError(
                {
                    "size": [
                        _("The sample size cannot be larger than the %(n)s forms to draw from.")
                        % {"n": len(population)}
                    ]
                }
            )
        seed = secrets.randbelow(MAX_SEED) if seed is None else seed
        chosen = draw(population, seed=seed, size=n)
        record = SampleDraw.objects.create(
            round=round_,
            size=n,
            share=share_value,
            stratify=stratify,
            strata=strata,
            seed=seed,
            population=[list(row) for row in population],
            note=(note or "").strip(),
            drawn_by=actor,
        )
        strata_of = dict(population)
        items = SampleItem.objects.bulk_create(
            SampleItem(draw=record, submission_id=pk, stratum=strata_of[pk]) for pk in chosen
        )
        CheckEvent.objects.bulk_create(
            CheckEvent(
                submission_id=item.submission_id,
                kind=CheckEventKind.SAMPLED,
                sample_item=item,
                actor=actor,
                actor_role=actor.role,
                text=record.note,
                details={"draw": record.pk, "seed": seed},
            )
            for item in items
        )
    return record


def draw_again(record: SampleDraw) -> tuple[list[int], bool]:
    """The draw run again from its recorded population and seed, and whether it gives exactly the
    forms recorded."""
    again = draw([(pk, stratum) for pk, stratum in record.population], seed=record.seed, size=record.size or 0)
    recorded = sorted(record.items.values_list("submission_id", flat=True))
    return again, again == recorded


def stratum_counts(record: SampleDraw) -> list[dict]:
    """Per stratum: the forms drawn from, the quota and the forms drawn (for the page and the export)."""
    counts: dict[str, int] = {}
    for _pk, stratum in record.population:
        counts[stratum] = counts.get(stratum, 0) + 1
    seats = allocate(counts, record.size or 0)
    total = sum(counts.values())
    return [
        {
            "key": key,
            "label": stratum_label(key, record.stratify),
            "population": counts[key],
            "quota": Fraction((record.size or 0) * counts[key], total) if total else 0,
            "drawn": seats[key],
        }
        for key in sorted(counts)
    ]


def _clean_findings(findings) -> list[dict]:
    cleaned, errors = [], []
    for finding in findings or ():
        if not isinstance(finding, Mapping):
            errors.append(_("Each finding names an indicator and says what was found."))
            continue
        code = str(finding.get("indicator") or "").strip()
        text = str(finding.get("text") or "").strip()
        if not code and not text:
            continue
        if code not in INDICATOR_CODES:
            errors.append(_("Choose the indicator of each finding."))
        elif not text:
            errors.append(_("Say what was found for “%(indicator)s”.") % {"indicator": CATALOGUE_BY_CODE[code].name_zh})
        elif len(text) > FINDING_LIMIT:
            errors.append(_("At most %(n)s characters") % {"n": FINDING_LIMIT})
        else:
            cleaned.append({"indicator": code, "text": text})
    if errors:
        raise ValidationError({"findings": errors})
    return cleaned


def sample_item_record(
    *,
    item_id: int,
    actor: User,
    outcome: str,
    findings=(),
    note: str = "",
    files: Iterable[UploadedFile] = (),
    reopen: bool = False,
) -> SampleItem:
    """The verifier's outcome for one sampled form: 核验通过, or 核验发现问题 with at least one finding
    per indicator concerned; files as evidence. With `reopen`, a finding sends the form back to its
    bureau (the REOPEN transition, with the findings as its reason); all or nothing."""
    _ensure_ministry(actor)
    item = SampleItem.objects.filter(pk=item_id, draw__in=SampleDraw.objects.visible_to(actor)).first()
    if item is None:
        raise Http404
    errors: dict[str, list[str]] = {}
    if outcome not in (VerificationOutcome.PASSED, VerificationOutcome.PROBLEMS):
        errors["outcome"] = [_("Choose the outcome: verified, or problems found.")]
    try:
        cleaned = _clean_findings(findings)
    except ValidationError as exc:
        errors.update(exc.message_dict)
        cleaned = []
    if outcome == VerificationOutcome.PROBLEMS and not cleaned and "findings" not in errors:
        errors["findings"] = [_("Record at least one finding: the indicator and what was found.")]
    if outcome == VerificationOutcome.PASSED and cleaned:
        errors["findings"] = [_("A form verified without problems has no findings; choose “problems found”.")]
    if reopen and outcome != VerificationOutcome.PROBLEMS:
        errors["reopen"] = [_("Only a form with problems found can be reopened.")]
    if len(note or "") > FINDING_LIMIT:
        errors["note"] = [_("At most %(n)s characters") % {"n": FINDING_LIMIT}]
    try:
        checked = _check_files(files)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)

    from .services import submission_reopen

    with files_kept_only_on_commit() as stored, transaction.atomic():
        item = SampleItem.objects.select_for_update().select_related("submission").get(pk=item.pk)
        item.outcome = outcome
        item.findings = cleaned
        item.note = (note or "").strip()
        item.verified_by = actor
        item.verified_at = timezone.now()
        if reopen:
            reason = "；".join(f"{CATALOGUE_BY_CODE[f['indicator']].name_zh}：{f['text']}" for f in cleaned)
            submission_reopen(
                submission_id=item.submission_id,
                actor=actor,
                reason=_("Sample check found problems: %(findings)s") % {"findings": reason},
            )
            item.reopened = True
        item.save()
        names = [
            f.original_name
            for f in save_files(checked, submission=item.submission, actor=actor, stored=stored, sample_item=item)
        ]
        CheckEvent.objects.create(
            submission_id=item.submission_id,
            kind=CheckEventKind.VERIFIED,
            sample_item=item,
            actor=actor,
            actor_role=actor.role,
            text=item.note,
            details={
                "draw": item.draw_id,
                "outcome": outcome,
                "findings": cleaned,
                "reopened": bool(reopen),
                "files": names,
            },
        )
    return item
