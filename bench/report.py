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
CURVE_PICTURE = ROOT / "docs" / "load-curve.png"
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
MAX_DRAIN_SECONDS = 60.0  # the worker's queue empty within a minute of the load's end
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
        errors = max(load["total"]["failures"], load.get("failures_from_start", 0))
        add("load", "errors", errors, 0, "", f"ramp and hold; {load['total']['requests']} requests held")
        for name, page in sorted(load["pages"].items()):
            add("load", f"p95 {name}", page["p95_ms"], MAX_LOAD_P95_MS, "ms", f"{page['requests']} requests")
        after = load["scoring"]
        add(
            "load",
            "queue drained after the load (s)",
            after["drained_after_s"],
            MAX_DRAIN_SECONDS,
            "s",
            f"{after['scored']} of {after['submitted']} submitted scored, {after['still_pending']} still pending",
        )
        if after["still_pending"]:
            rows[-1]["met"] = False  # the wait gave up with forms still waiting
    curve = results.get("load_curve")
    if curve:
        users = (load or {}).get("users") or max(row["users"] for row in curve["steps"])
        for key, what in (("crosses_at_users", "all requests"), ("worst_page_crosses_at_users", "worst page")):
            crossed = curve[key]
            rows.append(
                {
                    "group": "load curve",
                    "what": f"users at which p95 ({what}) first exceeds {curve['limit_ms']:.0f} ms",
                    "figure": crossed,
                    "limit": users,
                    "unit": " users",
                    "met": crossed is None or crossed > users,
                    "detail": f"not crossed up to {max(row['users'] for row in curve['steps'])} users"
                    if crossed is None
                    else "must stay above the deadline day's users",
                }
            )
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


def _bound(row: dict[str, Any]) -> str:
    return ">" if row["group"] == "load curve" else "≤"


def verdict(row: dict[str, Any]) -> str:
    return {True: "met", False: "MISSED", None: "not measured"}[row["met"]]


def print_targets(rows: list[dict[str, Any]]) -> None:
    print("\nTargets")
    for row in rows:
        figure = "—" if row["figure"] is None else f"{row['figure']}{row['unit']}"
        limit = f"{_bound(row)} {row['limit']}{row['unit']}"
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


def _gunicorn(results: dict[str, Any]) -> str:
    g = results["stack"].get("gunicorn")
    if not g:  # a run from before gunicorn.conf.py
        return f"{results['stack']['gunicorn_workers']} sync workers"
    return f"{g['workers']} {g['worker_class']} workers × {g['threads']} threads"


def markdown(results: dict[str, Any], *, picture: str | None = None) -> str:
    m = results["machine"]
    lines = [
        f"Run of {results['started']} (`{results['command']}`), {results['seconds']:.0f} s in all.",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['ram_gb']} GB RAM; {m['os']}; Python {m['python']}, "
        f"Django {m['django']}, PostgreSQL {m['postgresql']}, Redis {m['redis']}. gunicorn {_gunicorn(results)}, "
        "Celery worker concurrency "
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
            f"| {row['group']}: {row['what']} | {figure} | {_bound(row)} {row['limit']}{row['unit']} | "
            f"{verdict(row)} | {row['detail']} |"
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
    lines += load_markdown(results, picture=picture)
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


def _cores(cpu: dict[str, Any], name: str) -> str:
    figures = cpu.get(name)
    return f"{figures['mean']:.2f} | {figures['p95']:.2f} | {figures['max']:.2f}" if figures else "— | — | —"


