"""Every page answers each role as this matrix says; a page route without a row fails the suite.

The same world as the API matrix: objects of city A (青岛, 山东). Anonymous visitors are sent to the
login page (302) wherever a login is needed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from gigacity import pdf

from .matrix import ROLES, cover_letter_upload, publish_round

LOGIN = 302  # anonymous: to the login page


def everyone(status: int, *, anonymous: int = LOGIN, **overrides: int) -> dict[str, int]:
    return {"anonymous": anonymous, **dict.fromkeys(ROLES[1:], status), **overrides}


def only(allowed: dict[str, int], refused: int = 403) -> dict[str, int]:
    """Roles not named are refused (a page that is not for their role)."""
    return {"anonymous": LOGIN, **dict.fromkeys(ROLES[1:], refused), **allowed}


def scoped(ok: int = 200, **overrides: int) -> dict[str, int]:
    """City A's object: its city, its bureau and national staff; others get 404 (an operator's branch
    too: the cities' forms are none of its business)."""
    return everyone(
        ok,
        **{
            "city_same_province": 404,
            "city_other_province": 404,
            "bureau_other_province": 404,
            "operator": 404,
            **overrides,
        },
    )


# Pages that change a form refuse the operator's role outright, as they refuse ministry staff.
NOT_EDITORS = {"ministry": 403, "admin": 403, "operator": 403}


@dataclass(frozen=True)
class Page:
    name: str
    expected: dict[str, int]
    method: str = "get"
    args: Callable[[Any], list] = lambda world: []
    data: Callable[[Any], dict] = lambda world: {}
    setup: Callable[[Any], None] | None = None


BUREAUS = {"bureau": 200, "bureau_other_province": 200}
CITIES = {"city": 200, "city_same_province": 200, "city_other_province": 200}
NATIONAL = {"ministry": 200, "admin": 200}
# A server without Chromium answers the PDF with 503 and the reason (gigacity.pdf).
PDF_OK = 200 if pdf.available() else 503

