"""The permission matrix: for every API route and method, what each role gets.

Every endpoint joins by adding rows to ROWS; test_permission_matrix fails when a route under
/api/v1/ has no row. Each row is run once per role on a fresh database, against objects of city A
(青岛, 山东): `city` is A's official, `city_same_province` another 山东 city's, `city_other_province`
a 江苏 city's; `bureau` is 山东's bureau, `bureau_other_province` 江苏's; `operator` is 中国移动's
山东 branch (issue 13), which gets what a non-member gets on every route of forms, reviews and
dashboards, and its own figures on the operators' routes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

ROLES = (
    "anonymous",
    "city",
    "city_same_province",
    "city_other_province",
    "bureau",
    "bureau_other_province",
    "operator",
    "ministry",
    "admin",
)


def publish_round(world) -> None:
    """Close and publish the world's round (the public list exists from then on)."""
    from reviews.services import round_set_status

    round_set_status(round_=world.round, status="closed", actor=world.users["ministry"])
    round_set_status(round_=world.round, status="published", actor=world.users["ministry"])


def cover_letter_upload():
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("盖章报送函.png", b"\x89PNG\r\n\x1a\n" + b"0" * 64, content_type="image/png")


def pdf_status() -> int:
    from gigacity import pdf

    return 200 if pdf.available() else 503


def expect(default: int, **overrides: int) -> dict[str, int]:
    """Every role gets `default`, except anonymous callers (401) and the roles named."""
    statuses = {role: default for role in ROLES}
    statuses["anonymous"] = 401
    statuses.update(overrides)
    return statuses


def scoped(ok: int = 200, *, outside: int = 404, **overrides: int) -> dict[str, int]:
    """An object of city A: its city, its province's bureau and the ministry see it; others get 404."""
    return expect(
        ok,
        city_same_province=outside,
        city_other_province=outside,
        bureau_other_province=outside,
        operator=outside,
        **overrides,
    )


@dataclass(frozen=True)
class Row:
    route: str  # URL name, e.g. "api:round-detail"
    method: str  # get, post, patch, put, delete
    expected: Mapping[str, int]  # role → status code
    args: Callable[[Any], list] = lambda world: []
    body: Callable[[Any], Any] | None = None
    headers: Callable[[Any], dict[str, str]] = lambda world: {}
    format: str = "json"
    # Puts the world into the state the row needs (e.g. a submitted form), once per role run.
    setup: Callable[[Any], None] | None = None
    note: str = field(default="", compare=False)

    @property
    def key(self) -> tuple[str, str]:
        return (self.route, self.method)


# Dashboards and exports (reviews/api.py): the national ones are the ministry's; a province's belong
# to its bureau and the ministry (another province: 404); city officials have none (403). Background
# exports belong to whoever asked for them (in the rows below: 山东's bureau).
NO_CITY = {"city": 403, "city_same_province": 403, "city_other_province": 403, "operator": 403}
NATIONAL = expect(403, ministry=200, admin=200)
# An operator's branch is no member of its province's bureau: the province answers it 404, as to another.
PROVINCE = expect(200, bureau_other_province=404, **{**NO_CITY, "operator": 404})
EXPORTERS = expect(200, **NO_CITY)
REQUESTER = expect(404, bureau=200, **NO_CITY)


def name_in_round(world, city_code: str) -> None:
    """A city named a Gigabit City in the world's round (青岛, city A, was named in 2021)."""
    from indicators.models import Designation

    Designation.objects.get_or_create(city_id=city_code, defaults={"round": world.round, "source": "approved"})


