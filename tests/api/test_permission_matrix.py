"""Every API route answers each role as the matrix says; a route without a row fails the suite."""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from .conftest import client_for
from .matrix import ROLES, ROWS

HTTP_METHODS = ("get", "post", "put", "patch", "delete")


def api_routes() -> set[tuple[str, str]]:
    """(URL name, method) of every route under /api/v1/."""
    found: set[tuple[str, str]] = set()

    def walk(patterns, prefix: str, namespace: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                ns = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                walk(pattern.url_patterns, prefix + str(pattern.pattern), ns)
            elif isinstance(pattern, URLPattern) and (prefix + str(pattern.pattern)).startswith("api/v1/"):
                callback = pattern.callback
                actions = getattr(callback, "actions", None)
                if actions:
                    methods = set(actions)
                else:
                    view = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
                    methods = {m for m in HTTP_METHODS if view is not None and hasattr(view, m)}
                for method in methods & set(HTTP_METHODS):
                    found.add((f"{namespace}{pattern.name}", method))

    walk(get_resolver().url_patterns, "", "")
    return found


def test_every_api_route_has_a_row_in_the_matrix():
    missing = api_routes() - {row.key for row in ROWS}
    assert not missing, f"add rows to tests/api/matrix.py for: {sorted(missing)}"


def test_every_row_names_every_role():
    for row in ROWS:
        assert set(row.expected) == set(ROLES), row.key


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("row", ROWS, ids=lambda r: f"{r.route}:{r.method}")
def test_matrix(world, row, role):
    if row.setup:
        row.setup(world)
    client = client_for(world, role)
    url = reverse(row.route, args=row.args(world))
    kwargs = {"format": row.format} if row.body is not None else {}
    data = row.body(world) if row.body is not None else None
    response = getattr(client, row.method)(url, data, **kwargs, **row.headers(world))
    assert response.status_code == row.expected[role], (
        f"{row.method.upper()} {url} as {role}: {response.status_code} {getattr(response, 'data', '')}"
    )
