"""Every page is in Simplified Chinese by default, with English available; the compiled catalogue is
in the repository and complete, so no gettext is needed to run the app."""

from __future__ import annotations

import ast
import gettext
from pathlib import Path

import polib
from django.conf import settings

ROOT = Path(__file__).resolve().parents[1]
PO = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")


def test_every_message_is_translated_and_none_is_fuzzy():
    catalogue = polib.pofile(str(PO))
    assert [e.msgid for e in catalogue.untranslated_entries()] == []
    assert [e.msgid for e in catalogue.fuzzy_entries()] == []


def test_the_compiled_catalogue_matches_the_source():
    compiled = gettext.GNUTranslations(MO.open("rb"))
    for entry in polib.pofile(str(PO)):
        if entry.obsolete:
            continue
        if entry.msgid_plural:
            assert compiled.ngettext(entry.msgid, entry.msgid_plural, 1) == entry.msgstr_plural[0], entry.msgid
        elif entry.msgctxt:  # pgettext: the same words translated differently in a context
            assert compiled.pgettext(entry.msgctxt, entry.msgid) == entry.msgstr, entry.msgid
        else:
            assert compiled.gettext(entry.msgid) == entry.msgstr, entry.msgid


def test_chinese_is_the_default_and_english_is_one_switch_away(client):
    assert settings.LANGUAGE_CODE == "zh-hans"
    assert "登录" in client.get("/login/").content.decode()

    response = client.post("/i18n/setlang/", {"language": "en", "next": "/login/"})
    assert response.status_code == 302
    body = client.get("/login/").content.decode()
    assert "Log in" in body and 'lang="en"' in body


# The names makemessages (xgettext) looks for; a string wrapped under any other name is left out of
# the catalogue and silently stays English.
EXTRACTED_NAMES = {
    "_",
    "gettext",
    "gettext_lazy",
    "gettext_noop",
    "ngettext",
    "ngettext_lazy",
    "pgettext",
    "pgettext_lazy",
    "npgettext",
    "npgettext_lazy",
}


def test_translation_functions_are_imported_under_names_makemessages_extracts():
    wrong = []
    for path in ROOT.glob("*/**/*.py"):
        if path.parts[len(ROOT.parts)] in {".venv", "tests", "bench", "node_modules"}:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == "django.utils.translation":
                wrong += [
                    f"{path.relative_to(ROOT)}: {alias.name} as {alias.asname}"
                    for alias in node.names
                    if "gettext" in alias.name and (alias.asname or alias.name) not in EXTRACTED_NAMES
                ]
    assert wrong == []


EAGER = {"gettext", "ngettext", "pgettext", "npgettext"}


def _import_time_calls(tree: ast.AST, eager_names: set[str]):
    """Calls of `eager_names` that run when the module is imported: outside any function body."""
    pending = [tree]
    while pending:
        node = pending.pop()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                continue  # runs when called, in the request's language
            if isinstance(child, ast.Call) and isinstance(child.func, ast.Name) and child.func.id in eager_names:
                yield child
            pending.append(child)


def test_no_message_is_translated_once_at_import_time():
    """A module-level gettext() is translated in whatever language was active at import (none), and
    stays so for everybody: module-level labels must be gettext_lazy."""
    wrong = []
    for path in ROOT.glob("*/**/*.py"):
        if path.parts[len(ROOT.parts)] in {".venv", "tests", "bench", "node_modules"}:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        eager = {
            alias.asname or alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module == "django.utils.translation"
            for alias in node.names
            if alias.name in EAGER
        }
        wrong += [f"{path.relative_to(ROOT)}:{call.lineno}" for call in _import_time_calls(tree, eager)]
    assert wrong == []
