"""The printable form and its PDF, and the stamped cover letter: everything the city signs is on the
print (sections, indicators with thresholds, cases, practices, contact, as-of date, status and time
of submission, signature and stamp block), with the form's version and a checksum of its data; the PDF
is read back with pypdf. Scope as everywhere; a server without Chromium says so (503)."""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import subprocess
from pathlib import Path

import pypdf
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from indicators.models import Round
from submissions.models import Attachment, AttachmentKind, Case, Status, Submission
from submissions.snapshots import snapshot
from tests.factories import make_submission

pytestmark = pytest.mark.django_db

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
HOSTILE_TITLE = '<script>alert("x")</script>{ DATE }=1+1'


def checksum_of(submission: Submission) -> str:
    """SHA-256 of the history's snapshot of the form, written out here independently."""
    data = snapshot(submission)
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def browser_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def submitted(open_round, city_user):
    submission = make_submission(city_user.city, open_round, Status.SUBMITTED)
    Case.objects.filter(submission=submission, position=0).update(title=HOSTILE_TITLE)
    submission.refresh_from_db()
    return submission


def test_the_print_view_holds_everything_the_city_signs(submitted, city_user):
    body = browser_for(city_user).get(reverse("submissions:print", args=[submitted.pk])).content.decode()

    assert f"v{submitted.version}" in body
    assert checksum_of(submitted) in body
    assert "青岛市" in body and "370200" in body
    assert "已提交" in body and submitted.submitted_at.astimezone().strftime("%Y-%m-%d") in body
    assert submitted.data_as_of.isoformat() in body
    assert submitted.contact_name in body and submitted.contact_phone in body
    for case in submitted.cases.exclude(position=0):
        assert case.title in body
    # The typed markup is shown as text, never as markup.
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;{ DATE }=1+1" in body
    assert "<script>alert" not in body
    # Indicators with their thresholds, and the signature and stamp block.
    assert body.count("≥") >= 8
    assert "单位负责人（签字）" in body and "填报单位（盖章）" in body
    assert "草稿" not in re.sub(r"<style>.*?</style>", "", body, flags=re.S)


def test_a_draft_says_it_is_not_submitted_and_the_checksum_follows_the_data(open_round, city_user):
    draft = make_submission(city_user.city, open_round, Status.DRAFT)
    client = browser_for(city_user)
    before = client.get(reverse("submissions:print", args=[draft.pk])).content.decode()
    assert "尚未提交" in before and checksum_of(draft) in before

    Submission.objects.filter(pk=draft.pk).update(bs5g_count=draft.bs5g_count + 1)
    draft.refresh_from_db()
    after = client.get(reverse("submissions:print", args=[draft.pk])).content.decode()
    assert checksum_of(draft) in after and checksum_of(draft) not in before


def test_the_form_pages_show_the_same_checksum_and_the_print_links(submitted, bureau_user):
    body = browser_for(bureau_user).get(reverse("submissions:detail", args=[submitted.pk])).content.decode()
    short = " ".join(checksum_of(submitted)[i : i + 4] for i in range(0, 16, 4))
    assert short in body
    assert reverse("submissions:print", args=[submitted.pk]) in body
    assert reverse("submissions:pdf", args=[submitted.pk]) in body


def test_a_server_without_chromium_says_so_instead_of_failing(submitted, city_user, settings):
    settings.GIGACITY_CHROMIUM = "/nonexistent/chromium"
    page = browser_for(city_user).get(reverse("submissions:pdf", args=[submitted.pk]))
    assert page.status_code == 503
    assert "Chromium" in page.content.decode() and "另存为PDF" in page.content.decode()

    api = APIClient()
    api.force_authenticate(city_user)
    response = api.get(reverse("api:submission-pdf", args=[submitted.pk]))
    assert response.status_code == 503 and response.data["code"] == "pdf_unavailable"


def test_other_cities_and_provinces_get_no_print_of_the_form(
    submitted, city_user_same_province, bureau_user_other_province
):
    for user in (city_user_same_province, bureau_user_other_province):
        client = browser_for(user)
        assert client.get(reverse("submissions:print", args=[submitted.pk])).status_code == 404
        assert client.get(reverse("submissions:pdf", args=[submitted.pk])).status_code == 404


