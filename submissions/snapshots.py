"""A submission's data as plain JSON, and the difference between two such snapshots.

Events keep a snapshot so that, on resubmission, the bureau sees exactly what changed since it
returned the form; data changes are recorded with the same diff.
"""

from __future__ import annotations

import datetime
from typing import Any

from indicators.catalogue import INPUT_NAMES, KEY_SITE_FIELDS

BASIC_FIELDS = ("data_as_of", "contact_name", "contact_phone", "contact_email")
PRACTICE_FIELDS = ("practice_network", "practice_users", "practice_applications", "support_policies")
DATA_FIELDS = (*BASIC_FIELDS, *INPUT_NAMES, *KEY_SITE_FIELDS, *PRACTICE_FIELDS)
CASE_FIELDS = ("title", "domain", "description", "pain_points", "replicability", "partners")


def _plain(value: Any) -> Any:
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def case_snapshot(case) -> dict:
    return {"id": case.pk, **{name: getattr(case, name) for name in CASE_FIELDS}}


def snapshot(submission, cases=None) -> dict:
    """Every field a city can change, and its cases in order (`cases`: the submission's cases, in
    order, when the caller has them already)."""
    return {
        "fields": {name: _plain(getattr(submission, name)) for name in DATA_FIELDS},
        "cases": [case_snapshot(case) for case in (submission.cases.all() if cases is None else cases)],
    }


def diff(before: dict, after: dict) -> dict[str, list]:
    """{key: [before, after]} for every field and case field that differs. Cases are matched by id:
    `case:<id>` with None on one side is a case added or removed; `case:<id>.title` a change."""
    changes: dict[str, list] = {}
    old_fields, new_fields = before.get("fields", {}), after.get("fields", {})
    for name in DATA_FIELDS:
        if old_fields.get(name) != new_fields.get(name):
            changes[name] = [old_fields.get(name), new_fields.get(name)]
    old_cases = {c["id"]: c for c in before.get("cases", [])}
    new_cases = {c["id"]: c for c in after.get("cases", [])}
    for case_id in old_cases.keys() - new_cases.keys():
        changes[f"case:{case_id}"] = [old_cases[case_id]["title"], None]
    for case_id, case in new_cases.items():
        old = old_cases.get(case_id)
        if old is None:
            changes[f"case:{case_id}"] = [None, case["title"]]
            continue
        for name in CASE_FIELDS:
            if old.get(name) != case.get(name):
                changes[f"case:{case_id}.{name}"] = [old.get(name), case.get(name)]
    old_order = [c["id"] for c in before.get("cases", []) if c["id"] in new_cases]
    new_order = [c["id"] for c in after.get("cases", []) if c["id"] in old_cases]
    if old_order != new_order:
        changes["cases.order"] = [old_order, new_order]
    return changes
