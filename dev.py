#!/usr/bin/env python3
"""The two Quick-start commands, needing nothing but Python 3.11 or newer:

    python3 dev.py run    set up, load reference and demo data, and serve http://127.0.0.1:8000
    python3 dev.py test   set up and run the whole test suite

Both create a virtual environment in .venv (once; again only when pyproject.toml changes). Without
DATABASE_URL the app uses a SQLite file in var/, without CELERY_BROKER_URL tasks run in-process.
Tests that need PostgreSQL, Redis or Chromium skip with a printed reason when those are missing,
except in CI (CI=true), where they fail.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".installed"


def run(*args: str | Path, **kwargs) -> None:
    print("+", " ".join(str(a) for a in args), flush=True)
    subprocess.run([str(a) for a in args], cwd=ROOT, check=True, **kwargs)


OLDEST_PYTHON = (3, 11)  # as pyproject.toml's requires-python; nothing newer is refused


def python_supported(version: tuple[int, ...]) -> bool:
    return tuple(version[:2]) >= OLDEST_PYTHON


def setup() -> None:
    if not python_supported(sys.version_info):
        sys.exit(f"gigacity needs Python 3.11 or newer; this is {sys.version.split()[0]}.")
    if not PYTHON.exists():
        print("Creating the virtual environment in .venv ...", flush=True)
        venv.create(VENV, with_pip=True)
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if not STAMP.exists() or STAMP.read_text().strip() != wanted:
        run(PYTHON, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
        run(PYTHON, "-m", "pip", "install", "--quiet", "-e", ".[dev]")
        STAMP.write_text(wanted)


def manage(*args: str) -> None:
    run(PYTHON, "manage.py", *args)


def cmd_run(extra: list[str]) -> None:
    """`run [ADDRESS] [runserver options]`: ADDRESS as runserver takes it (8020, 0.0.0.0:8000)."""
    options = [arg for arg in extra if arg.startswith("-")]
    address = next((arg for arg in extra if not arg.startswith("-")), "127.0.0.1:8000")
    if ":" not in address:  # a port alone
        address = f"127.0.0.1:{address}"
    host, _sep, port = address.rpartition(":")
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{port}"
    # Links in notification e-mails (and the logins printed by seed_demo) point at the address
    # served, unless GIGACITY_SITE_URL says otherwise.
    os.environ.setdefault("GIGACITY_SITE_URL", url)
    setup()
    manage("migrate", "--noinput")
    manage("load_reference")
    manage("seed_demo")
    print(f"\nServing gigacity at {url}/ (Ctrl+C to stop)\n", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        manage("runserver", address, *options)


def cmd_test(extra: list[str]) -> None:
    setup()
    run(PYTHON, "-m", "pytest", *extra)


def main() -> None:
    commands = {"run": cmd_run, "test": cmd_test, "setup": lambda extra: setup()}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        sys.exit(__doc__)
    try:
        commands[sys.argv[1]](sys.argv[2:])
    except subprocess.CalledProcessError as exc:
        sys.exit(exc.returncode)


if __name__ == "__main__":
    main()