@pytest.mark.browser
def test_the_pdf_is_a4_and_states_version_checksum_and_every_section(submitted, city_user):
    response = browser_for(city_user).get(reverse("submissions:pdf", args=[submitted.pk]))

    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    reader = pypdf.PdfReader(io.BytesIO(response.content))
    first = reader.pages[0]
    assert (round(float(first.mediabox.width)), round(float(first.mediabox.height))) == (595, 842)  # A4
    text = "".join(page.extract_text() for page in reader.pages)
    flat = re.sub(r"\s+", "", text)
    assert checksum_of(submitted) in flat
    assert f"v{submitted.version}" in flat
    assert "青岛市" in flat and "已提交" in flat
    for case in submitted.cases.exclude(position=0):
        assert re.sub(r"\s+", "", case.title) in flat
    assert re.sub(r"\s+", "", HOSTILE_TITLE) in flat  # as text
    assert "单位负责人（签字）" in flat and "填报单位（盖章）" in flat
    assert f"1/{len(reader.pages)}" in flat  # page numbers in the margin
    save_first_page(response.content, "form-pdf-page1")


def save_first_page(content: bytes, name: str) -> None:
    """The PDF's first page as a PNG in artifacts/screenshots/ (to be looked at), with poppler."""
    if not shutil.which("pdftoppm"):
        return
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile", "-", str(ARTIFACTS / name)],
        input=content,
        check=True,
        timeout=60,
    )


# ------------------------------------------------------------------------------------------------
# The stamped cover letter
# ------------------------------------------------------------------------------------------------
def png(name: str = "报送函.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"\x89PNG\r\n\x1a\n" + b"0" * 64, content_type="image/png")


def api_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_a_round_can_require_the_cover_letter_before_a_form_is_submitted(open_round, city_user, bureau_user):
    Round.objects.filter(pk=open_round.pk).update(cover_letter_required=True)
    draft = make_submission(city_user.city, open_round, Status.DRAFT)
    client = api_for(city_user)

    refused = client.post(reverse("api:submission-submit", args=[draft.pk]), {"confirm_inconsistent": True})
    assert refused.status_code == 400 and "cover_letter" in refused.data["errors"]

    first = client.post(reverse("api:submission-cover-letter", args=[draft.pk]), {"file": png()}, format="multipart")
    assert first.status_code == 201 and first.data["kind"] == "cover_letter"
    second = client.post(
        reverse("api:submission-cover-letter", args=[draft.pk]), {"file": png("盖章版.png")}, format="multipart"
    )
    assert second.status_code == 201
    letters = Attachment.objects.filter(submission=draft, kind=AttachmentKind.COVER_LETTER)
    assert [a.original_name for a in letters] == ["盖章版.png"]  # the new one replaces the old one

    submitted = client.post(reverse("api:submission-submit", args=[draft.pk]), {"confirm_inconsistent": True})
    assert submitted.status_code == 200, submitted.data
    # The bureau sees it on the review page; the city can no longer replace it.
    page = browser_for(bureau_user).get(reverse("submissions:detail", args=[draft.pk])).content.decode()
    assert "盖章版.png" in page and reverse("submissions:attachment", args=[letters[0].pk]) in page
    late = client.post(reverse("api:submission-cover-letter", args=[draft.pk]), {"file": png()}, format="multipart")
    assert late.status_code == 409


def test_a_cover_letter_is_a_pdf_or_an_image_uploaded_by_the_city_or_its_bureau(
    open_round, city_user, bureau_user, ministry_user
):
    draft = make_submission(city_user.city, open_round, Status.DRAFT)
    url = reverse("api:submission-cover-letter", args=[draft.pk])
    word = SimpleUploadedFile("报送函.docx", b"PK\x03\x04" + b"0" * 64)
    assert api_for(city_user).post(url, {"file": word}, format="multipart").status_code == 400
    assert api_for(ministry_user).post(url, {"file": png()}, format="multipart").status_code == 403
    pdf = SimpleUploadedFile("报送函.pdf", b"%PDF-1.4 stamped", content_type="application/pdf")
    assert api_for(bureau_user).post(url, {"file": pdf}, format="multipart").status_code == 201

    # From the form page: a plain form post that comes back to the page.
    page = browser_for(city_user)
    edit = reverse("submissions:edit", args=[draft.pk])
    response = page.post(reverse("submissions:cover_letter", args=[draft.pk]), {"file": png(), "next": edit})
    assert response.status_code == 302 and response["Location"] == edit
    assert "报送函.png" in page.get(edit).content.decode()
