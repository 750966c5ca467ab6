"""Writing one audit record, and the before/after of a model instance."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Mapping
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from gigacity.models import AuditEvent, AuditKind, User
from gigacity.security import client_ip

from .context import current_reason, current_request

# Values that are credentials: the record says that they changed, never what they are.
SECRET_FIELDS = frozenset({"password", "key", "session_key", "session_data"})
HIDDEN = "******"
_FROM_REQUEST = object()


def audit_record(
    *,
    kind: AuditKind | str,
    actor: User | object | None = _FROM_REQUEST,
    request=None,
    target: models.Model | None = None,
    target_label: str = "",
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    details: Mapping[str, Any] | None = None,
    username: str = "",
    address: str = "",
    user_agent: str = "",
    at=None,
) -> AuditEvent:
    """Record one event. `request` defaults to the one being served (address, program, page);
    `actor` defaults to its signed-in user, and None says explicitly that nobody was signed in (a
    failed sign-in, a task). `username` is for when there is no account (the name typed at a failed
    sign-in); `address` and `user_agent` are for records made outside the request they belong to."""
    request = request if request is not None else current_request()
    if actor is _FROM_REQUEST:
        user = getattr(request, "user", None) if request is not None else None
        actor = user if user is not None and user.is_authenticated else None
    details = dict(details or {})
    if (reason := current_reason()) and "reason" not in details:
        details["reason"] = reason
    event = AuditEvent(
        kind=kind,
        actor=actor,
        username=(actor.username if actor is not None else username or "")[:150],
        role=getattr(actor, "role", "") or "",
        before=_jsonable(before) if before is not None else None,
        after=_jsonable(after) if after is not None else None,
        details=_jsonable(details),
    )
    if at is not None:
        event.at = at
    if request is not None:
        address = address or client_ip(request)
        user_agent = user_agent or request.META.get("HTTP_USER_AGENT", "")
        event.path = _printable(getattr(request, "path", ""))[:300]
    event.ip_address = _address(address)
    event.user_agent = _printable(user_agent)[:300]
    if target is not None:
        event.target_type = target._meta.label_lower
        event.target_id = str(target.pk)[:64]
        event.target_label = (target_label or str(target))[:200]
    else:
        event.target_label = target_label[:200]
    event.save()
    return event


def snapshot(instance: models.Model, *, related: bool = True) -> dict[str, Any]:
    """The instance's stored values (foreign keys as ids, files as names) and, with `related`, its
    many-to-many values as sorted labels. Credentials are included as they are, so that a change can
    be seen; `changed_values` and `redacted` hide them."""
    values: dict[str, Any] = {}
    for field in instance._meta.concrete_fields:
        value = field.value_from_object(instance)
        if isinstance(field, models.FileField):
            value = value.name if value else ""
        values[field.name] = value
    if related and instance.pk is not None:
        for field in instance._meta.many_to_many:
            values[field.name] = sorted(str(obj) for obj in getattr(instance, field.name).all())
    return _jsonable(values)


def redacted(values: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if values is None:
        return None
    return {name: (HIDDEN if name in SECRET_FIELDS and value else value) for name, value in values.items()}


def changed_values(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only what differs, credentials hidden: ({name: old}, {name: new})."""
    names = [name for name in after if before.get(name) != after.get(name)]
    names += [name for name in before if name not in after]
    return (
        redacted({name: before.get(name) for name in names}) or {},
        redacted({name: after.get(name) for name in names}) or {},
    )


def _jsonable(values: Mapping[str, Any]) -> dict[str, Any]:
    # Stored as JSON reads it back (dates as text, Decimals as text), so comparing works both ways.
    return json.loads(json.dumps(dict(values), cls=DjangoJSONEncoder, default=str))


def _address(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def _printable(value: str) -> str:
    # A user agent is whatever the client sent: no control characters reach the record.
    return "".join(ch if ch.isprintable() else "?" for ch in str(value))
