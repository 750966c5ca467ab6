"""Provisioning accounts: add_user and the workbook import in the admin."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from openpyxl import Workbook

from gigacity.admin import USER_COLUMNS
from gigacity.models import Role, User

pytestmark = pytest.mark.django_db


def test_add_user_creates_a_city_official_bound_to_the_city(reference):
    out = io.StringIO()
    call_command("add_user", "qd01", "--password", "Qd-pass-2026", "--role", "city", "--city", "370200", stdout=out)

    user = User.objects.get(username="qd01")
    assert (user.role, user.city_id, user.province_id) == (Role.CITY, "370200", None)
    assert user.check_password("Qd-pass-2026")
    assert "Created qd01" in out.getvalue()


def test_add_user_updates_without_touching_the_password_when_none_is_given(reference):
    call_command(
        "add_user",
        "sd01",
        "--password",
        "Sd-pass-2026",
        "--role",
        "bureau",
        "--province",
        "370000",
        stdout=io.StringIO(),
    )
    call_command("add_user", "sd01", "--role", "bureau", "--province", "320000", "--name", "王明", stdout=io.StringIO())

    user = User.objects.get(username="sd01")
    assert (user.province_id, user.full_name) == ("320000", "王明")
    assert user.check_password("Sd-pass-2026")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "city", "--password", "Qd-pass-2026"], "city: "),
        (["--role", "city", "--city", "999999", "--password", "Qd-pass-2026"], "370200"),
        (["--role", "bureau", "--password", "Qd-pass-2026"], "province: "),
        (["--role", "ministry"], "password: "),
        (["--role", "ministry", "--password", "12345678"], "password: "),
    ],
)
def test_add_user_refuses_bad_input_with_a_clear_message(reference, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("add_user", "x01", *args, stdout=io.StringIO())
    assert not User.objects.filter(username="x01").exists()


def test_an_administrator_gets_the_admin(reference):
    call_command("add_user", "boss", "--role", "admin", "--password", "Admin-pass-2026", stdout=io.StringIO())
    user = User.objects.get(username="boss")
    assert user.is_staff and user.is_superuser


def workbook(rows) -> io.BytesIO:
    wb = Workbook()
    sheet = wb.active
    sheet.append(USER_COLUMNS)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    buffer.seek(0)
    buffer.name = "accounts.xlsx"
    return buffer


def test_accounts_are_imported_from_a_workbook_in_the_admin(client, admin_user):
    client.force_login(admin_user)
    upload = workbook(
        [
            ("yt01", "Yt-pass-2026", "city", "370600", "", "烟台填报员", "yt@example.cn", ""),
            ("js01", "Js-pass-2026", "省局", "", "320000", "江苏省局", "", ""),
        ]
    )

    response = client.post(reverse("admin:gigacity_user_import"), {"file": upload}, follow=True)

    assert response.status_code == 200
    assert User.objects.get(username="yt01").city_id == "370600"
    assert User.objects.get(username="js01").role == Role.BUREAU
    assert "2" in response.content.decode()


def test_one_bad_row_imports_nothing_and_names_the_row(client, admin_user):
    client.force_login(admin_user)
    upload = workbook(
        [
            ("yt01", "Yt-pass-2026", "city", "370600", "", "", "", ""),
            ("bad01", "Bad-pass-2026", "city", "", "", "", "", ""),
        ]
    )

    response = client.post(reverse("admin:gigacity_user_import"), {"file": upload})

    assert response.status_code == 200
    assert "3" in response.content.decode()  # the spreadsheet row of the bad account
    assert not User.objects.filter(username__in=["yt01", "bad01"]).exists()


def test_a_file_that_is_not_a_workbook_is_refused_clearly(client, admin_user):
    client.force_login(admin_user)
    upload = io.BytesIO(b"username,password\nx,y\n")
    upload.name = "accounts.xlsx"

    response = client.post(reverse("admin:gigacity_user_import"), {"file": upload})

    assert response.status_code == 200
    assert ".xlsx" in response.content.decode()
