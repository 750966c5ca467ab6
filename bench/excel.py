"""Excel imports, in this process, against a raw openpyxl read of the same file.

In a copy of the national database, every unit of the largest province gets a draft in the open
round (as early in a round, before anybody submitted), so that the province workbook holds all of
its cities. The workbooks are the app's own downloads (`province_workbook`, `city_template`), edited
with openpyxl the way the tests fill them in: variant A changes every city's 5G base stations and one
case's partners, variant B changes them back, so each import is a real change of every city.

The imports are called as the pages and the API call them (`province_import`, `city_import`), each
upload first as a dry run, then applied with the versions the dry run saw, as a bureau confirms it;
before them, the raw read (`openpyxl.load_workbook(read_only=True, data_only=True)` and every row of
every sheet, the least any import of that file has to do) and the app's own reading of the file
alone (`read_province_workbook`, `read_city_workbook`: the zip pre-flight, the bounded read, every
cell checked), which tells the file's share of an import from the database's.

The operator workbook (issue 13) is measured the same way: each of the four operators' workbooks of
the province (one row per city, every count changed by each import), dry run then import.
"""

from __future__ import annotations

import io
import time
from typing import Any

import openpyxl

from .web import bureau_username, summary

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class _Counter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def raw_read(content: bytes) -> int:
    """Every cell of every sheet, as openpyxl reads it at its fastest; returns the cells seen."""
    workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True, keep_links=False)
    cells = 0
    try:
        for sheet in workbook.worksheets:
            for row in sheet.iter_rows(values_only=True):
                cells += len(row)
    finally:
        workbook.close()
    return cells


def _timed(call, *args) -> tuple[float, int, Any]:
    from django.db import connection

    counter = _Counter()
    started = time.perf_counter()
    with connection.execute_wrapper(counter):
        result = call(*args)
    return (time.perf_counter() - started) * 1000, counter.count, result


def prepare_province(province) -> dict[str, Any]:
    """Every unit of the province with a draft (with cases) in the open round."""
    from django.db import transaction

    from indicators.models import Round
    from submissions.models import Case, Status, Submission

    round_ = Round.objects.current()
    with transaction.atomic():
        forms = Submission.objects.filter(round=round_, city__province=province)
        forms.exclude(status=Status.DRAFT).update(status=Status.DRAFT)
        model = forms.order_by("-cases_count", "pk").first()
        cases = list(model.cases.all())
        titles = [case.title.removeprefix(model.city.name) for case in cases]
        for city in province.cities.exclude(submissions__round=round_):
            form = Submission.objects.get(pk=model.pk)
            form.pk, form.id, form.city, form.version = None, None, city, 1
            form.save()
            for case, title in zip(cases, titles, strict=True):
                case.pk, case.id, case.submission, case.title = None, None, form, f"{city.name}{title}"
            Case.objects.bulk_create(cases)
    return {"round": round_.year, "units": province.cities.count()}


def _edited(content: bytes, edit) -> bytes:
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    edit(workbook)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def province_variants(content: bytes) -> list[bytes]:
    from submissions.excel.layout import (
        CITY_COL_CODE,
        CITY_FIRST_ROW,
        PROVINCE_CASE_COL,
        PROVINCE_FIELD_COLS,
        SHEET_CASES,
        SHEET_CITIES,
    )

    def variant(step: int):
        def edit(workbook) -> None:
            cities = workbook[SHEET_CITIES]
            column = PROVINCE_FIELD_COLS["bs5g_count"]
            for row in range(CITY_FIRST_ROW, cities.max_row + 1):
                if cities.cell(row=row, column=CITY_COL_CODE).value:
                    cell = cities.cell(row=row, column=column)
                    cell.value = int(cell.value or 0) + step
            cases = workbook[SHEET_CASES]
            seen: set[str] = set()
            for row in range(3, cases.max_row + 1):
                code = cases.cell(row=row, column=PROVINCE_CASE_COL["city"]).value
                if code and code not in seen:
                    seen.add(code)
                    cases.cell(row=row, column=PROVINCE_CASE_COL["partners"]).value = f"合作单位（第{step}版）"

        return edit

    return [_edited(content, variant(1)), _edited(content, variant(2))]


