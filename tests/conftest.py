"""Shared fixtures: real services when the environment provides them, one account per role, the
reference data, an open round.

Tests that need PostgreSQL, Redis or Chromium are marked. On a newcomer's machine without them they
skip with the reason printed; in CI (CI=true) a missing service fails the test instead, so a green
CI run always means those tests ran.
"""

from __future__ import annotations

import os
import shutil
import socket
from urllib.parse import urlparse

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from gigacity import statements
from gigacity.celery import app as celery_app
from gigacity.models import Province, Role
from gigacity.services import user_provision
from indicators.models import Round
from indicators.reference import open_round_now, reference_load

CI = os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
PASSWORD = "Test-pass-2026"


def _reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or default_port), timeout=2):
            return True
    except OSError:
        return False


def requirement_problem(marker: str) -> str | None:
    """Why a marked test cannot run here, or None when it can."""
    if marker == "postgres":
        if not settings.USING_POSTGRES:
            return "needs PostgreSQL: set DATABASE_URL=postgres://postgres@127.0.0.1:5432/gigacity"
    elif marker == "redis":
        url = os.environ.get("CELERY_BROKER_URL", "")
        if not url.startswith("redis://"):
            return "needs Redis: set CELERY_BROKER_URL=redis://127.0.0.1:6379/0"
        if not _reachable(url, 6379):
            return f"Redis at {url} is not reachable"
        if not shutil.which("redis-server"):
            return "needs the redis-server program (Debian package redis-server)"
    elif marker == "browser" and not os.path.exists(CHROMIUM):
        return f"needs Chromium at {CHROMIUM} (Debian packages chromium and fonts-noto-cjk)"
    return None


def pytest_runtest_setup(item):
    for marker in ("postgres", "redis", "browser"):
        if item.get_closest_marker(marker):
            problem = requirement_problem(marker)
            if problem:
                if CI:
                    pytest.fail(f"CI must run this test, but it {problem}", pytrace=False)
                pytest.skip(problem)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    # Reference data once per session: every test that rolls back keeps it.
    with django_db_blocker.unblock():
        reference_load()


@pytest.fixture
def reference(db):
    """The reference data, reloaded when a transactional test emptied the tables before."""
    if not Province.objects.exists():
        reference_load()


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path, request):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    # Rate limits and throttles count in the cache: every test starts with none counted.
    cache.clear()
    statements._KEPT.clear()  # rows kept under versions an earlier test's rolled-back data had
    # Ordinary tests run Celery tasks in-process; the worker tests (marked redis) use a real worker.
    eager = request.node.get_closest_marker("redis") is None
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = eager
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture
def open_round(reference) -> Round:
    """This year's round, open, with its deadline a month away."""
    return open_round_now(timezone.localdate())


def make_user(
    username: str, role: str, *, city: str | None = None, province: str | None = None, operator: str | None = None
):
    user, _created = user_provision(
        username=username,
        password=PASSWORD,
        role=role,
        city_code=city,
        province_code=province,
        operator_code=operator,
        full_name=username,
        email=f"{username}@example.cn",
    )
    return user


@pytest.fixture
def city_user(reference):
    """青岛 (370200), 山东."""
    return make_user("qingdao", Role.CITY, city="370200")


@pytest.fixture
def city_user_same_province(reference):
    """济南 (370100), also 山东."""
    return make_user("jinan", Role.CITY, city="370100")


@pytest.fixture
def city_user_other_province(reference):
    """徐州 (320300), 江苏."""
    return make_user("xuzhou", Role.CITY, city="320300")


@pytest.fixture
def bureau_user(reference):
    """山东省通信管理局 (370000)."""
    return make_user("shandong", Role.BUREAU, province="370000")


@pytest.fixture
def bureau_user_other_province(reference):
    """江苏省通信管理局 (320000)."""
    return make_user("jiangsu", Role.BUREAU, province="320000")


@pytest.fixture
def operator_user(reference):
    """中国移动's 山东 branch (370000)."""
    return make_user("sd_mobile", Role.OPERATOR, province="370000", operator="mobile")


@pytest.fixture
def operator_user_other(reference):
    """中国电信's 山东 branch: same province, another operator."""
    return make_user("sd_telecom", Role.OPERATOR, province="370000", operator="telecom")


@pytest.fixture
def operator_user_other_province(reference):
    """中国移动's 江苏 branch: same operator, another province."""
    return make_user("js_mobile", Role.OPERATOR, province="320000", operator="mobile")


@pytest.fixture
def ministry_user(reference):
    return make_user("miit", Role.MINISTRY)


@pytest.fixture
def admin_user(reference):
    return make_user("root", Role.ADMIN)


def statements_run(queries) -> list[str]:
    """The SQL of each statement captured, a prepared one's (EXECUTE) as the server holds it; without
    the savepoint and the PREPARE of a statement's first run on a connection."""
    run = []
    for query in queries:
        sql = query["sql"]
        if sql.startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "PREPARE ")):
            continue
        if sql.startswith("EXECUTE "):
            name = sql.removeprefix("EXECUTE ").split("(")[0]
            with connection.cursor() as cursor:
                cursor.execute("SELECT statement FROM pg_prepared_statements WHERE name = %s", [name])
                sql = cursor.fetchone()[0].split(" AS ", 1)[1]  # PREPARE name AS the statement
        run.append(sql)
    return run