PAGES = [
    Page("home", everyone(302)),
    Page("healthz", everyone(200, anonymous=200)),
    Page("login", everyone(302, anonymous=200)),
    Page("logout", everyone(302, anonymous=302), method="post"),
    Page("password_change", everyone(200)),
    Page("password_change", everyone(400), method="post", data=lambda w: {"old_password": "wrong"}),
    Page("password_reset", everyone(200, anonymous=200)),
    Page("password_reset_done", everyone(200, anonymous=200)),
    Page("password_reset_confirm", everyone(200, anonymous=200), args=lambda w: ["MQ", "not-a-token"]),
    Page("password_reset_complete", everyone(200, anonymous=200)),
    Page("set_language", everyone(302, anonymous=302), method="post", data=lambda w: {"language": "en"}),
    Page("schema", everyone(200, anonymous=401)),
    Page("api-docs", everyone(200, anonymous=401)),
    Page("submissions:home", only(CITIES)),
    Page("submissions:form", only({"city": 302, "city_same_province": 302, "city_other_province": 302})),
    Page("submissions:detail", scoped(), args=lambda w: [w.submission().pk]),
    Page("submissions:edit", scoped(200, **NOT_EDITORS), args=lambda w: [w.submission().pk]),
    Page("submissions:attachment", scoped(), args=lambda w: [w.attachment().pk]),
    Page("submissions:excel", scoped(200, **NOT_EDITORS), args=lambda w: [w.submission().pk]),
    Page("submissions:excel_template", scoped(), args=lambda w: [w.submission().pk]),
    Page("submissions:province_excel", only(BUREAUS)),
    # Operators' figures (issue 13): an operator's branch and the bureaus (on an operator's behalf).
    Page("submissions:operator_figures", only({**BUREAUS, "operator": 200})),
    Page(
        "submissions:operator_figures",
        # 江苏's grid has no 青岛 row: nothing of it is read, and the empty grid saves nothing.
        only({"bureau": 302, "bureau_other_province": 302, "operator": 302}),
        method="post",
        data=lambda w: {"operator": "mobile", "370200-bs5g_count": "9000"},
    ),
    Page("submissions:operator_workbook", only({**BUREAUS, "operator": 200})),
    Page("submissions:operator_excel", only({**BUREAUS, "operator": 200})),
    Page("submissions:province_workbook", only(BUREAUS)),
    Page("reviews:bureau_home", only(BUREAUS)),
    Page(
        "reviews:bureau_bulk",
        only({"bureau": 302, "bureau_other_province": 302}),
        method="post",
        data=lambda w: {"ids": [w.submission("submitted").pk], "bulk_action": "recommend"},
    ),
    Page(
        "reviews:ministry_bulk",
        only({"ministry": 302}),
        method="post",
        data=lambda w: {"ids": [w.submission("recommended").pk], "bulk_action": "approve"},
    ),
    Page(
        "reviews:bureau_start",
        only({"bureau": 302, "bureau_other_province": 404}),
        method="post",
        args=lambda w: ["370600"],
    ),
    Page("reviews:extension_new", only({"bureau": 200, "bureau_other_province": 404}), args=lambda w: ["370200"]),
    Page(
        "reviews:act",
        scoped(403, bureau=302),
        method="post",
        args=lambda w: [w.submission("submitted").pk, "recommend"],
        data=lambda w: {},
    ),
    Page("reviews:ministry_queue", only({"ministry": 200})),
    Page("reviews:rounds", only({"ministry": 200})),
    Page(
        "reviews:round_next",
        only({"ministry": 302}),
        method="post",
        data=lambda w: {"year": w.round.year + 1},
    ),
    Page("reviews:watch", only(NATIONAL)),
    Page("reviews:round", only({"ministry": 200}), args=lambda w: [w.round.year]),
    Page(
        "reviews:round",
        only({"ministry": 200}),
        method="post",
        args=lambda w: [w.round.year],
        data=lambda w: {"preview_thresholds": "1", "pon_10g_share": "25"},
    ),
    Page(
        "reviews:round",
        only({"ministry": 302}),
        method="post",
        args=lambda w: [w.round.year],
        data=lambda w: {"save_tolerance": "1", "tolerance": "8", "tolerance_was": "5.00", "reason": "口径差异"},
    ),
    Page(
        "reviews:round",
        only({"ministry": 400}),
        method="post",
        args=lambda w: [w.round.year],
        data=lambda w: {"save_tolerance": "1", "tolerance": "-3", "reason": "口径差异"},
    ),
    Page("reviews:ministry_home", only(NATIONAL)),
    Page("reviews:reference_values", only(NATIONAL)),
    Page("reviews:my_province_dashboard", only({"bureau": 302, "bureau_other_province": 302})),
    Page(
        "reviews:province_dashboard",
        only({"bureau": 200, "bureau_other_province": 404, **NATIONAL}),
        args=lambda w: [w.city_a.province_id],
    ),
    Page("reviews:exports", only({**BUREAUS, **NATIONAL})),
    # Data quality by province (issue 15): a bureau is taken to its own province's page.
    Page("reviews:data_quality", only({"bureau": 302, "bureau_other_province": 302, **NATIONAL})),
    Page(
        "reviews:data_quality_province",
        only({"bureau": 200, "bureau_other_province": 404, **NATIONAL}),
        args=lambda w: [w.city_a.province_id],
    ),
    # The printable form, its PDF and the stamped cover letter (issue 14): the form's own scope.
    Page("submissions:print", scoped(), args=lambda w: [w.submission("submitted").pk]),
    Page("submissions:pdf", scoped(PDF_OK), args=lambda w: [w.submission("submitted").pk]),
    Page(
        "submissions:cover_letter",
        scoped(302, **NOT_EDITORS),
        method="post",
        args=lambda w: [w.submission().pk],
        data=lambda w: {"file": cover_letter_upload()},
    ),
    # The public lists: anybody once the round is published; before that they do not exist.
    Page("reviews:public_rounds", everyone(200, anonymous=200)),
    Page("reviews:public_list", everyone(404, anonymous=404), args=lambda w: [w.round.year]),
    Page("reviews:public_list", everyone(200, anonymous=200), args=lambda w: [w.round.year], setup=publish_round),
    Page("reviews:public_csv", everyone(200, anonymous=200), args=lambda w: [w.round.year], setup=publish_round),
    Page("reviews:public_json", everyone(200, anonymous=200), args=lambda w: [w.round.year], setup=publish_round),
    Page("reviews:notifications", everyone(200)),
    Page("reviews:notification_open", everyone(404, city=302), args=lambda w: [w.notification().pk]),
    Page("reviews:notifications_read_all", everyone(302), method="post"),
    # Evidence requests on the form's page and the ministry's sample checks (issue 13).
    Page(
        "reviews:evidence_new",
        scoped(403, bureau=302, ministry=302),
        method="post",
        args=lambda w: [w.submission("submitted").pk],
        data=lambda w: {"field": "bs5g_count", "question": "请提供基站统计表", "due_on": w.tomorrow()},
    ),
    Page(
        "reviews:evidence_answer",
        scoped(403, city=302),
        method="post",
        args=lambda w: [w.evidence_request().pk],
        data=lambda w: {"text": "已附统计表", "files": w.pdf()},
    ),
    Page(
        "reviews:evidence_act",
        scoped(403, bureau=302),
        method="post",
        args=lambda w: [w.evidence_request(answered=True).pk, "accept"],
    ),
    Page("reviews:check_file", scoped(), args=lambda w: [w.evidence_file().pk]),
    Page("reviews:samples", only(NATIONAL)),
    Page(
        "reviews:samples",
        only({"ministry": 302, "admin": 403}),
        method="post",
        data=lambda w: {"round": w.round.year, "size": "1", "seed": "7"},
        setup=lambda w: w.submission("recommended"),
    ),
    Page("reviews:sample", only(NATIONAL), args=lambda w: [w.sample_draw().pk]),
    Page("reviews:sample_export", only(NATIONAL), args=lambda w: [w.sample_draw().pk]),
    Page(
        "reviews:sample_item",
        only({"ministry": 302, "admin": 403}),
        method="post",
        args=lambda w: [w.sample_draw().items.get().pk],
        data=lambda w: {"outcome": "passed"},
    ),
    # The security audit trail: the security officer's permission (administrators hold every
    # permission); ministry staff without it are refused like everyone else.
    Page("audit:trail", only({"admin": 200})),
    Page("audit:export", only({"admin": 200})),
]


def page_routes() -> set[str]:
    names: set[str] = set()

    def walk(patterns, prefix: str, namespace: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                ns = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                walk(pattern.url_patterns, prefix + str(pattern.pattern), ns)
            elif isinstance(pattern, URLPattern):
                route = prefix + str(pattern.pattern)
                if not route.startswith(("api/v1/", "admin/")):
                    names.add(f"{namespace}{pattern.name}")

    walk(get_resolver().url_patterns, "", "")
    return names


def test_every_page_has_a_row_in_the_matrix():
    missing = page_routes() - {page.name for page in PAGES}
    assert not missing, f"add rows to tests/api/test_page_matrix.py for: {sorted(missing)}"


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", PAGES, ids=lambda p: f"{p.name}:{p.method}")
def test_page_matrix(world, page, role):
    if page.setup:
        page.setup(world)
    url = reverse(page.name, args=page.args(world))
    data = page.data(world)
    client = Client()
    if role != "anonymous":
        client.force_login(world.users[role])
    response = getattr(client, page.method)(url, data)
    assert response.status_code == page.expected[role], f"{page.method.upper()} {url} as {role}"
    if role == "anonymous" and page.expected[role] == LOGIN and page.name != "set_language":
        assert response["Location"].startswith("/login/")