def city_variants(content: bytes) -> list[bytes]:
    from submissions.excel.layout import CASE_COL, COL_VALUE, DATA_FIELD_ROWS, SHEET_CASES, SHEET_DATA

    def variant(step: int):
        def edit(workbook) -> None:
            cell = workbook[SHEET_DATA].cell(row=DATA_FIELD_ROWS["bs5g_count"], column=COL_VALUE)
            cell.value = int(cell.value or 0) + step
            workbook[SHEET_CASES].cell(row=3, column=CASE_COL["partners"]).value = f"合作单位（第{step}版）"

        return edit

    return [_edited(content, variant(1)), _edited(content, variant(2))]


def _upload(content: bytes, name: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type=XLSX)


def _check(result, what: str) -> None:
    if not result.ok or (not result.dry_run and not result.applied):
        problems = "; ".join(result.errors[:5])
        raise SystemExit(f"the benchmark's {what} was refused: {problems}")


def run(*, province_code: str, city_user_name: str, samples: int) -> dict[str, Any]:
    """Both imports, `samples` times each (the variants taking turns), in the database this process
    is connected to (the Excel copy)."""
    from gigacity.models import Province, User
    from indicators.models import Round
    from submissions.excel.city import city_template, read_city_workbook
    from submissions.excel.imports import city_import, province_import
    from submissions.excel.province import province_workbook, read_province_workbook
    from submissions.models import Submission

    province = Province.objects.get(pk=province_code)
    prepared = prepare_province(province)
    bureau = User.objects.get(username=bureau_username(province.code))
    round_ = Round.objects.current()
    workbook = province_workbook(province=province, round_=round_)
    city_user = User.objects.get(username=city_user_name)
    draft = Submission.objects.get(city=city_user.city, round=round_)
    template = city_template(submission=draft)

    def province_read(content):
        return read_province_workbook(_upload(content, "省级汇总表.xlsx"))

    def city_read(content):
        return read_city_workbook(_upload(content, "调查表.xlsx"))

    def province_dry(content):
        return province_import(actor=bureau, upload=_upload(content, "省级汇总表.xlsx"), dry_run=True)

    def province_apply(content, dry):
        versions = {plan.city: plan.base_version or 0 for plan in dry.plans}
        upload = _upload(content, "省级汇总表.xlsx")
        return province_import(actor=bureau, upload=upload, dry_run=False, expected_versions=versions)

    def city_dry(content):
        return city_import(
            submission_id=draft.pk, actor=city_user, upload=_upload(content, "调查表.xlsx"), dry_run=True
        )

    def city_apply(content, dry):
        upload = _upload(content, "调查表.xlsx")
        version = dry.plans[0].base_version
        return city_import(
            submission_id=draft.pk, actor=city_user, upload=upload, dry_run=False, expected_version=version
        )

    results: dict[str, Any] = {"data": prepared, "samples": samples}
    for kind, variants, read, dry_run, apply in (
        ("province", province_variants(workbook), province_read, province_dry, province_apply),
        ("city", city_variants(template), city_read, city_dry, city_apply),
    ):
        times: dict[str, list[float]] = {"raw_read": [], "read": [], "dry_run": [], "apply": []}
        queries: dict[str, int] = {}
        # The first round is a warm-up (imports, translations, the first changes).
        for index in range(samples + 1):
            content = variants[index % 2]
            raw_ms, _q, cells = _timed(raw_read, content)
            read_ms, _q, upload = _timed(read, content)
            if upload.problems:
                raise SystemExit(f"the benchmark's {kind} workbook has problems: {upload.problems[:3]}")
            dry_ms, dry_queries, dry = _timed(dry_run, content)
            _check(dry, f"{kind} dry run")
            apply_ms, apply_queries, applied = _timed(apply, content, dry)
            _check(applied, f"{kind} import")
            if index == 0:
                continue
            times["raw_read"].append(raw_ms)
            times["read"].append(read_ms)
            times["dry_run"].append(dry_ms)
            times["apply"].append(apply_ms)
            queries = {"dry_run": dry_queries, "apply": apply_queries}
        plans = applied.plans
        results[kind] = {
            "file_bytes": len(variants[0]),
            "cells": cells,
            "cities": len(plans),
            "changes": sum(len(plan.fields) + len(plan.cases_changed) for plan in plans),
            **{step: {"ms": summary(values), "queries": queries.get(step, 0)} for step, values in times.items()},
        }
    results["operator"] = run_operators(province=province, round_=round_, samples=samples)
    return results


