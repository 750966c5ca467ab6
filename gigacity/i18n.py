"""Choosing between the Chinese and English text of bilingual domain data (indicator names, flag
messages), which is stored in both languages rather than translated through gettext."""

from django.utils.translation import get_language


def in_english() -> bool:
    return (get_language() or "").startswith("en")


def pick(zh: str, en: str) -> str:
    return en if in_english() else zh
