"""Mutants of the workflow's transition table, and whether the workflow tests kill each one.

mutmut mutates functions, not module-level data such as `submissions.workflow.TRANSITIONS`, so this
harness writes the table's mutants itself: for every action, drop its role, add each other role,
drop each state it starts from, add each other state, drop each kind of form it applies to, add each
other kind, flip whether a reason is required, and move its target to each other state. It runs the
tests once on the real table (they must pass), then once per mutant with the table changed in place,
stopping at the first failing test: a failure kills the mutant. The database and the other session
fixtures are set up once for the whole run.

    .venv/bin/python -m tests.table_mutants                  # every mutant, tests/submissions/test_workflow.py
    .venv/bin/python -m tests.table_mutants --list           # the mutants, without running anything
    .venv/bin/python -m tests.table_mutants tests/reviews/test_workflow_matrix.py   # other tests

It exits non-zero when a mutant survives. docs/mutation.md has the last run.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Iterator

import pytest

DEFAULT_TESTS = ["tests/submissions/test_workflow.py"]


def mutants() -> Iterator[tuple[str, str, object]]:
    """(name, action, changed transition) for every mutant of the table."""
    from gigacity.models import Role
    from submissions.models import FormKind, Status
    from submissions.workflow import TRANSITIONS

    for action, rule in TRANSITIONS.items():
        name = action.value
        for role in rule.roles:
            yield (
                f"{name}: without role {role}",
                action,
                dataclasses.replace(rule, roles=tuple(r for r in rule.roles if r != role)),
            )
        for role in Role:
            if role not in rule.roles:
                yield f"{name}: also role {role}", action, dataclasses.replace(rule, roles=(*rule.roles, role))
        for state in rule.sources:
            yield (
                f"{name}: not from {state}",
                action,
                dataclasses.replace(rule, sources=tuple(s for s in rule.sources if s != state)),
            )
        for state in Status:
            if state not in rule.sources:
                yield f"{name}: also from {state}", action, dataclasses.replace(rule, sources=(*rule.sources, state))
        for kind in rule.kinds:
            yield (
                f"{name}: not for {kind}",
                action,
                dataclasses.replace(rule, kinds=tuple(k for k in rule.kinds if k != kind)),
            )
        for kind in FormKind:
            if kind not in rule.kinds:
                yield f"{name}: also for {kind}", action, dataclasses.replace(rule, kinds=(*rule.kinds, kind))
        yield (
            f"{name}: reason {'not ' if rule.reason_required else ''}required",
            action,
            dataclasses.replace(rule, reason_required=not rule.reason_required),
        )
        for state in Status:
            if state != rule.target:
                yield f"{name}: to {state} instead of {rule.target}", action, dataclasses.replace(rule, target=state)


class _Failures:
    def __init__(self):
        self.nodeids: list[str] = []

    def pytest_runtest_logreport(self, report):
        if report.failed:
            self.nodeids.append(report.nodeid)


def _run_until_first_failure(session, failures: _Failures) -> str | None:
    """Run the collected tests in order; the id of the first that fails, or None. Each test is
    told that the first test comes next after the last, so session fixtures stay set up."""
    items = session.items
    failures.nodeids.clear()
    for index, item in enumerate(items):
        nextitem = items[index + 1] if index + 1 < len(items) else items[0]
        item.config.hook.pytest_runtest_protocol(item=item, nextitem=nextitem)
        if failures.nodeids:
            return failures.nodeids[0]
    return None


def pytest_runtestloop(session):
    if session.config.option.collectonly or not session.items:
        return None
    from submissions import workflow

    write = session.config.pluginmanager.get_plugin("terminalreporter").write_line
    failures = _Failures()
    session.config.pluginmanager.register(failures, "table-mutant-failures")
    original = dict(workflow.TRANSITIONS)

    failed = _run_until_first_failure(session, failures)
    if failed:
        write(f"\nThe tests fail on the real table ({failed}): fix them before counting mutants.")
        session.testsfailed = 1
        return True

    survivors, killed = [], []
    for name, action, changed in mutants():
        workflow.TRANSITIONS[action] = changed
        try:
            killer = _run_until_first_failure(session, failures)
        finally:
            workflow.TRANSITIONS.clear()
            workflow.TRANSITIONS.update(original)
        (killed if killer else survivors).append((name, killer))

    write("")
    for name, killer in killed:
        write(f"killed    {name:<45} by {killer}")
    for name, _killer in survivors:
        write(f"SURVIVED  {name}")
    total = len(killed) + len(survivors)
    write(f"\ntable mutants: {total}, killed {len(killed)}, survived {len(survivors)}")
    write("(pytest's count of failed tests below is the mutants being killed, one failure each)")
    session.testsfailed = len(survivors)
    return True


def main(argv: list[str]) -> int:
    if "--list" in argv:
        import django

        django.setup()
        for name, _action, _changed in mutants():
            print(name)  # noqa: T201
        return 0
    tests = [arg for arg in argv if not arg.startswith("-")] or DEFAULT_TESTS
    options = [arg for arg in argv if arg.startswith("-")]
    # -rN: the harness prints its own summary; the failures it provokes are expected.
    return int(pytest.main([*tests, "-q", "--tb=no", "-rN", *options], plugins=[sys.modules[__name__]]))


if __name__ == "__main__":
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gigacity.settings")
    sys.exit(main(sys.argv[1:]))
