"""Targets, verdicts and the written results of `python -m bench`: the JSON file, the Markdown
tables, and the generated part of docs/benchmarks.md."""

from __future__ import annotations

import datetime
import json
import os
import platform
from pathlib import Path
from typing import Any

from .stack import ROOT

RESULTS = ROOT / "bench" / "results"
DOC = ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- bench:begin (written by python -m bench --publish) -->", "<!-- bench:end -->"

NATIONAL_PAGES = ("form_page", "draft_save", "bureau_queue", "review_page", "dashboard_page", "dashboard_api")
NATIONAL_PAGES += ("summary_export",)
# The national dashboard and its API asked again, the data unchanged (issue 16: ≤ 3 × the floor).
REPEAT_VIEWS = ("dashboard_page_repeat", "dashboard_api_repeat")
MAX_REPEAT_FLOOR_RATIO = 3.0
EXCEL_STEPS = {"read": "file read by the app", "dry_run": "dry run", "apply": "import"}
MAX_LARGE_RATIO = 2.0
MAX_WHATIF_VS_DASHBOARD = 3.0
MAX_FLOOR_RATIO = 5.0
MAX_EXCEL_RATIO = 3.0  # issue 16: the province workbook import within 3 × a raw openpyxl read
MAX_SCORING_RATIO = 5.0
MAX_LOAD_P95_MS = 300.0
MAX_RESTORE_SECONDS = 3600.0  # reliability.md D-7: recovery within an hour