def load_markdown(results: dict[str, Any], *, picture: str | None) -> list[str]:
    """The deadline day, the server's CPU, the worst page's profile, the load curve, and the missed
    load targets, each with the place for its cause."""
    load, curve = results.get("load"), results.get("load_curve")
    lines: list[str] = []
    if load:
        total, after, mix = load["total"], load["scoring"], load["mix"]
        errors = max(total["failures"], load.get("failures_from_start", 0))
        lines += [
            "",
            f"### Load: the deadline day, {load['users']} users ({mix['city']} city, {mix['bureau']} bureau, "
            f"{mix['ministry']} ministry), started over {load.get('ramp_seconds', 0)} s and held for "
            f"{load['seconds']} s",
            "",
            f"Held at full strength: {total['requests']} requests, {total['rps']} per second, all requests p50 "
            f"{_ms(total, 'median_ms')} ms, p95 {_ms(total, 'p95_ms')} ms (client side, locust); {errors} errors "
            f"from the first user on. Submitted during the load: {after['submitted']}, scored {after['scored']}, "
            f"failed {after['failed']}, still pending {after['still_pending']}; the queue was empty "
            f"{after['drained_after_s']} s after the load ended; submit → score committed median "
            f"{after['submit_to_scored_ms']['median']} ms, p95 {after['submit_to_scored_ms']['p95']} ms. "
            f"Load average before and after: {load.get('load_average', {}).get('before')} → "
            f"{load.get('load_average', {}).get('after')}."
            + (
                f" The whole load stage (deadline day and curve) took {results['load_stage_seconds']:.0f} s."
                if results.get("load_stage_seconds")
                else ""
            ),
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
            lines.append(f"\\nError: {failure['name']}: {failure['error']} ({failure['occurrences']}×)")
        cpu = load.get("cpu") or {}
        if cpu:
            lines += [
                "",
                f"CPU while held, sampled every second from /proc ({cpu['samples']} samples), in cores of the "
                f"machine's {cpu['cores']} (1.00 = one core busy):",
                "",
                "| processes | mean | p95 | max |",
                "|---|---|---|---|",
                f"| **the server: gunicorn + worker + PostgreSQL** | {_cores(cpu, 'server')} |",
                f"| gunicorn (master and workers) | {_cores(cpu, 'gunicorn')} |",
                f"| Celery worker | {_cores(cpu, 'worker')} |",
                f"| PostgreSQL backends of the run's database | {_cores(cpu, 'postgres')} |",
                f"| the whole machine (locust and everybody else included) | {_cores(cpu, 'machine')} |",
            ]
        worst, profile = load.get("worst_page") or {}, load.get("profile") or {}
        if worst.get("name"):
            lines += ["", f"Worst page while held: **{worst['name']}**, client p95 {worst['p95_ms']} ms."]
            if profile.get("text"):
                what = "its time" if profile["page"] == worst["name"] else f"the time of {profile['page']}"
                lines += [
                    f"Where {what} goes: pyinstrument over {profile['requests']} requests of `{profile['path']}` "
                    f"made after the load in the benchmark's own process (Django's test client, the same settings, "
                    f"session and database; median {profile['ms']['median']} ms each), top frames:",
                    "",
                    "```",
                    profile["text"],
                    "```",
                ]
            else:
                lines.append(profile.get("note", "Not profiled."))
    if curve:
        crossed, page_crossed = curve["crosses_at_users"], curve["worst_page_crosses_at_users"]
        top = max(row["users"] for row in curve["steps"])
        lines += [
            "",
            f"### Load curve: p95 and errors as users are added ({_curve_pace(curve)}, "
            f"{curve['seconds']} s held per step)",
            "",
        ]
        if picture:
            lines += [f"![Load curve: users → p95 and errors]({picture})", ""]
        lines += [
            "p95 of all requests first exceeds "
            f"{curve['limit_ms']:.0f} ms at "
            + (f"**{crossed} users**" if crossed else f"no step (not up to {top} users)")
            + "; the worst page's p95 at "
            + (f"**{page_crossed} users**" if page_crossed else f"no step (not up to {top} users)")
            + ".",
            "",
            "| users | started in s | requests | per second | errors | p50 ms | p95 ms | worst page (p95 ms) "
            "| queue empty after s |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for row in curve["steps"]:
            lines.append(
                f"| {row['users']} | {row.get('ramp_seconds', curve.get('ramp_seconds', '—'))} | {row['requests']} | "
                f"{row['rps']} | {row['errors']} | {_ms(row, 'p50_ms')} | "
                f"{_ms(row, 'p95_ms')} | {row['worst_page']} ({_ms(row, 'worst_page_p95_ms')}) | "
                f"{row['drained_after_s']} |"
            )
        for row in curve["steps"]:
            for failure in row.get("failures", []):
                what = f"{failure['name']}: {failure['error']} ({failure['occurrences']}×)"
                lines.append(f"\nError at {row['users']} users: {what}")
    missed = [row for row in targets(results) if row["group"] in ("load", "load curve") and row["met"] is False]
    if missed:
        lines += [
            "",
            "Missed load targets (their causes are explained in *Load: the deadline day* above the figures; "
            "start from the worst page's profile and the CPU table):",
            "",
        ]
        lines += [f"- {row['group']}: {row['what']}: {row['figure']}{row['unit']} ({row['detail']})" for row in missed]
    return lines


def curve_picture(results: dict[str, Any], path: Path) -> Path | None:
    """The load curve as a picture: users → p95 (all requests and the worst page) and errors."""
    curve = results.get("load_curve")
    if not curve or not curve["steps"]:
        return None
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    steps = curve["steps"]
    users = [row["users"] for row in steps]
    figure, p95_axis = pyplot.subplots(figsize=(8, 4.5), dpi=100)
    p95_axis.plot(users, [row["p95_ms"] for row in steps], "o-", color="tab:blue", label="p95, all requests")
    p95_axis.plot(
        users, [row["worst_page_p95_ms"] for row in steps], "s--", color="tab:purple", label="p95, worst page"
    )
    p95_axis.axhline(curve["limit_ms"], color="tab:red", linestyle=":", label=f"target {curve['limit_ms']:.0f} ms")
    p95_axis.set_xlabel("simulated users")
    p95_axis.set_ylabel("p95 response time (ms, client side)")
    highest = max((row["worst_page_p95_ms"] or 0) for row in steps)
    if highest > 10 * curve["limit_ms"]:
        p95_axis.set_yscale("log")  # seconds of queueing beside the 300 ms line: both stay readable
    else:
        p95_axis.set_ylim(bottom=0)
    error_axis = p95_axis.twinx()
    error_axis.bar(users, [row["errors"] for row in steps], width=8, alpha=0.35, color="tab:orange", label="errors")
    error_axis.set_ylabel("errors")
    error_axis.set_ylim(bottom=0, top=max(5, *(row["errors"] * 1.2 for row in steps)))
    handles = p95_axis.get_legend_handles_labels()
    more = error_axis.get_legend_handles_labels()
    p95_axis.legend(handles[0] + more[0], handles[1] + more[1], loc="upper left")
    loadavg = results.get("load_average_at_start") or ["?"]
    p95_axis.set_title(
        f"Load curve ({curve['seconds']} s per step), {results['started'][:10]}; "
        f"load average at the start {loadavg[0]} on {results['machine']['cores']} cores"
    )
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    pyplot.close(figure)
    return path


def write(results: dict[str, Any]) -> tuple[Path, Path]:
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = results["started"].replace(":", "").replace("-", "")[:15]
    json_path = RESULTS / f"bench-{stamp}.json"
    md_path = RESULTS / f"bench-{stamp}.md"
    json_path.write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")
    picture = curve_picture(results, RESULTS / f"bench-{stamp}-load-curve.png")
    md_path.write_text(markdown(results, picture=picture.name if picture else None), encoding="utf-8")
    (RESULTS / "latest.json").write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")
    return json_path, md_path


def publish(results: dict[str, Any]) -> Path:
    """Replace the generated part of docs/benchmarks.md (between the markers) with this run."""
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else f"# Benchmarks\n\n{BEGIN}\n{END}\n"
    if BEGIN not in text or END not in text:
        text = text.rstrip("\n") + f"\n\n{BEGIN}\n{END}\n"
    head, rest = text.split(BEGIN, 1)
    _old, tail = rest.split(END, 1)
    picture = curve_picture(results, CURVE_PICTURE)
    DOC.write_text(f"{head}{BEGIN}\n{markdown(results, picture=picture and picture.name)}{END}{tail}", encoding="utf-8")
    return DOC


def now_iso() -> str:
    return datetime.datetime.now(datetime.UTC).astimezone().isoformat(timespec="seconds")


def _curve_pace(curve: dict[str, Any]) -> str:
    """How each step of the curve started its users (runs before 2026-12-07's third published one:
    all within a fixed ramp)."""
    if "arrivals_per_second" in curve:
        return f"users started at the deadline day's pace, {curve['arrivals_per_second']:.1f} a second"
    return f"{curve['ramp_seconds']} s ramp"