ROWS: list[Row] = [
    Row(
        "api:token",
        "post",
        expect(200, anonymous=200),
        body=lambda w: {"username": w.user_name_for_token, "password": w.password},
    ),
    Row("api:round-list", "get", expect(200)),
    Row("api:round-detail", "get", expect(200), args=lambda w: [w.round.year]),
    # What-if thresholds: a read-only simulation for ministry staff (the thresholds are theirs).
    Row("api:round-what-if", "get", NATIONAL, args=lambda w: [w.round.year]),
    Row("api:city-list", "get", expect(200)),
    Row("api:city-detail", "get", scoped(), args=lambda w: [w.city_a.code]),
    # Submissions: city A's form (青岛). Editing is the city's (or its bureau's, on its behalf);
    # deciding is the bureau's and then the ministry's. 403: the role may never; 409: not in this state.
    Row("api:submission-list", "get", expect(200)),
    Row(
        "api:submission-list",
        "post",
        expect(403, city=201, bureau=201, city_same_province=404, city_other_province=404, bureau_other_province=404),
        body=lambda w: {"city": w.city_a.code, "round": w.round.year},
    ),
    Row("api:submission-detail", "get", scoped(), args=lambda w: [w.submission().pk]),
    Row(
        "api:submission-detail",
        "patch",
        scoped(200, ministry=403, admin=403),
        args=lambda w: [w.submission().pk],
        body=lambda w: {"version": w.submission().version, "inputs": {"bs5g_count": 12345}},
    ),
    Row(
        "api:submission-submit",
        "post",
        scoped(403, city=200),
        args=lambda w: [w.submission().pk],
        setup=lambda w: w.submission("draft"),
    ),
    Row(
        "api:submission-return",
        "post",
        scoped(403, bureau=200),
        args=lambda w: [w.submission().pk],
        body=lambda w: {"reason": "请核实5G基站数"},
        setup=lambda w: w.submission("submitted"),
    ),
    Row(
        "api:submission-recommend",
        "post",
        scoped(403, bureau=200),
        args=lambda w: [w.submission().pk],
        body=lambda w: {"excellent_cases": [], "note": ""},
        setup=lambda w: w.submission("submitted"),
    ),
    # City A (青岛) is a Gigabit City since 2021: its form is an annual report, which the ministry confirms
    # or does not confirm; approving or rejecting it (naming it again) is a conflict for the ministry.
    Row(
        "api:submission-approve",
        "post",
        scoped(403, ministry=409),
        args=lambda w: [w.submission().pk],
        body=lambda w: {},
        setup=lambda w: w.submission("recommended"),
    ),
    Row(
        "api:submission-approve",
        "post",
        scoped(403, ministry=200),
        args=lambda w: [w.submission().pk],
        body=lambda w: {},
        setup=lambda w: w.evaluation("recommended"),
        note="an evaluation",
    ),
    Row(
        "api:submission-reject",
        "post",
        scoped(403, ministry=200),
        args=lambda w: [w.submission().pk],
        body=lambda w: {"reason": "未达标"},
        setup=lambda w: w.evaluation("recommended"),
    ),
    Row(
        "api:submission-confirm",
        "post",
        scoped(403, ministry=200),
        args=lambda w: [w.submission().pk],
        body=lambda w: {},
        setup=lambda w: w.submission("recommended"),
    ),
    Row(
        "api:submission-not-confirm",
        "post",
        scoped(403, ministry=200),
        args=lambda w: [w.submission().pk],
        body=lambda w: {"reason": "未达标", "shortfall": ["pon_10g_share"], "improvement_due": w.improvement_due()},
        setup=lambda w: w.submission("recommended"),
    ),
    Row(
        "api:submission-send-back",
        "post",
        scoped(403, ministry=200),
        args=lambda w: [w.submission().pk],
        body=lambda w: {"reason": "请复核"},
        setup=lambda w: w.submission("recommended"),
    ),
    Row("api:submission-history", "get", scoped(), args=lambda w: [w.submission().pk]),
    Row("api:submission-score", "get", scoped(), args=lambda w: [w.submission().pk]),
    Row("api:submission-explain", "get", scoped(), args=lambda w: [w.submission().pk]),
    Row(
        "api:submission-attachments",
        "post",
        scoped(201, ministry=403, admin=403),
        args=lambda w: [w.submission().pk],
        format="multipart",
        body=lambda w: {"file": w.pdf()},
    ),
    Row("api:attachment-detail", "delete", scoped(204, ministry=403, admin=403), args=lambda w: [w.attachment().pk]),
    # The printable form as a PDF and the stamped cover letter (issue 14): the form's own scope.
    Row("api:submission-pdf", "get", scoped(pdf_status()), args=lambda w: [w.submission("submitted").pk]),
    Row(
        "api:submission-cover-letter",
        "post",
        scoped(201, ministry=403, admin=403),
        args=lambda w: [w.submission().pk],
        format="multipart",
        body=lambda w: {"file": cover_letter_upload()},
    ),
    Row("api:dashboard-national", "get", NATIONAL),
    Row("api:watch-list", "get", NATIONAL),
    Row("api:export-watch", "get", NATIONAL),
    Row("api:dashboard-province", "get", PROVINCE, args=lambda w: [w.city_a.province_id]),
    Row("api:export-summary", "get", EXPORTERS),
    Row("api:export-dashboard-national", "get", NATIONAL),
    Row("api:export-dashboard-province", "get", PROVINCE, args=lambda w: [w.city_a.province_id]),
    # Progress over time and data quality (issue 15): national for the ministry, a province for its
    # own bureau and the ministry (another province: 404), nothing for cities.
    Row("api:progress-national", "get", NATIONAL),
    Row("api:progress-province", "get", PROVINCE, args=lambda w: [w.city_a.province_id]),
    Row("api:export-progress-national", "get", NATIONAL),
    Row("api:export-progress-province", "get", PROVINCE, args=lambda w: [w.city_a.province_id]),
    Row("api:data-quality-national", "get", NATIONAL),
    Row("api:data-quality-province", "get", PROVINCE, args=lambda w: [w.city_a.province_id]),
    Row("api:export-quality-national", "get", NATIONAL),
    Row("api:export-quality-province", "get", PROVINCE, args=lambda w: [w.city_a.province_id]),
    Row("api:export-list", "get", EXPORTERS),
    Row(
        "api:export-list",
        "post",
        expect(202, **NO_CITY),
        body=lambda w: {"kind": "cities", "round": w.round.year},
    ),
    # The Word documents (issue 14): the draft circular is the ministry's alone; the case collection
    # follows the exports' scope (江苏's bureau has no case to collect: 409, said in words).
    Row(
        "api:export-list",
        "post",
        expect(403, ministry=202, admin=202),
        body=lambda w: {"kind": "circular", "round": w.round.year},
        setup=lambda w: name_in_round(w, "370600"),  # 烟台, never named before: this round names it
        note="draft circular",
    ),
    Row(
        "api:export-list",
        "post",
        expect(202, bureau_other_province=409, **NO_CITY),
        body=lambda w: {"kind": "casebook", "round": w.round.year, "excellent_only": False},
        setup=lambda w: w.submission("recommended"),
        note="case collection (Word)",
    ),
    Row("api:export-detail", "get", REQUESTER, args=lambda w: [w.export_job().pk]),
    Row("api:export-download", "get", REQUESTER, args=lambda w: [w.export_job().pk]),
    # Excel: anybody who sees the form may download its template; filling it in is the city's (or its
    # bureau's); the province workbook is the bureau's alone.
    Row("api:submission-template", "get", scoped(), args=lambda w: [w.submission().pk]),
    Row(
        "api:submission-import",
        "post",
        scoped(200, ministry=403, admin=403),
        args=lambda w: [w.submission().pk],
        format="multipart",
        body=lambda w: {"file": w.template(), "dry_run": "1"},
        note="dry run",
    ),
    Row(
        "api:submission-import",
        "post",
        scoped(200, ministry=403, admin=403),
        args=lambda w: [w.submission().pk],
        format="multipart",
        body=lambda w: {"file": w.template()},
    ),
    Row(
        "api:province-workbook",
        "get",
        expect(403, bureau=200, city_other_province=404, bureau_other_province=404, operator=404),
        args=lambda w: [w.city_a.province_id],
    ),
    Row(
        "api:province-import",
        "post",
        expect(403, bureau=200, city_other_province=404, bureau_other_province=404, operator=404),
        args=lambda w: [w.city_a.province_id],
        format="multipart",
        body=lambda w: {"file": w.province_workbook(), "dry_run": "1"},
    ),
    # Evidence requests (issue 13): seen with their form; asked by the bureau of the form's province or
    # the ministry; answered by the city; judged by the side that asked (山东's bureau in these rows).
    Row("api:submission-evidence-requests", "get", scoped(), args=lambda w: [w.submission().pk]),
    Row(
        "api:submission-evidence-requests",
        "post",
        scoped(403, bureau=201, ministry=201),
        args=lambda w: [w.submission().pk],
        body=lambda w: {"field": "inputs.bs5g_count", "question": "请提供基站统计表", "due_on": w.tomorrow()},
        setup=lambda w: w.submission("submitted"),
    ),
    Row("api:evidence-request-detail", "get", scoped(), args=lambda w: [w.evidence_request().pk]),
    Row(
        "api:evidence-request-answer",
        "post",
        scoped(403, city=200),
        args=lambda w: [w.evidence_request().pk],
        format="multipart",
        body=lambda w: {"text": "已附统计表", "files": [w.pdf()]},
    ),
    Row(
        "api:evidence-request-accept",
        "post",
        scoped(403, bureau=200),
        args=lambda w: [w.evidence_request(answered=True).pk],
        body=lambda w: {},
    ),
    Row(
        "api:evidence-request-reject",
        "post",
        scoped(403, bureau=200),
        args=lambda w: [w.evidence_request(answered=True).pk],
        body=lambda w: {"reason": "未盖章"},
    ),
    Row(
        "api:evidence-request-withdraw",
        "post",
        scoped(403, bureau=200),
        args=lambda w: [w.evidence_request().pk],
        body=lambda w: {"reason": "已电话核实"},
    ),
    # Sample checks (issue 13): the ministry's; administrators may read them.
    Row("api:sample-draw-list", "get", NATIONAL),
    Row(
        "api:sample-draw-list",
        "post",
        expect(403, ministry=201),
        body=lambda w: {"round": w.round.year, "size": 1, "seed": 7},
        setup=lambda w: w.submission("recommended"),
    ),
    Row("api:sample-draw-detail", "get", NATIONAL, args=lambda w: [w.sample_draw().pk]),
    Row("api:sample-draw-export", "get", NATIONAL, args=lambda w: [w.sample_draw().pk]),
    Row(
        "api:sample-item-outcome",
        "post",
        expect(403, ministry=200),
        args=lambda w: [w.sample_draw().items.get().pk],
        body=lambda w: {"outcome": "passed", "note": "与运营商数据一致"},
    ),
]


