"""The security audit trail: every listed event is recorded with who, where from and what, and the
record cannot be changed; old records are pruned, never young ones; the security officer reads and
exports it, nobody else."""

from __future__ import annotations

import io
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.sessions.models import Session
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.test import RequestFactory
from django.utils import timezone
from openpyxl import load_workbook
from rest_framework.authtoken.models import Token

from gigacity.audit.context import AuditContextMiddleware
from gigacity.audit.services import audit_prune, sessions_expired_sweep
from gigacity.middleware import LOGIN_TIME_KEY
from gigacity.models import AuditEvent, AuditKind, City, Role, User
from gigacity.services import user_provision
from reviews.services import round_set_status, round_update, thresholds_update
from tests.conftest import PASSWORD, make_user

pytestmark = pytest.mark.django_db

BROWSER = "Mozilla/5.0 (Windows NT 10.0) 政务外网"


def events(kind: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(kind=kind).order_by("pk"))


def last(kind: str) -> AuditEvent:
    found = events(kind)
    assert found, f"no {kind} record"
    return found[-1]


def login(client, username, password, ip="10.1.2.3"):
    return client.post("/login/", {"username": username, "password": password}, REMOTE_ADDR=ip, HTTP_USER_AGENT=BROWSER)


def officer():
    return user_provision(
        username="anquan", password=PASSWORD, role=Role.MINISTRY, full_name="安全员", security_officer=True
    )[0]


# ------------------------------------------------------------------------------------------------
# Signing in and out
# ------------------------------------------------------------------------------------------------
def test_a_sign_in_is_recorded_with_the_account_its_address_and_its_browser(client, city_user):
    login(client, city_user.username, PASSWORD)

    event = last(AuditKind.LOGIN)
    assert (event.actor, event.username, event.role) == (city_user, "qingdao", Role.CITY)
    assert (event.ip_address, event.user_agent, event.path) == ("10.1.2.3", BROWSER, "/login/")


def test_a_failed_sign_in_is_recorded_with_the_name_that_was_typed(client, city_user):
    login(client, "qingdao", "wrong-password", ip="10.9.9.9")
    login(client, "no-such-person", "whatever", ip="10.9.9.9")

    failed = events(AuditKind.LOGIN_FAILED)
    assert [(e.username, e.actor, e.ip_address, e.user_agent) for e in failed] == [
        ("qingdao", None, "10.9.9.9", BROWSER),
        ("no-such-person", None, "10.9.9.9", BROWSER),
    ]
    assert "wrong-password" not in str([e.details for e in failed])


