"""The public names of the API (`inputs.bs5g_count`, `contact.name`, …) and the model fields behind
them, both ways, for bodies and for error messages."""

from __future__ import annotations

from collections.abc import Mapping

from django.core.exceptions import ValidationError

from indicators.catalogue import INPUT_NAMES, KEY_SITE_CATEGORIES, key_site_field

CONTACT = {"name": "contact_name", "phone": "contact_phone", "email": "contact_email"}
PRACTICES = {
    "network": "practice_network",
    "users": "practice_users",
    "applications": "practice_applications",
    "policies": "support_policies",
}
# Model field → its public path, for error messages.
PUBLIC_NAMES: dict[str, str] = {
    **{name: f"inputs.{name}" for name in INPUT_NAMES},
    **{model: f"contact.{public}" for public, model in CONTACT.items()},
    **{model: f"practices.{public}" for public, model in PRACTICES.items()},
    **{
        key_site_field(c.key, part): f"key_sites.{c.key}.{part}"
        for c in KEY_SITE_CATEGORIES
        for part in ("total", "covered")
    },
    "data_as_of": "data_as_of",
}
MODEL_FIELDS: dict[str, str] = {public: model for model, public in PUBLIC_NAMES.items()}


def public_name(field: str) -> str:
    return PUBLIC_NAMES.get(field, field)


def model_field(public: str) -> str:
    """The model field of a public name in a comment key ("inputs.bs5g_count" → "bs5g_count")."""
    return MODEL_FIELDS.get(public, public)


def public_errors(errors: Mapping[str, list[str]]) -> dict[str, list[str]]:
    return {public_name(field): messages for field, messages in errors.items()}


def raise_public(exc: ValidationError):
    raise ValidationError(public_errors(exc.message_dict)) from None