def operator_variants(content: bytes) -> list[bytes]:
    """Variant A: every city's eight counts filled in; variant B: each count one more, so that each
    import is a new report of every city (a new row each, and the cities' forms marked for scoring)."""
    from submissions.excel.operators import FIELD_COLS, FIRST_ROW, SHEET_FIGURES

    def variant(step: int):
        def edit(workbook) -> None:
            sheet = workbook[SHEET_FIGURES]
            row = FIRST_ROW
            while sheet.cell(row=row, column=1).value:
                base = 1000 + row * 10 + step
                # parts below their wholes: 10G-PON ≤ PON, 1000M ≤ 500M+ ≤ all, 5G ≤ mobile
                values = {
                    "pon_10g_ports": base,
                    "pon_ports_total": base * 4,
                    "bs5g_count": base,
                    "users_500m_plus": base * 20,
                    "broadband_users_total": base * 100,
                    "users_1000m": base * 5,
                    "users_5g": base * 300,
                    "mobile_users_total": base * 900,
                }
                for name, col in FIELD_COLS.items():
                    sheet.cell(row=row, column=col).value = values[name]
                row += 1

        return edit

    return [_edited(content, variant(0)), _edited(content, variant(1))]


def run_operators(*, province, round_, samples: int) -> dict[str, Any]:
    """Issue 13: the operator workbook of each of the four operators for the province (one row per
    city), imported as the page and the API do (dry run, then import), beside a raw openpyxl read of
    the same file and the app's own read. One sample = the four operators' workbooks in turn."""
    from gigacity.models import User
    from gigacity.services import user_provision
    from indicators.models import Operator
    from submissions.excel.operators import operator_import, operator_workbook

    operators = list(Operator.objects.all())
    actors = {}
    for operator in operators:
        name = f"bench-{operator.code}-{province.code}"
        actors[operator.code] = (
            User.objects.filter(username=name).first()
            or user_provision(
                username=name,
                password="bench-Operator-2026!",
                role="operator",
                province_code=province.code,
                operator_code=operator.code,
            )[0]
        )
    variants = {
        o.code: operator_variants(operator_workbook(province=province, operator=o, round_=round_)) for o in operators
    }
    times: dict[str, list[float]] = {"raw_read": [], "dry_run": [], "apply": []}
    queries: dict[str, int] = {}
    cities = rows = 0
    for index in range(samples + 1):  # the first is a warm-up
        step = {"raw_read": 0.0, "dry_run": 0.0, "apply": 0.0}
        for operator in operators:
            content = variants[operator.code][index % 2]
            raw_ms, _q, _cells = _timed(raw_read, content)
            actor = actors[operator.code]
            dry_ms, dry_q, dry = _timed(
                lambda c=content, a=actor: operator_import(
                    actor=a, upload=_upload(c, "运营商数据.xlsx"), round_=round_, dry_run=True
                )
            )
            if not dry.ok:
                raise SystemExit(f"the benchmark's operator workbook was refused: {dry.problems[:3]}")
            apply_ms, apply_q, applied = _timed(
                lambda c=content, a=actor: operator_import(
                    actor=a, upload=_upload(c, "运营商数据.xlsx"), round_=round_, dry_run=False
                )
            )
            if not applied.applied:
                raise SystemExit(f"the benchmark's operator import was refused: {applied.problems[:3]}")
            step["raw_read"] += raw_ms
            step["dry_run"] += dry_ms
            step["apply"] += apply_ms
            queries = {"dry_run": dry_q, "apply": apply_q}
            cities, rows = len(applied.plans), rows + len(applied.plans)
        if index == 0:
            continue
        for key, value in step.items():
            times[key].append(value)
    return {
        "operators": len(operators),
        "cities": cities,
        "file_bytes": len(next(iter(variants.values()))[0]),
        **{key: {"ms": summary(values), "queries": queries.get(key, 0)} for key, values in times.items()},
    }