def test_a_lockout_and_every_attempt_while_locked_out_are_recorded_once_each(client, city_user, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(client, "qingdao", "wrong")
    assert login(client, "qingdao", PASSWORD).status_code == 429

    assert len(events(AuditKind.LOGIN_FAILED)) == settings.AXES_FAILURE_LIMIT - 1
    lockouts = events(AuditKind.LOCKOUT)
    assert len(lockouts) == 2  # the attempt that locked it, and the one refused afterwards
    assert {(e.username, e.ip_address, e.user_agent) for e in lockouts} == {("qingdao", "10.1.2.3", BROWSER)}
    assert not events(AuditKind.LOGIN)


def test_a_logout_is_recorded(client, city_user):
    login(client, city_user.username, PASSWORD)
    client.post("/logout/", REMOTE_ADDR="10.1.2.3", HTTP_USER_AGENT=BROWSER)

    event = last(AuditKind.LOGOUT)
    assert (event.actor, event.ip_address) == (city_user, "10.1.2.3")


def test_a_session_past_its_lifetime_is_recorded_as_expired_not_as_a_logout(client, city_user, settings):
    login(client, city_user.username, PASSWORD)
    session = client.session
    session[LOGIN_TIME_KEY] = time.time() - settings.SESSION_ABSOLUTE_SECONDS - 60
    session.save()

    client.get("/city/", REMOTE_ADDR="10.1.2.3")

    event = last(AuditKind.SESSION_EXPIRED)
    assert (event.actor, event.details) == (city_user, {"reason": "absolute lifetime"})
    assert not events(AuditKind.LOGOUT)


def test_a_session_that_idled_out_is_found_recorded_with_its_address_and_removed(client, city_user):
    login(client, city_user.username, PASSWORD, ip="10.4.4.4")
    key = client.session.session_key
    expired_at = timezone.now() - timedelta(minutes=5)
    Session.objects.filter(pk=key).update(expire_date=expired_at)

    assert sessions_expired_sweep() == 1

    event = last(AuditKind.SESSION_EXPIRED)
    assert (event.actor, event.at, event.ip_address, event.user_agent) == (city_user, expired_at, "10.4.4.4", BROWSER)
    assert event.details["reason"] == "idle"
    assert not Session.objects.filter(pk=key).exists()
    assert sessions_expired_sweep() == 0  # once


# ------------------------------------------------------------------------------------------------
# API tokens and passwords
# ------------------------------------------------------------------------------------------------
def test_an_api_sign_in_creates_a_token_and_a_password_change_revokes_it(client, city_user):
    response = client.post(
        "/api/v1/auth/token/",
        {"username": "qingdao", "password": PASSWORD},
        content_type="application/json",
        REMOTE_ADDR="10.5.5.5",
        HTTP_USER_AGENT="python-requests/2.32",
    )
    assert response.status_code == 200

    signed_in, created = last(AuditKind.LOGIN), last(AuditKind.TOKEN_CREATED)
    assert (signed_in.actor, signed_in.details, signed_in.ip_address) == (city_user, {"via": "api"}, "10.5.5.5")
    assert (created.actor, created.target_label, created.user_agent) == (city_user, "qingdao", "python-requests/2.32")
    assert response.json()["token"] not in str(created.details) + str(created.after)

    call_command("add_user", "qingdao", "--role", "city", "--city", "370200", "--password", "New-pass-2026-x")

    revoked = last(AuditKind.TOKEN_REVOKED)
    assert (revoked.target_id, revoked.details) == (str(city_user.pk), {"reason": "password changed"})
    assert not Token.objects.filter(user=city_user).exists()


def _as_request(user, action):
    """Run `action` while serving a request by `user` (None: nobody signed in), as a page would."""
    from django.contrib.auth.models import AnonymousUser

    request = RequestFactory().post("/somewhere/", REMOTE_ADDR="10.6.6.6", HTTP_USER_AGENT=BROWSER)
    request.user = user or AnonymousUser()
    return AuditContextMiddleware(lambda r: action())(request)


@pytest.mark.parametrize(
    ("who", "kind"),
    [("owner", AuditKind.PASSWORD_CHANGED), ("nobody", AuditKind.PASSWORD_RESET), ("admin", AuditKind.PASSWORD_SET)],
)
def test_a_password_change_says_who_changed_it_wherever_the_page_is(city_user, admin_user, who, kind):
    # The password pages (change, e-mailed reset) are not this module's: whatever page saves the
    # user's new password is covered, by who is signed in while it happens.
    def change():
        user = User.objects.get(pk=city_user.pk)
        user.set_password("Another-pass-2026")
        user.save()

    _as_request({"owner": city_user, "nobody": None, "admin": admin_user}[who], change)

    event = last(kind)
    assert event.target_id == str(city_user.pk) and event.ip_address == "10.6.6.6"
    assert event.actor == {"owner": city_user, "nobody": None, "admin": admin_user}[who]
    assert "Another-pass" not in str(event.before) + str(event.after)
    assert len(AuditEvent.objects.filter(kind__startswith="password")) == 1


def test_a_password_set_on_the_command_line_is_recorded_and_a_rehash_at_sign_in_is_not(client, city_user, settings):
    call_command("add_user", "qingdao", "--role", "city", "--city", "370200", "--password", "Cli-pass-2026-y")
    event = last(AuditKind.PASSWORD_SET)
    assert (event.actor, event.target_label, event.ip_address) == (None, "qingdao", None)

    # A stronger hasher makes Django rehash the same password at the next sign-in: no change.
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]
    login(client, "qingdao", "Cli-pass-2026-y")
    assert User.objects.get(pk=city_user.pk).password.startswith("pbkdf2")
    assert len(events(AuditKind.PASSWORD_SET)) == 1
    assert not events(AuditKind.PASSWORD_CHANGED)


