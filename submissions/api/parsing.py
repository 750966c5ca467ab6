"""Reading a request's body and headers for the form's writes: the PATCH body in public names, and
the version the caller edited (If-Match or a `version` field)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter

from gigacity.errors import ApplicationError
from gigacity.params import int_param
from indicators.catalogue import INPUT_NAMES, KEY_SITE_CATEGORIES, key_site_field

from ..models import Submission
from ..public import CONTACT, PRACTICES
from .serializers import SubmissionSerializer

# Sections a write may send; every other field the API reads is read-only (a write may repeat it
# unchanged, as a client that sends back what it read does).
WRITABLE = ("inputs", "contact", "practices", "key_sites", "data_as_of", "cases", "version")
READ_ONLY = tuple(name for name in SubmissionSerializer.Meta.fields if name not in WRITABLE)


def parse_submission_body(body: Any, submission: Submission | None = None) -> tuple[dict, list | None]:
    """(data for submission_update, cases or None) from a PATCH body in public names. Unknown keys
    and attempts to change read-only fields are errors, never silently dropped."""
    if not isinstance(body, Mapping):
        raise ValidationError({"non_field_errors": [_("Send a JSON object.")]})
    data: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}

    def section(key: str, mapping: Mapping[str, str]) -> None:
        value = body.get(key)
        if value is None:
            return
        if not isinstance(value, Mapping):
            errors[key] = [_("Must be an object.")]
            return
        for public, raw in value.items():
            if public in mapping:
                data[mapping[public]] = raw
            else:
                errors[f"{key}.{public}"] = [_("Unknown field")]

    section("inputs", {name: name for name in INPUT_NAMES})
    section("contact", CONTACT)
    section("practices", PRACTICES)
    key_sites = body.get("key_sites")
    if key_sites is not None:
        if not isinstance(key_sites, Mapping):
            errors["key_sites"] = [_("Must be an object.")]
        else:
            categories = {c.key for c in KEY_SITE_CATEGORIES}
            for category, parts in key_sites.items():
                if category not in categories or not isinstance(parts, Mapping):
                    errors[f"key_sites.{category}"] = [_("Unknown field")]
                    continue
                for part, raw in parts.items():
                    if part in ("total", "covered"):
                        data[key_site_field(category, part)] = raw
                    else:
                        errors[f"key_sites.{category}.{part}"] = [_("Unknown field")]
    if "data_as_of" in body:
        data["data_as_of"] = body["data_as_of"]
    cases = body.get("cases")
    if cases is not None and not isinstance(cases, list):
        errors["cases"] = [_("Must be a list.")]
    for key in body:
        if key in WRITABLE:
            continue
        if key in READ_ONLY:
            if submission is not None and not _same(key, body[key], submission):
                errors[key] = [_("Cannot be changed here.")]
        else:
            errors[key] = [_("Unknown field")]
    if errors:
        raise ValidationError(errors)
    return data, cases


def _same(key: str, value: Any, submission: Submission) -> bool:
    current = {
        "id": submission.pk,
        "city": submission.city_id,
        "round": submission.round.year,
        "status": submission.status,
    }
    return key not in current or str(value) == str(current[key])


# What expected_version reads: "3", W/"3" or 3.
IF_MATCH_PATTERN = r'^(W/)?"?[0-9]{1,18}"?$'


def if_match_parameter(description: str) -> OpenApiParameter:
    return OpenApiParameter(
        "If-Match",
        {"type": "string", "pattern": IF_MATCH_PATTERN},
        OpenApiParameter.HEADER,
        required=False,
        description=description,
    )


def expected_version(request) -> tuple[int, bool]:
    """The version the caller edited: from an If-Match header (ETag style) or a `version` field.
    Neither → 428: an unconditional write could overwrite somebody else's work."""
    header = request.headers.get("If-Match")
    if header:
        version = int_param(header.strip().removeprefix("W/").strip('"'))
        if version is None:
            raise ApplicationError(_('If-Match must be the version number, e.g. "3".'))
        return version, True
    body_version = request.data.get("version") if isinstance(request.data, Mapping) else None
    if body_version is None:
        error = ApplicationError(
            _('Say which version you edited: send If-Match: "<version>" or a version field.'),
            extra={"code": "precondition_required"},
        )
        error.status_code = 428
        raise error
    version = int_param(body_version)  # not 1.5, 1e400 or true
    if version is None:
        raise ValidationError({"version": [_("Must be a whole number.")]})
    return version, False


# ------------------------------------------------------------------------------------------------
# Views
# ------------------------------------------------------------------------------------------------
