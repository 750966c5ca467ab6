"""The "Excel 导入导出" pages: download, upload, read the check, confirm or cancel."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from submissions.excel.city import city_template
from submissions.excel.province import province_workbook
from submissions.models import City, DataChange, Status, Submission
from submissions.services import submission_update
from tests.factories import make_submission

from .excel_helpers import as_upload, load, save, type_into

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft(open_round, city_user):
    return make_submission(city_user.city, open_round, Status.DRAFT)


def client_for(user, **kwargs) -> Client:
    client = Client(**kwargs)
    client.force_login(user)
    return client


def kept_files(settings) -> list[Path]:
    folder = Path(settings.MEDIA_ROOT) / "excel-uploads"
    return sorted(folder.iterdir()) if folder.exists() else []


def header_column(sheet, header: str) -> int:
    return next(c for c in range(1, sheet.max_column + 1) if sheet.cell(row=2, column=c).value == header)


def upload(client, url: str, content: bytes, **extra):
    return client.post(url, {"action": "upload", "file": as_upload(content)}, **extra)


def filled(draft, **values) -> bytes:
    workbook = load(city_template(submission=draft))
    for label, value in values.items():
        type_into(workbook, label, value)
    return save(workbook)


def test_a_city_official_downloads_uploads_checks_and_confirms(draft, city_user, settings):
    client = client_for(city_user)
    page = reverse("submissions:excel", args=[draft.pk])

    body = client.get(page).content.decode()
    assert "Excel 导入导出" in body and "下载模板（.xlsx）" in body and "上传并校验" in body
    download = client.get(reverse("submissions:excel_template", args=[draft.pk]))
    assert download["Content-Disposition"].startswith("attachment;")
    assert "filename*=UTF-8''%E9%9D%92%E5%B2%9B" in download["Content-Disposition"]  # 青岛…

    workbook = load(download.content)
    cell = type_into(workbook, "5G基站数", 24680)
    response = upload(client, page, save(workbook))
    assert response.status_code == 302 and "?upload=" in response["Location"]
    assert len(kept_files(settings)) == 1

    report = client.get(response["Location"]).content.decode()
    assert "导入将作以下修改" in report and cell in report and "24,680" in report and "确认导入" in report
    draft.refresh_from_db()
    assert draft.bs5g_count != 24680  # nothing saved by the check

    token = response["Location"].split("upload=")[1]
    done = client.post(page, {"action": "apply", "upload": token}, follow=True)

    assert done.redirect_chain[-1][0] == reverse("submissions:detail", args=[draft.pk])
    assert "工作簿已导入：保存了 1 项修改" in done.content.decode()
    draft.refresh_from_db()
    assert draft.bs5g_count == 24680
    assert kept_files(settings) == []  # the kept file is gone once applied


def test_problems_are_listed_with_their_cells_and_cannot_be_confirmed(draft, city_user):
    client = client_for(city_user)
    page = reverse("submissions:excel", args=[draft.pk])
    workbook = load(city_template(submission=draft))
    cell = type_into(workbook, "5G基站数", "很多")

    response = upload(client, page, save(workbook), follow=True)

    body = response.content.decode()
    assert "发现 1 个问题" in body and cell in body and "须为非负整数" in body
    assert 'value="apply"' not in body


def test_a_refused_file_is_explained_and_not_kept(draft, city_user, settings):
    client = client_for(city_user)

    response = upload(
        client,
        reverse("submissions:excel", args=[draft.pk]),
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600,
        follow=True,
    )

    body = response.content.decode()
    assert "无法读取该文件，未保存任何内容" in body and "这是旧版 .xls 文件" in body
    assert kept_files(settings) == []


def test_cancel_saves_nothing_and_deletes_the_kept_file(draft, city_user, settings):
    client = client_for(city_user)
    page = reverse("submissions:excel", args=[draft.pk])
    response = upload(client, page, filled(draft, **{"5G基站数": 1}))
    token = response["Location"].split("upload=")[1]

    response = client.post(page, {"action": "cancel", "upload": token}, follow=True)

    assert "已取消，未保存任何内容" in response.content.decode()
    assert kept_files(settings) == []
    draft.refresh_from_db()
    assert draft.bs5g_count != 1


def test_the_upload_script_gets_the_address_of_the_report(draft, city_user):
    client = client_for(city_user)
    page = reverse("submissions:excel", args=[draft.pk])

    response = upload(client, page, filled(draft), headers={"X-Requested-With": "XMLHttpRequest"})

    assert response.status_code == 200
    assert response.json()["location"].startswith(f"{page}?upload=")


def test_a_file_over_the_limit_is_not_kept_while_it_is_received(draft, city_user, settings):
    settings.GIGACITY_MAX_WORKBOOK_BYTES = 2048
    client = client_for(city_user)

    response = upload(client, reverse("submissions:excel", args=[draft.pk]), filled(draft), follow=True)

    assert "超出了工作簿的大小上限" in response.content.decode()
    assert kept_files(settings) == []


def test_a_form_changed_before_the_confirmation_is_not_overwritten(draft, city_user):
    client = client_for(city_user)
    page = reverse("submissions:excel", args=[draft.pk])
    response = upload(client, page, filled(draft, **{"5G基站数": 13579}))
    token = response["Location"].split("upload=")[1]
    submission_update(
        submission_id=draft.pk, actor=city_user, data={"contact_name": "王强"}, expected_version=draft.version
    )

    response = client.post(page, {"action": "apply", "upload": token}, follow=True)

    body = response.content.decode()
    assert "校验后调查表已被他人修改，因此未导入任何内容" in body
    assert "联系人" in body  # the new check shows that the import would now also undo 王强
    draft.refresh_from_db()
    assert (draft.bs5g_count != 13579, draft.contact_name) == (True, "王强")


def test_an_upload_is_only_usable_by_the_person_who_made_it(draft, city_user, bureau_user):
    page = reverse("submissions:excel", args=[draft.pk])
    response = upload(client_for(city_user), page, filled(draft, **{"5G基站数": 97531}))
    token = response["Location"].split("upload=")[1]

    response = client_for(bureau_user).post(page, {"action": "apply", "upload": token}, follow=True)

    assert "此次上传已过期或已被使用" in response.content.decode()
    draft.refresh_from_db()
    assert draft.bs5g_count != 97531


def test_an_expired_upload_cannot_be_confirmed(draft, city_user, monkeypatch):
    import datetime

    from submissions.excel import uploads

    client = client_for(city_user)
    page = reverse("submissions:excel", args=[draft.pk])
    response = upload(client, page, filled(draft, **{"5G基站数": 86420}))
    token = response["Location"].split("upload=")[1]
    monkeypatch.setattr(uploads, "TTL", datetime.timedelta(seconds=-1))

    response = client.post(page, {"action": "apply", "upload": token}, follow=True)

    assert "此次上传已过期或已被使用" in response.content.decode()
    draft.refresh_from_db()
    assert draft.bs5g_count != 86420


def test_with_csrf_checks_on_the_size_limit_applies_while_the_file_is_received(draft, city_user, settings):
    # As in production: the CSRF check reads the body, so the limit must be installed before it.
    settings.GIGACITY_MAX_WORKBOOK_BYTES = 2048
    client = client_for(city_user, enforce_csrf_checks=True)
    page = reverse("submissions:excel", args=[draft.pk])
    client.get(page)
    token = client.cookies[settings.CSRF_COOKIE_NAME].value

    response = client.post(
        page, {"action": "upload", "file": as_upload(filled(draft)), "csrfmiddlewaretoken": token}, follow=True
    )

    assert response.status_code == 200
    assert "超出了工作簿的大小上限" in response.content.decode()
    assert kept_files(settings) == []


def test_the_upload_is_still_protected_against_cross_site_posts(draft, city_user):
    client = client_for(city_user, enforce_csrf_checks=True)

    response = upload(client, reverse("submissions:excel", args=[draft.pk]), filled(draft))

    assert response.status_code == 403


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("city_user", 200),
        ("bureau_user", 200),
        ("city_user_same_province", 404),
        ("bureau_user_other_province", 404),
        ("ministry_user", 403),
    ],
)
def test_the_page_is_scoped(draft, request, who, status):
    client = client_for(request.getfixturevalue(who))

    assert client.get(reverse("submissions:excel", args=[draft.pk])).status_code == status


def test_a_submitted_form_offers_the_download_but_no_upload(open_round, city_user):
    submitted = make_submission(city_user.city, open_round, Status.SUBMITTED)

    body = client_for(city_user).get(reverse("submissions:excel", args=[submitted.pk])).content.decode()

    assert "下载模板" in body and "上传并校验" not in body and "调查表当前为“已提交”状态" in body


def test_links_lead_to_the_excel_pages(draft, city_user, bureau_user):
    home = client_for(city_user).get(reverse("submissions:home")).content.decode()
    detail = client_for(city_user).get(reverse("submissions:detail", args=[draft.pk])).content.decode()
    queue = client_for(bureau_user).get(reverse("reviews:bureau_home")).content.decode()

    assert reverse("submissions:excel", args=[draft.pk]) in home
    assert reverse("submissions:excel", args=[draft.pk]) in detail
    assert reverse("submissions:province_excel") in queue


# ------------------------------------------------------------------------------------------------
# The province page
# ------------------------------------------------------------------------------------------------
def test_a_bureau_imports_the_province_workbook_from_its_page(open_round, bureau_user, draft):
    client = client_for(bureau_user)
    page = reverse("submissions:province_excel")
    assert "下载省级汇总表" in client.get(page).content.decode()
    workbook = load(client.get(reverse("submissions:province_workbook")).content)
    sheet = workbook["城市数据"]
    row = next(r for r in range(3, sheet.max_row + 1) if sheet.cell(row=r, column=1).value == "370600")  # 烟台
    sheet.cell(row=row, column=header_column(sheet, "5G基站数（个）")).value = 5555

    response = upload(client, page, save(workbook))
    report = client.get(response["Location"]).content.decode()
    assert "烟台市" in report and "新建草稿" in report and "确认导入全部城市" in report

    token = response["Location"].split("upload=")[1]
    response = client.post(page, {"action": "apply", "upload": token}, follow=True)

    assert "省级汇总表已导入" in response.content.decode()
    yantai = Submission.objects.get(city_id="370600", round=open_round)
    assert yantai.bs5g_count == 5555
    assert DataChange.objects.filter(submission=yantai, actor=bureau_user).exists()


def test_the_province_page_is_for_bureaus(city_user, ministry_user, open_round):
    assert client_for(city_user).get(reverse("submissions:province_excel")).status_code == 403
    assert client_for(ministry_user).get(reverse("submissions:province_workbook")).status_code == 403


def test_a_city_submitted_between_check_and_confirmation_stops_the_province_import(
    open_round, bureau_user, city_user, draft
):
    client = client_for(bureau_user)
    page = reverse("submissions:province_excel")
    workbook = load(province_workbook(province=bureau_user.province, round_=open_round))
    sheet = workbook["城市数据"]
    row = next(r for r in range(3, sheet.max_row + 1) if sheet.cell(row=r, column=1).value == "370200")
    sheet.cell(row=row, column=header_column(sheet, "5G基站数（个）")).value = 42424
    response = upload(client, page, save(workbook))
    token = response["Location"].split("upload=")[1]
    from submissions.services import submission_submit

    submission_submit(submission_id=draft.pk, actor=city_user)

    response = client.post(page, {"action": "apply", "upload": token}, follow=True)

    body = response.content.decode()
    assert "未导入任何内容" in body
    draft.refresh_from_db()
    assert draft.bs5g_count != 42424 and City.objects.filter(pk="370200").exists()