def test_the_admin_password_form_records_that_an_administrator_set_it(client, admin_user, city_user):
    client.force_login(admin_user)
    response = client.post(
        f"/admin/gigacity/user/{city_user.pk}/password/",
        {"password1": "Admin-set-2026-z", "password2": "Admin-set-2026-z", "usable_password": "true"},
    )
    assert response.status_code == 302

    event = last(AuditKind.PASSWORD_SET)
    assert (event.actor, event.target_id) == (admin_user, str(city_user.pk))


# ------------------------------------------------------------------------------------------------
# Accounts, roles and scopes
# ------------------------------------------------------------------------------------------------
def test_creating_an_account_and_changing_its_role_and_scope_are_recorded_with_before_and_after(reference):
    call_command("add_user", "sd01", "--password", "Sd-pass-2026", "--role", "bureau", "--province", "370000")
    created = last(AuditKind.ACCOUNT_CREATED)
    assert created.after["role"] == "bureau" and created.after["province"] == "370000"

    call_command("add_user", "sd01", "--role", "city", "--city", "370200")

    changed = last(AuditKind.ACCOUNT_CHANGED)
    assert changed.before == {"role": "bureau", "province": "370000", "city": None}
    assert changed.after == {"role": "city", "province": None, "city": "370200"}
    assert changed.actor is None  # the command line


def test_giving_the_security_officer_permission_is_recorded(reference):
    officer()

    event = last(AuditKind.PERMISSIONS_CHANGED)
    assert event.target_label == "安全员"
    assert "Can browse and export the security audit trail" in str(event.details["user_permissions"]["added"])


def test_deleting_an_account_is_recorded_and_its_records_stay(reference, city_user):
    login_event = AuditEvent.objects.create(kind=AuditKind.LOGIN, actor=city_user, username="qingdao")
    User.objects.filter(pk=city_user.pk).delete()

    assert last(AuditKind.ACCOUNT_DELETED).before["username"] == "qingdao"
    assert AuditEvent.objects.get(pk=login_event.pk).username == "qingdao"


# ------------------------------------------------------------------------------------------------
# The Django admin
# ------------------------------------------------------------------------------------------------
def test_every_change_in_the_admin_is_recorded_with_before_and_after(client, admin_user):
    client.force_login(admin_user)
    city = City.objects.get(code="370200")
    response = client.post(
        "/admin/gigacity/city/370200/change/",
        {"code": "370200", "province": city.province_id, "name": "青岛市（改）", "kind": city.kind},
        REMOTE_ADDR="10.7.7.7",
    )
    assert response.status_code == 302

    event = last(AuditKind.ADMIN_CHANGED)
    assert (event.actor, event.ip_address, event.target_type, event.target_id) == (
        admin_user,
        "10.7.7.7",
        "gigacity.city",
        "370200",
    )
    assert (event.before, event.after) == ({"name": "青岛市"}, {"name": "青岛市（改）"})


