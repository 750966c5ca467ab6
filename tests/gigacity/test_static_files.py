"""Production serves the collected static files compressed (brotli, else gzip) under hashed names
that browsers may keep for a year; the dashboards' ECharts is the build with only what they draw.

The test does what a deployment does (Dockerfile): collectstatic with DJANGO_DEBUG=0 into a fresh
directory, then gunicorn in production mode behind a TLS proxy, asked over HTTP as a browser asks."""

from __future__ import annotations

import json
import os
import socket
import sys
import time
import urllib.request

import pytest

from gigacity.processes import Process

from .test_settings import PRODUCTION, manage

pytestmark = pytest.mark.slow

ECHARTS = "vendor/echarts/echarts-dashboard.min.js"
# The full ECharts the dashboards loaded before: dist/echarts.min.js of echarts 5.6.0.
FULL_ECHARTS_BYTES = 1_034_102


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(port: int, path: str, encoding: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        headers={
            "Host": PRODUCTION["DJANGO_ALLOWED_HOSTS"],
            "X-Forwarded-Proto": "https",  # as the TLS-terminating proxy says
            "Accept-Encoding": encoding,
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, dict(response.headers), response.read()


@pytest.fixture(scope="module")
def production(tmp_path_factory):
    """collectstatic with DEBUG off into a temporary directory, served by gunicorn."""
    root = tmp_path_factory.mktemp("static")
    env = {**PRODUCTION, "DJANGO_STATIC_ROOT": str(root), "DJANGO_BEHIND_PROXY": "1"}
    # The admin's, DRF's and the API docs' files are compressed the same way; leaving them out keeps
    # the test quick (compressing their megabytes with brotli takes a minute on two cores).
    skip = ["-i", "admin", "-i", "rest_framework", "-i", "drf_spectacular_sidecar"]
    collected = manage("collectstatic", "--noinput", *skip, env=env)
    assert collected.returncode == 0, collected.stdout + collected.stderr
    manifest = json.loads((root / "staticfiles.json").read_text())["paths"]

    port = free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    server = Process(
        "gunicorn",
        [sys.executable, "-m", "gunicorn", "gigacity.wsgi", "-b", f"127.0.0.1:{port}", "-w", "1"],
        env={**clean, **env},
        log=root.parent / "gunicorn.log",
    ).start()
    try:
        for _ in range(150):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert server.running, server.tail()
                time.sleep(0.2)
        yield port, manifest
    finally:
        server.stop(timeout=10)


@pytest.mark.parametrize(("accepted", "served"), [("br, gzip", "br"), ("gzip", "gzip"), ("identity", None)])
def test_static_files_are_served_compressed_to_browsers_that_accept_it(production, accepted, served):
    port, manifest = production

    status, headers, body = fetch(port, f"/static/{manifest[ECHARTS]}", accepted)
    _status, _headers, plain = fetch(port, f"/static/{manifest['css/gigacity.css']}", accepted)

    assert status == 200
    assert headers.get("Content-Encoding") == served
    assert "Accept-Encoding" in headers.get("Vary", "")
    assert "max-age=315360000" in headers["Cache-Control"] and "immutable" in headers["Cache-Control"]
    assert _headers.get("Content-Encoding") == served and len(plain) > 0
    if served:
        # What a browser downloads for the charts: a fifth of the full ECharts it loaded before.
        assert len(body) < FULL_ECHARTS_BYTES / 4, len(body)
    else:
        assert len(body) < FULL_ECHARTS_BYTES * 0.65, len(body)


def test_the_dashboards_echarts_is_hashed_and_the_full_build_is_gone(production):
    _port, manifest = production

    assert ECHARTS in manifest and manifest[ECHARTS] != ECHARTS
    assert "vendor/echarts/echarts.min.js" not in manifest


def test_pages_link_the_hashed_names_every_time(production):
    """The storage works each file's URL out once per process (`gigacity.storage`): the second page
    links the same hashed files as the first, which the server then serves."""
    port, manifest = production
    pages = [fetch(port, "/login/", "identity")[2].decode() for _ in range(2)]
    for name in ("css/gigacity.css", "js/gigacity.js"):
        assert all(f'/static/{manifest[name]}"' in page for page in pages), name
        assert fetch(port, f"/static/{manifest[name]}", "identity")[0] == 200
