"""A child process in its own process group, logging to a file: started by the worker tests (Celery
workers, a private Redis) and by the benchmark (gunicorn, a worker), so that either can stop it whole,
children included, or kill it outright, whatever happened to the caller. No Django here."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


class Process:
    def __init__(self, name: str, argv: list[str], *, env: dict[str, str], log: Path):
        self.name, self.argv, self.env, self.log = name, argv, env, log
        self.popen: subprocess.Popen | None = None

    def start(self) -> Process:
        with self.log.open("ab") as out:
            self.popen = subprocess.Popen(
                self.argv, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        return self

    @property
    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def kill(self) -> None:
        """kill -9 the whole process group: the main process and every child, with no warning."""
        if self.popen is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(timeout=60)

    def stop(self, timeout: float = 30) -> None:
        """Ask politely (SIGTERM: gunicorn and Celery finish what they are doing, a worker hands back
        its tasks), then kill: children may outlive their parent."""
        if self.popen is None:
            return
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=timeout)
        self.kill()

    def tail(self, lines: int = 150) -> str:
        """The last lines of the log, headed by the process's name."""
        try:
            text = self.log.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return ""
        return f"--- last lines of {self.name} ({self.log}) ---\n" + "\n".join(text[-lines:])