def test_an_account_changed_in_the_admin_is_recorded_with_its_roles_permissions_and_groups(
    client, admin_user, city_user
):
    from django.contrib.auth.models import Permission

    permission = Permission.objects.get(codename="browse_audit")
    client.force_login(admin_user)
    data = {
        "username": "qingdao",
        "role": "ministry",
        "city": "",
        "province": "",
        "full_name": "qingdao",
        "email": "qingdao@example.cn",
        "phone": "",
        "is_active": "on",
        "user_permissions": [permission.pk],
        "last_login_0": "",
        "last_login_1": "",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "08:00:00",
    }
    response = client.post(f"/admin/gigacity/user/{city_user.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:3000]

    admin_event = last(AuditKind.ADMIN_CHANGED)
    assert admin_event.before["role"] == "city" and admin_event.after["role"] == "ministry"
    assert admin_event.before["user_permissions"] == []
    assert len(admin_event.after["user_permissions"]) == 1
    account_event = last(AuditKind.ACCOUNT_CHANGED)
    assert (account_event.actor, account_event.before["city"], account_event.after["city"]) == (
        admin_user,
        "370200",
        None,
    )
    assert last(AuditKind.PERMISSIONS_CHANGED).actor == admin_user


def test_deleting_a_selection_in_the_admin_records_each_object_as_it_was(client, admin_user):
    from axes.models import AccessAttempt

    attempts = [
        AccessAttempt.objects.create(username=f"u{i}", ip_address="10.0.0.1", user_agent="x", failures_since_start=5)
        for i in range(2)
    ]
    client.force_login(admin_user)
    response = client.post(
        "/admin/axes/accessattempt/",
        {"action": "delete_selected", "_selected_action": [a.pk for a in attempts], "post": "yes"},
    )
    assert response.status_code == 302

    deleted = events(AuditKind.ADMIN_DELETED)
    assert sorted(e.before["username"] for e in deleted) == ["u0", "u1"]
    assert {e.target_type for e in deleted} == {"axes.accessattempt"}


# ------------------------------------------------------------------------------------------------
# Rounds, thresholds and whole-country exports
# ------------------------------------------------------------------------------------------------
def test_threshold_and_round_changes_are_recorded_with_before_and_after(open_round, ministry_user):
    old = open_round.threshold_map()["pon_10g_share"]
    thresholds_update(round_=open_round, values={"pon_10g_share": "35"}, reason="按正式文件", actor=ministry_user)
    round_update(round_=open_round, actor=ministry_user, notice="新的通知")
    round_set_status(round_=open_round, status="closed", actor=ministry_user)

    thresholds = last(AuditKind.THRESHOLDS_CHANGED)
    assert (thresholds.actor, thresholds.target_label) == (ministry_user, str(open_round))
    assert Decimal(thresholds.before["pon_10g_share"]) == old
    assert Decimal(thresholds.after["pon_10g_share"]) == Decimal("35")
    assert thresholds.details["reason"] == "按正式文件"
    assert last(AuditKind.ROUND_CHANGED).after == {"notice": "新的通知"}
    status = last(AuditKind.ROUND_STATUS_CHANGED)
    assert (status.before, status.after) == ({"status": "open"}, {"status": "closed"})


def test_a_whole_country_export_is_recorded_and_a_provinces_is_not(client, open_round, ministry_user, bureau_user):
    client.force_login(ministry_user)
    assert client.get("/api/v1/exports/summary.xlsx", REMOTE_ADDR="10.8.8.8").status_code == 200
    assert client.get("/api/v1/exports/dashboard/national.xlsx").status_code == 200
    client.force_login(bureau_user)
    assert client.get("/api/v1/exports/summary.xlsx").status_code == 200

    exported = events(AuditKind.EXPORT)
    assert [(e.actor, e.details["what"]) for e in exported] == [
        (ministry_user, "summary"),
        (ministry_user, "national dashboard"),
    ]
    assert exported[0].ip_address == "10.8.8.8" and exported[0].target_label == str(open_round)


def test_a_background_export_of_the_country_is_recorded_when_downloaded(client, open_round, ministry_user):
    from reviews.exports import export_request, export_run

    job = export_request(user=ministry_user, kind="cities", round_=open_round)
    export_run(job_id=str(job.pk))
    client.force_login(ministry_user)
    assert client.get(f"/api/v1/exports/{job.pk}/download/").status_code == 200

    event = last(AuditKind.EXPORT)
    assert (event.actor, event.details["what"], event.details["export_id"]) == (ministry_user, "cities", str(job.pk))


# ------------------------------------------------------------------------------------------------
# Append-only, and retention
# ------------------------------------------------------------------------------------------------
def test_a_record_cannot_be_changed_or_deleted_through_the_application(reference):
    event = AuditEvent.objects.create(kind=AuditKind.LOGIN, username="x")
    event.username = "y"
    with pytest.raises(PermissionDenied):
        event.save()
    with pytest.raises(PermissionDenied):
        event.delete()


@pytest.mark.postgres
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE gigacity_auditevent SET username = 'someone-else' WHERE id = %s",
        "DELETE FROM gigacity_auditevent WHERE id = %s",
    ],
)
def test_the_database_refuses_to_change_or_delete_a_record_whatever_connects(reference, statement):
    from django.db import DatabaseError

    event = AuditEvent.objects.create(kind=AuditKind.LOGIN, username="x")
    with (
        pytest.raises(DatabaseError, match="audit records cannot be changed"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement, [event.pk])
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(username="y")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()
    assert AuditEvent.objects.get(pk=event.pk).username == "x"


@pytest.mark.postgres
def test_the_database_refuses_to_delete_a_record_younger_than_180_days_even_for_the_retention_task(reference):
    from django.db import DatabaseError

    now = timezone.now()
    young = AuditEvent.objects.create(kind=AuditKind.LOGIN, username="young", at=now - timedelta(days=179))
    old = AuditEvent.objects.create(kind=AuditKind.LOGIN, username="old", at=now - timedelta(days=181))
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=young.pk).delete()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM gigacity_auditevent WHERE id = %s", [old.pk])
    assert list(AuditEvent.objects.filter(pk__in=[young.pk, old.pk])) == [young]


