"""Writes of the yardsticks that are not a round's settings: naming a city a Gigabit City. (Rounds and
thresholds change through `reviews.services`, which re-scores the forms.)"""

from __future__ import annotations

import datetime

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from gigacity.errors import Conflict
from gigacity.models import City

from .models import Designation, Round


def designation_create(
    *, city_id: str, round_: Round, source: str, designated_on: datetime.date | None = None
) -> Designation:
    """Name the city a Gigabit City of `round_` (its batch). A city is named once: when it already
    is, in this round the designation is returned as it is, in any other round the naming is refused
    (the database's constraint refuses it too, should two decisions race)."""
    with transaction.atomic():
        lock_city(city_id)
        existing = Designation.objects.filter(city_id=city_id).select_related("round", "city").first()
        if existing is not None:
            if existing.round_id == round_.pk:
                return existing
            raise _already_named(existing)
        try:
            with transaction.atomic():
                return Designation.objects.create(
                    city_id=city_id, round=round_, source=source, designated_on=designated_on
                )
        except IntegrityError:
            raise _already_named(Designation.objects.select_related("round", "city").get(city_id=city_id)) from None


def lock_city(city_id: str) -> None:
    """Namings of one city take turns: each locks the city's row first, before anything else of the
    city (its forms), so that two decisions naming the same city at once never wait on each other in
    opposite order. The second then finds the city named (and its forms changed to annual reports).
    FOR NO KEY UPDATE, not FOR UPDATE: it still makes namings take turns, but does not block the rows
    that merely refer to the city (a notification, an event) which another decision on one of the
    city's forms inserts while it holds that form's lock; FOR UPDATE would deadlock with it."""
    list(City.objects.select_for_update(no_key=True).filter(pk=city_id).values_list("pk", flat=True))


def _already_named(designation: Designation) -> Conflict:
    return Conflict(
        _("%(city)s was named a Gigabit City in %(year)s; a city is named only once.")
        % {"city": designation.city.name, "year": designation.round.year}
    )