# ------------------------------------------------------------------------------------------------
# The machine
# ------------------------------------------------------------------------------------------------
def machine(versions: dict[str, str]) -> dict[str, Any]:
    import django

    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        memory_kb = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
    except (OSError, StopIteration, ValueError):
        memory_kb = 0
    return {
        "cpu": cpu or platform.processor() or "unknown",
        "cores": os.cpu_count(),
        "ram_gb": round(memory_kb / 2**20, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "django": django.get_version(),
        **versions,
    }


# ------------------------------------------------------------------------------------------------
# Verdicts
# ------------------------------------------------------------------------------------------------
def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a is not None and b else None


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Every target with its figure and verdict (met: True/False; None when not measured)."""
    rows: list[dict[str, Any]] = []

    def add(group: str, what: str, figure: float | None, limit: float, unit: str, detail: str = "") -> None:
        met = None if figure is None else figure <= limit
        rows.append(
            {"group": group, "what": what, "figure": figure, "limit": limit, "unit": unit, "met": met, "detail": detail}
        )

    pages = results.get("pages")
    if pages:
        for view in ("page", "api"):
            national, large = pages[f"dashboard_{view}"], pages[f"dashboard_{view}_large"]
            ratio = _ratio(large["server_ms"]["median"], national["server_ms"]["median"])
            add(
                "dashboard large/national",
                f"dashboard {view}",
                ratio,
                MAX_LARGE_RATIO,
                "×",
                f"{large['server_ms']['median']} ms ÷ {national['server_ms']['median']} ms (server medians)",
            )
        for key in (*NATIONAL_PAGES, *REPEAT_VIEWS):
            page = pages.get(key)
            if page is None:
                continue
            ratio = _ratio(page["server_ms"]["median"], page["floor_server_ms"]["median"])
            add(
                "page ÷ floor",
                page["label"],
                ratio,
                MAX_REPEAT_FLOOR_RATIO if key in REPEAT_VIEWS else MAX_FLOOR_RATIO,
                "×",
                f"{page['server_ms']['median']} ms ÷ {page['floor_server_ms']['median']} ms (server medians)",
            )
    whatif = results.get("whatif")
    if whatif:
        national, large = whatif["whatif_api"], whatif["whatif_api_large"]
        add(
            "what-if",
            "large ÷ national",
            _ratio(large["server_ms"]["median"], national["server_ms"]["median"]),
            MAX_LARGE_RATIO,
            "×",
            f"{large['server_ms']['median']} ms ÷ {national['server_ms']['median']} ms (server medians)",
        )
        for suffix, size in (("", "national"), ("_large", "large")):
            mine, dashboard = whatif[f"whatif_api{suffix}"], whatif[f"dashboard_api{suffix}"]
            add(
                "what-if",
                f"what-if ÷ dashboard API ({size})",
                _ratio(mine["server_ms"]["median"], dashboard["server_ms"]["median"]),
                MAX_WHATIF_VS_DASHBOARD,
                "×",
                f"{mine['server_ms']['median']} ms ÷ {dashboard['server_ms']['median']} ms (server medians)",
            )
    excel = results.get("excel")
    if excel:
        for kind in ("province", "city"):
            for step in ("read", "dry_run", "apply"):
                figures = excel[kind]
                ratio = _ratio(figures[step]["ms"]["median"], figures["raw_read"]["ms"]["median"])
                add(
                    "Excel import ÷ raw openpyxl read",
                    f"{kind} {EXCEL_STEPS[step]}",
                    ratio,
                    MAX_EXCEL_RATIO,
                    "×",
                    f"{figures[step]['ms']['median']} ms ÷ {figures['raw_read']['ms']['median']} ms (medians)",
                )
    scoring = results.get("scoring")
    if scoring:
        add(
            "scoring",
            "submit→scored p95 ÷ empty task p95",
            scoring["ratios"]["submit_to_scored_vs_empty_round_trip_p95"],
            MAX_SCORING_RATIO,
            "×",
            f"{scoring['submit_to_scored_ms']['p95']} ms ÷ {scoring['empty_round_trip_ms']['p95']} ms",
        )
    load = results.get("load")
    if load:
        errors = load["total"]["failures"]
        add("load", "errors", errors, 0, "", f"of {load['total']['requests']} requests")
        for name, page in sorted(load["pages"].items()):
            add("load", f"p95 {name}", page["p95_ms"], MAX_LOAD_P95_MS, "ms", f"{page['requests']} requests")
    for size, figures in (results.get("backup") or {}).items():
        b = figures["backup"]
        add(
            "backup",
            f"restore of the {size} data set",
            figures["restore"]["seconds"],
            MAX_RESTORE_SECONDS,
            "s",
            f"archive {b['archive_bytes'] / 2**20:.1f} MiB made in {b['seconds']} s",
        )
    return rows


def verdict(row: dict[str, Any]) -> str:
    return {True: "met", False: "MISSED", None: "not measured"}[row["met"]]


def print_targets(rows: list[dict[str, Any]]) -> None:
    print("\nTargets")
    for row in rows:
        figure = "—" if row["figure"] is None else f"{row['figure']}{row['unit']}"
        limit = f"≤ {row['limit']}{row['unit']}"
        print(f"  {verdict(row):<8} {row['group']:<34} {row['what']:<40} {figure:>10}  ({limit}; {row['detail']})")


# ------------------------------------------------------------------------------------------------
# Markdown
# ------------------------------------------------------------------------------------------------
def _ms(figures: dict[str, Any] | None, key: str) -> str:
    if not figures or figures.get(key) is None:
        return "—"
    return f"{figures[key]:.1f}"


def _page_row(page: dict[str, Any]) -> str:
    ratio = _ratio(page["server_ms"]["median"], page["floor_server_ms"]["median"])
    queries = page["queries"] if page["queries"] == page["queries_min"] else f"{page['queries_min']}–{page['queries']}"
    return (
        f"| {page['label']} | {_ms(page['server_ms'], 'median')} | {_ms(page['server_ms'], 'p95')} | "
        f"{_ms(page.get('sql_ms'), 'median')} | {_ms(page['client_ms'], 'median')} | {queries} | "
        f"{_ms(page['floor_server_ms'], 'median')} "
        f"(p95 {_ms(page['floor_server_ms'], 'p95')}, {page['floor_queries']} q) | {ratio} | "
        f"{page['bytes'] / 1024:.0f} |"
    )


def markdown(results: dict[str, Any]) -> str:
    m = results["machine"]
    lines = [
        f"Run of {results['started']} (`{results['command']}`), {results['seconds']:.0f} s in all.",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['ram_gb']} GB RAM; {m['os']}; Python {m['python']}, "
        f"Django {m['django']}, PostgreSQL {m['postgresql']}, Redis {m['redis']}. gunicorn "
        f"{results['stack']['gunicorn_workers']} sync workers, Celery worker concurrency "
        f"{results['stack']['worker_concurrency']}, DEBUG off. Load average when the run started (1, 5, 15 min): "
        f"{', '.join(str(x) for x in results.get('load_average_at_start', []))}.",
        "",
    ]
    data = results.get("data", {})
    if data:
        lines += ["Data sets:", ""]
        for size, d in data.items():
            extra = ", ".join(f"{d[k]} {k.replace('_', ' ')}" for k in ("events", "scores", "flags") if d.get(k))
            lines.append(
                f"- {size}: {d['units']} units, rounds {d['rounds'][0]}–{d['rounds'][-1]}, {d['submissions']} forms, "
                f"{d['cases']} cases, {d['designations']} designations" + (f", {extra}" if extra else "")
            )
        lines.append("")
    rows = targets(results)
    lines += ["### Targets", "", "| target | figure | limit | verdict | from |", "|---|---|---|---|---|"]
    for row in rows:
        figure = "—" if row["figure"] is None else f"{row['figure']}{row['unit']}"
        lines.append(
            f"| {row['group']}: {row['what']} | {figure} | ≤ {row['limit']}{row['unit']} | {verdict(row)} | "
            f"{row['detail']} |"
        )
    pages = results.get("pages")
    if pages:
        lines += [
            "",
            "### Pages, one request at a time",
            "",
            f"{results['samples']} requests each, taking turns with the floor and with each other. Server time: "
            "the app's own (`Server-Timing`, first middleware to finished response); client: the round trip "
            "from a client on the same machine.",
            "",
            "| page | server median ms | server p95 ms | of which SQL ms | client median ms | queries "
            "| floor median ms | × floor | KB |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        lines += [_page_row(page) for page in pages.values()]
    whatif = results.get("whatif")
    if whatif:
        lines += [
            "",
            "### What-if beside the dashboard API",
            "",
            f"{results['samples']} requests each, the four taking turns request by request, each after the floor.",
            "",
            "| page | server median ms | server p95 ms | of which SQL ms | client median ms | queries "
            "| floor median ms | × floor | KB |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        lines += [_page_row(page) for page in whatif.values()]
    excel = results.get("excel")
    if excel:
        lines += [
            "",
            "### Excel imports, in process",
            "",
            f"{excel['samples']} imports of each kind (medians; p95 in brackets for the raw read). The app's "
            "read: the zip pre-flight, the bounded read and every cell checked, no database.",
            "",
            "| workbook | cities | changes per import | file KB | raw openpyxl read ms | app's read ms | × read "
            "| dry run ms (queries) | × read | import ms (queries) | × read |",
            "|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for kind in ("province", "city"):
            e = excel[kind]
            raw = e["raw_read"]["ms"]["median"]
            lines.append(
                f"| {kind} | {e['cities']} | {e['changes']} | {e['file_bytes'] / 1024:.0f} | {raw:.1f} "
                f"(p95 {e['raw_read']['ms']['p95']:.1f}) | {e['read']['ms']['median']:.1f} | "
                f"{_ratio(e['read']['ms']['median'], raw)} | {e['dry_run']['ms']['median']:.1f} "
                f"({e['dry_run']['queries']}) | {_ratio(e['dry_run']['ms']['median'], raw)} | "
                f"{e['apply']['ms']['median']:.1f} ({e['apply']['queries']}) | "
                f"{_ratio(e['apply']['ms']['median'], raw)} |"
            )
    scoring = results.get("scoring")
    if scoring:
        s = scoring
        lines += [
            "",
            "### Scoring, with a real worker",
            "",
            f"{s['submissions']} submissions, worker concurrency {s['concurrency']} (`bench/scoring.py`).",
            "",
            "| figure | median | p95 |",
            "|---|---|---|",
            f"| empty Celery task, round trip (ms) | {s['empty_round_trip_ms']['median']} | "
            f"{s['empty_round_trip_ms']['p95']} |",
            f"| submit → score committed (ms) | {s['submit_to_scored_ms']['median']} | "
            f"{s['submit_to_scored_ms']['p95']} |",
            f"| … of which delivery: submit returned → worker claimed (ms) | {s['delivery_ms']['median']} | "
            f"{s['delivery_ms']['p95']} |",
            f"| … and the scoring itself: claimed → score row made (ms) | {s['scoring_work_ms']['median']} | "
            f"{s['scoring_work_ms']['p95']} |",
            f"| the submit call itself (ms) | {s['submit_call_ms']['median']} | {s['submit_call_ms']['p95']} |",
            f"| empty tasks per second (burst) | {s['empty_tasks_per_second']} | |",
            f"| submissions scored per second (whole round again) | {s['scored_per_second']} | |",
            "",
            f"Delivery p95 ÷ empty task p95: {s['ratios'].get('delivery_vs_empty_round_trip_p95')}×; "
            f"empty tasks per second ÷ submissions scored per second: "
            f"{s['ratios']['empty_tasks_vs_scored_per_second']}×.",
        ]
    load = results.get("load")
    if load:
        total, after = load["total"], load["scoring"]
        lines += [
            "",
            f"### Load: {load['users']} users ({load['mix']['city']} city, {load['mix']['bureau']} bureau, "
            f"{load['mix']['ministry']} ministry) for {load['seconds']} s",
            "",
            f"{total['requests']} requests, {total['rps']} per second, {total['failures']} errors; all requests "
            f"p50 {_ms(total, 'median_ms')} ms, p95 {_ms(total, 'p95_ms')} ms (client side, locust). "
            f"Submitted during the load: {after['submitted']}, scored {after['scored']}, failed "
            f"{after['failed']}, still pending {after['still_pending']}; the queue was empty "
            f"{after['drained_after_s']} s after the load ended; submit → score committed median "
            f"{after['submit_to_scored_ms']['median']} ms, p95 {after['submit_to_scored_ms']['p95']} ms. "
            f"Load average before and after: {load.get('load_average', {}).get('before')} → "
            f"{load.get('load_average', {}).get('after')}.",
            "",
            "| page | requests | errors | client p50 ms | client p95 ms | server p50 ms | server p95 ms |",
            "|---|---|---|---|---|---|---|",
        ]
        for name, page in sorted(load["pages"].items()):
            server = page.get("server_ms") or {}
            lines.append(
                f"| {name} | {page['requests']} | {page['failures']} | {_ms(page, 'median_ms')} | "
                f"{_ms(page, 'p95_ms')} | {_ms(server, 'median')} | {_ms(server, 'p95')} |"
            )
        for failure in load["failures"][:10]:
            lines.append(f"\nError: {failure['name']}: {failure['error']} ({failure['occurrences']}×)")
    backups = results.get("backup")
    if backups:
        lines += [
            "",
            "### Backup and restore",
            "",
            "`manage.py backup` and `manage.py restore` (`bench/backup.py`): one evidence file per reported form of "
            "the current round added first; the restore goes into a new, empty database and media folder and "
            "includes checking every table's row count and every file's checksum against the manifest.",
            "",
            "| data set | rows | dump MiB | evidence files | media MiB | archive MiB | backup s | restore s |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for size, r in backups.items():
            b = r["backup"]
            lines.append(
                f"| {size} | {b['rows']} | {b['dump_bytes'] / 2**20:.1f} | {b['files']} | "
                f"{b['media_bytes'] / 2**20:.1f} | {b['archive_bytes'] / 2**20:.1f} | {b['seconds']} | "
                f"{r['restore']['seconds']} |"
            )
    return "\n".join(lines) + "\n"


def write(results: dict[str, Any]) -> tuple[Path, Path]:
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = results["started"].replace(":", "").replace("-", "")[:15]
    json_path = RESULTS / f"bench-{stamp}.json"
    md_path = RESULTS / f"bench-{stamp}.md"
    json_path.write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")
    md_path.write_text(markdown(results), encoding="utf-8")
    (RESULTS / "latest.json").write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")
    return json_path, md_path


def publish(results: dict[str, Any]) -> Path:
    """Replace the generated part of docs/benchmarks.md (between the markers) with this run."""
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else f"# Benchmarks\n\n{BEGIN}\n{END}\n"
    if BEGIN not in text or END not in text:
        text = text.rstrip("\n") + f"\n\n{BEGIN}\n{END}\n"
    head, rest = text.split(BEGIN, 1)
    _old, tail = rest.split(END, 1)
    DOC.write_text(f"{head}{BEGIN}\n{markdown(results)}{END}{tail}", encoding="utf-8")
    return DOC


def now_iso() -> str:
    return datetime.datetime.now(datetime.UTC).astimezone().isoformat(timespec="seconds")
