"""The schema version of a database: the migrations applied to it, named the way a person compares
them ("gigacity 0002 · indicators 0001 · …") with a fingerprint of the whole list."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from django.db.migrations.loader import MigrationLoader
from django.utils.translation import gettext as _

PROJECT_APPS = ("gigacity", "indicators", "submissions", "reviews")


def code_migrations() -> list[str]:
    """Every migration this installation's code has, as `app.name`: what a database migrated by this
    release has applied."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    return sorted(f"{app}.{name}" for app, name in loader.graph.nodes)


def schema_version(migrations: Iterable[str]) -> str:
    migrations = sorted(set(migrations))
    latest: dict[str, str] = {}
    for migration in migrations:
        app, _dot, name = migration.partition(".")
        if app in PROJECT_APPS and name > latest.get(app, ""):
            latest[app] = name
    digest = hashlib.sha256("\n".join(migrations).encode()).hexdigest()[:8]
    apps = " · ".join(f"{app} {latest[app].split('_')[0]}" for app in PROJECT_APPS if app in latest)
    return f"{apps or 'no migrations'} ({digest})"


def difference(ours: Iterable[str], theirs: Iterable[str], limit: int = 6) -> str:
    """What one list has that the other lacks, for the message that refuses a restore."""
    ours, theirs = set(ours), set(theirs)

    def listed(names: list[str]) -> str:
        return ", ".join(names[:limit]) + (" …" if len(names) > limit else "")

    parts = []
    if only_theirs := sorted(theirs - ours):
        parts.append(_("only in the archive: %(names)s") % {"names": listed(only_theirs)})
    if only_ours := sorted(ours - theirs):
        parts.append(_("only here: %(names)s") % {"names": listed(only_ours)})
    return "; ".join(parts)