# Operators' figures (issue 13): an operator's branch reports its own; its province's bureau reads all
# of them and may report on an operator's behalf; ministry staff read all; city officials none.
REPORTERS = expect(403, operator=201, bureau=201)
FIGURE_READERS = expect(200, city=403, city_same_province=403, city_other_province=403)


def figure_rows(world) -> dict:
    return {"round": world.round.year, "rows": [{"city": world.city_a.code, "bs5g_count": 9000}]}


def operator_workbook_upload(world):
    """中国移动 山东's workbook (the matrix's operator) as an upload."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from submissions.excel.operators import operator_workbook

    content = operator_workbook(
        province=world.city_a.province, operator=world.users["operator"].operator, round_=world.round
    )
    return SimpleUploadedFile("运营商数据.xlsx", content)


ROWS += [
    Row("api:operator-list", "get", expect(200)),
    Row("api:operator-figures", "get", FIGURE_READERS),
    Row(
        "api:operator-figures",
        "post",
        # A bureau names the operator it reports for; 江苏's bureau: 青岛 is no city of its province.
        expect(403, operator=201, bureau=201, bureau_other_province=400),
        body=lambda w: {**figure_rows(w), "operator": "mobile"},
    ),
    Row(
        "api:operator-workbook",
        "get",
        expect(403, operator=200, bureau=200, bureau_other_province=200),
        headers=lambda w: {"QUERY_STRING": "operator=mobile"},
    ),
    Row(
        "api:operator-import",
        "post",
        # Another province's bureau is refused: the workbook is 山东's (400, said in words).
        expect(403, operator=200, bureau=200, bureau_other_province=400),
        format="multipart",
        body=lambda w: {"file": operator_workbook_upload(w), "dry_run": "1"},
    ),
    Row("api:round-tolerance", "get", expect(200), args=lambda w: [w.round.year]),
    Row(
        "api:round-tolerance",
        "put",
        expect(403, ministry=200, admin=200),
        args=lambda w: [w.round.year],
        body=lambda w: {"tolerance": "8", "reason": "统计时点差异", "version": 0},
    ),
]