def test_retention_prunes_only_records_older_than_the_setting_and_says_so(reference, settings):
    now = timezone.now()
    ages = {"a-year": 365, "200-days": 200, "179-days": 179, "today": 0}
    for name, days in ages.items():
        AuditEvent.objects.create(kind=AuditKind.LOGIN, username=name, at=now - timedelta(days=days))

    settings.GIGACITY_AUDIT_RETENTION_DAYS = 300
    assert audit_prune(now=now) == 1
    settings.GIGACITY_AUDIT_RETENTION_DAYS = 180
    assert audit_prune(now=now) == 1
    assert audit_prune(now=now) == 0

    left = set(AuditEvent.objects.filter(kind=AuditKind.LOGIN).values_list("username", flat=True))
    assert left == {"179-days", "today"}
    pruned = events(AuditKind.AUDIT_PRUNED)
    assert [e.details["removed"] for e in pruned] == [1, 1]
    assert [e.details["retention_days"] for e in pruned] == [300, 180]


def test_a_retention_below_six_months_is_refused_at_startup(settings):
    from gigacity.checks import audit_retention_long_enough

    settings.GIGACITY_AUDIT_RETENTION_DAYS = 90
    assert [e.id for e in audit_retention_long_enough(None)] == ["gigacity.E002"]


def test_the_housekeeping_runs_on_beat(settings):
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"gigacity.tasks.prune_audit_trail", "gigacity.tasks.sweep_expired_sessions"} <= tasks


# ------------------------------------------------------------------------------------------------
# Least privilege
# ------------------------------------------------------------------------------------------------
def test_the_admin_is_for_administrators_only(client, ministry_user, admin_user):
    client.force_login(ministry_user)
    assert client.get("/admin/").status_code == 302  # to the admin's login
    client.force_login(admin_user)
    assert client.get("/admin/").status_code == 200


def test_the_database_refuses_admin_rights_on_any_other_role(city_user):
    city_user.is_staff = True
    with pytest.raises(IntegrityError), transaction.atomic():
        city_user.save()


