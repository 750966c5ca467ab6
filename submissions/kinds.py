"""Which kind a form is: the one rule, and keeping forms in step with the designations.

A city named a Gigabit City in an earlier round files an annual report (年度复核); any other city an
evaluation (评估申报). The kind is stored on the form (pages, queues, counts and exports read it
without a join) and set when the form is opened. A designation written later — the ministry deciding
on last year's evaluation after this year's form was opened, a published table loaded, an
administrator's correction — changes the kind of the city's forms that are still undecided; a decided
form keeps the kind it was decided as (its decision was taken as that)."""

from __future__ import annotations

from django.db.models import OuterRef, QuerySet, Subquery
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from indicators.models import Designation, Round

from .models import FINAL_STATES, FormKind, Submission


def _years_named(city) -> QuerySet:
    """The years the city (its id, or the outer query's reference to it) was named, earliest first;
    by the year alone, as the default order's city is this one and costs a join."""
    return Designation.objects.filter(city_id=city).order_by("round__year").values_list("round__year", flat=True)


def batch_of(city_id: str) -> int | None:
    """The year the city was named a Gigabit City (None: not named)."""
    return _years_named(city_id).first()


def batch_annotation() -> Subquery:
    """SQL: `batch_of` the city of the outer query's form, to read it with the form."""
    return Subquery(_years_named(OuterRef("city_id"))[:1])


def kind_of(batch: int | None, year: int) -> FormKind:
    """The rule: a city named before the round's year files an annual report, any other an evaluation."""
    return FormKind.ANNUAL_REPORT if batch is not None and batch < year else FormKind.EVALUATION


def kind_for(city_id: str, round_: Round) -> FormKind:
    return kind_of(batch_of(city_id), round_.year)


def sync_kinds(city_id: str) -> int:
    """Bring the kind of the city's undecided forms in line with its designation; returns how many
    changed."""
    batch = batch_of(city_id)
    undecided = Submission.objects.filter(city_id=city_id).exclude(status__in=FINAL_STATES)
    changed = 0
    for pk, year, kind in undecided.values_list("pk", "round__year", "kind"):
        if kind != (right := kind_of(batch, year)):
            changed += Submission.objects.filter(pk=pk).update(kind=right)
    return changed


@receiver(post_save, sender=Designation, dispatch_uid="submissions.kinds.saved")
@receiver(post_delete, sender=Designation, dispatch_uid="submissions.kinds.deleted")
def _designation_changed(sender, instance: Designation, **kwargs) -> None:
    # Whoever writes the designation (a decision, a loader, the admin), the forms follow; bulk writes
    # send no signal and call sync_kinds themselves.
    sync_kinds(instance.city_id)
