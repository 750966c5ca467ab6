"""Production hardening, security headers and the checks `check --deploy` cannot make."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "k" * 20 + "-production-secret-of-sufficient-length-and-variety-9f3a",
    "DJANGO_ALLOWED_HOSTS": "gigacity.example.gov.cn",
}


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_passes_with_production_values():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("missing", ["DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS"])
def test_production_refuses_to_start_without_its_secrets_and_names_the_variable(missing):
    env = {k: v for k, v in PRODUCTION.items() if k != missing}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert f"{missing} is required when DJANGO_DEBUG=0" in result.stderr


def test_defusedxml_guards_openpyxl():
    assert openpyxl.DEFUSEDXML is True


def test_pages_send_the_security_headers(client):
    response = client.get("/login/")
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
    assert "object-src 'none'" in csp and "frame-ancestors 'none'" in csp and "base-uri 'none'" in csp
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"


def test_media_files_are_never_served_directly(client, reference):
    assert client.get("/media/attachments/1/x.pdf").status_code in (302, 404)
    assert client.get("/media-not-served/attachments/1/x.pdf").status_code in (302, 404)


def test_healthz_reports_the_database(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.content == b"ok"


def test_seed_demo_refuses_to_run_in_production_mode(db, settings):
    from django.core.management import CommandError, call_command

    settings.DEBUG = False
    with pytest.raises(CommandError, match="DJANGO_DEBUG=0"):
        call_command("seed_demo")


@pytest.mark.parametrize(("pooling", "kept", "server_side"), [("", 60, False), ("1", 0, True)])
def test_behind_transaction_pooling_nothing_outlives_a_transaction(pooling, kept, server_side):
    """docs/scaling.md: with pgbouncer in transaction mode, DJANGO_DB_TRANSACTION_POOLING=1 keeps no
    connection, no server-side cursor and (gigacity.statements) no prepared statement."""
    show = (
        "from django.conf import settings; d = settings.DATABASES['default'];"
        "print(d['CONN_MAX_AGE'], d.get('DISABLE_SERVER_SIDE_CURSORS', False))"
    )
    env = {
        **PRODUCTION,
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/gigacity",
        "DJANGO_DB_TRANSACTION_POOLING": pooling,
    }
    result = manage("shell", "-c", show, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].split() == [str(kept), str(server_side)]