def test_the_admin_refuses_staff_status_for_a_city_official(client, admin_user, city_user):
    client.force_login(admin_user)
    data = {
        "username": "qingdao",
        "role": "city",
        "city": "370200",
        "province": "",
        "is_active": "on",
        "is_superuser": "on",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "08:00:00",
    }
    response = client.post(f"/admin/gigacity/user/{city_user.pk}/change/", data)

    assert response.status_code == 200
    assert "只有管理员可以拥有职员或超级用户身份" in response.content.decode()
    assert not User.objects.get(pk=city_user.pk).is_superuser


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "ministry", "--city", "370200"], "role: "),
        (["--role", "admin", "--province", "370000"], "role: "),
        (["--role", "city", "--city", "370200", "--province", "320000"], "province: "),
        (["--role", "bureau", "--province", "370000", "--city", "370200"], "city: "),
        (["--role", "city", "--city", "370200", "--security-officer"], "security_officer: "),
    ],
)
def test_add_user_refuses_a_role_and_a_scope_that_do_not_agree(reference, args, message):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match=message):
        call_command("add_user", "x01", "--password", "Qd-pass-2026", *args, stdout=io.StringIO())
    assert not User.objects.filter(username="x01").exists()


def test_a_city_officials_province_may_be_given_when_it_is_the_citys(reference):
    call_command(
        "add_user", "x02", "--password", "Qd-pass-2026", "--role", "city", "--city", "370200", "--province", "370000"
    )
    assert User.objects.get(username="x02").province_id is None


# ------------------------------------------------------------------------------------------------
# The security officer's pages
# ------------------------------------------------------------------------------------------------
def test_the_security_officer_browses_and_filters_the_trail(client, city_user):
    login(client, "qingdao", "wrong", ip="10.3.3.3")
    login(client, "qingdao", PASSWORD, ip="10.2.2.2")
    client.force_login(officer())

    everything = client.get("/security/audit/").content.decode()
    failed = client.get("/security/audit/", {"kind": "login_failed"}).content.decode()
    by_address = client.get("/security/audit/", {"address": "10.2."}).content.decode()

    assert "10.3.3.3" in everything and "10.2.2.2" in everything and "安全审计" in everything
    assert "10.3.3.3" in failed and "10.2.2.2" not in failed
    assert "10.2.2.2" in by_address and "10.3.3.3" not in by_address


def test_the_security_officer_exports_the_trail_and_the_export_is_recorded(client, city_user):
    login(client, "qingdao", "wrong", ip="10.3.3.3")
    client.force_login(officer())

    response = client.get("/security/audit/export.xlsx", {"kind": "login_failed"})

    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 2 and rows[1][2] == "qingdao" and rows[1][4] == "10.3.3.3"
    event = last(AuditKind.EXPORT)
    assert event.details["what"] == "audit trail" and event.details["rows"] == 1


@pytest.mark.parametrize("role", [Role.MINISTRY, Role.BUREAU, Role.CITY])
def test_nobody_else_reads_the_trail_not_even_a_city_account_given_the_permission(client, reference, role):
    from django.contrib.auth.models import Permission

    scope = {Role.BUREAU: {"province": "370000"}, Role.CITY: {"city": "370200"}}.get(role, {})
    user = make_user(f"someone-{role}", role, **scope)
    if role != Role.MINISTRY:
        user.user_permissions.add(Permission.objects.get(codename="browse_audit"))
    client.force_login(user)

    assert client.get("/security/audit/").status_code == 403
    assert client.get("/security/audit/export.xlsx").status_code == 403


def test_the_admin_refuses_a_ministry_account_with_a_city(client, admin_user, city_user):
    client.force_login(admin_user)
    data = {
        "username": "qingdao",
        "role": "ministry",
        "city": "370200",
        "province": "",
        "is_active": "on",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "08:00:00",
    }
    response = client.post(f"/admin/gigacity/user/{city_user.pk}/change/", data)

    assert response.status_code == 200
    assert "工信部工作人员和系统管理员两者均不指定" in response.content.decode()
    assert User.objects.get(pk=city_user.pk).role == Role.CITY
