"""XL-5: whatever is done to a template (values of every type in any cell, huge strings, dates before
1900, Excel errors, formulas without results, merged cells, moved rows, renamed or hidden sheets),
reading and checking it never fails: the answer is a plan or a list of problems, and nothing is
saved by a dry run."""

from __future__ import annotations

import datetime
import io

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.cell.cell import ERROR_CODES, MergedCell

from submissions.excel.city import city_template
from submissions.excel.imports import city_import, province_import
from submissions.excel.province import province_workbook
from submissions.models import DataChange, Status
from tests.factories import make_submission

from .excel_helpers import as_upload, save

pytestmark = pytest.mark.django_db

FUZZ = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,  # the same examples on every run: CI stays reproducible
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

printable = st.characters(blacklist_categories=("Cs", "Cc"))
values = st.one_of(
    st.none(),
    st.integers(min_value=-(10**18), max_value=10**18),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(alphabet=printable, max_size=40),
    st.sampled_from(["12,345", "１２３４５", " 7 ", "1e5", "3.5", "-0", "0x10", "壹万", "'=1+1", "+86 10 1234"]),
    st.just("长" * 32_767),
    st.datetimes(min_value=datetime.datetime(1800, 1, 1), max_value=datetime.datetime(2200, 1, 1)),
    st.dates(min_value=datetime.date(1800, 1, 1), max_value=datetime.date(2200, 1, 1)),
    st.times(),
    st.booleans(),
    st.sampled_from(ERROR_CODES),
    st.sampled_from(["=1/0", "=SUM(C7:C9)", "=A1", '=HYPERLINK("http://x","y")']),
)
sheet_names = st.sampled_from(["填表说明", "指标数据", "应用案例", "典型做法", "城市数据", "_gigacity"])
mutations = st.one_of(
    # Typing into the cells people fill in (the inputs, the cases, the city rows), then anywhere.
    st.tuples(st.just("set"), st.just("指标数据"), st.integers(7, 36), st.just(3), values),
    st.tuples(st.just("set"), st.just("应用案例"), st.integers(3, 12), st.integers(1, 9), values),
    st.tuples(st.just("set"), st.just("城市数据"), st.integers(3, 20), st.integers(1, 28), values),
    st.tuples(st.just("set"), sheet_names, st.integers(1, 70), st.integers(1, 12), values),
    st.tuples(st.just("merge"), sheet_names, st.integers(1, 60), st.integers(1, 8), st.integers(0, 3)),
    st.tuples(st.just("insert_rows"), sheet_names, st.integers(1, 60), st.integers(1, 3)),
    st.tuples(st.just("delete_rows"), sheet_names, st.integers(1, 60), st.integers(1, 3)),
    st.tuples(st.just("rename"), sheet_names, st.sampled_from(["Sheet1", "指标", "应用案例 ", "案例"])),
    st.tuples(st.just("hide"), sheet_names, st.sampled_from(["hidden", "veryHidden", "visible"])),
    st.tuples(st.just("remove"), sheet_names),
)


def mutate(content: bytes, changes) -> bytes | None:
    """The workbook with the changes, or None when openpyxl itself will not write such a workbook."""
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    for change in changes:
        kind, name, *args = change
        if name not in workbook.sheetnames:
            continue
        sheet = workbook[name]
        if kind == "set":
            row, col, value = args
            cell = sheet.cell(row=row, column=col)
            if not isinstance(cell, MergedCell):  # only the first cell of a merged range holds a value
                cell.value = value
        elif kind == "merge":
            row, col, size = args
            sheet.merge_cells(start_row=row, start_column=col, end_row=row + size, end_column=col + 1)
        elif kind == "insert_rows":
            sheet.insert_rows(*args)
        elif kind == "delete_rows":
            sheet.delete_rows(*args)
        elif kind == "rename" and args[0] not in workbook.sheetnames:
            sheet.title = args[0]
        elif kind == "hide" and len(workbook.sheetnames) > 1:
            sheet.sheet_state = args[0]
        elif kind == "remove" and len(workbook.sheetnames) > 1:
            workbook.remove(sheet)
    if all(s.sheet_state != "visible" for s in workbook.worksheets):
        workbook.worksheets[0].sheet_state = "visible"
    workbook.active = next(i for i, s in enumerate(workbook.worksheets) if s.sheet_state == "visible")
    try:
        return save(workbook)
    except Exception:  # e.g. a date openpyxl cannot write; not a workbook anybody could upload
        return None


def check(result) -> None:
    assert result.ok or result.problems
    for problem in result.problems:
        assert isinstance(problem.cell, str) and isinstance(problem.message, str) and problem.message
    assert not result.applied


@pytest.fixture
def draft(open_round, city_user):
    return make_submission(city_user.city, open_round, Status.DRAFT)


@pytest.fixture
def city_template_bytes(draft):
    return city_template(submission=draft)


@FUZZ
@given(changes=st.lists(mutations, min_size=1, max_size=6))
def test_the_city_template_reader_never_fails_on_a_mutated_workbook(draft, city_user, city_template_bytes, changes):
    content = mutate(city_template_bytes, changes)
    if content is None:
        return
    saved = DataChange.objects.count()

    result = city_import(submission_id=draft.pk, actor=city_user, upload=as_upload(content), dry_run=True)

    check(result)
    assert DataChange.objects.count() == saved


@FUZZ
@given(changes=st.lists(mutations, min_size=1, max_size=6))
def test_the_province_reader_never_fails_on_a_mutated_workbook(draft, bureau_user, open_round, changes):
    content = mutate(province_workbook(province=bureau_user.province, round_=open_round), changes)
    if content is None:
        return
    saved = DataChange.objects.count()

    result = province_import(actor=bureau_user, upload=as_upload(content), dry_run=True)

    check(result)
    assert DataChange.objects.count() == saved
