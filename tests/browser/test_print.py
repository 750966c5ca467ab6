"""A city official opens the print view of the submitted form from its page, prints it (the PDF), and
a visitor opens the public list of a published round. Screenshots of the print view, of the PDF's first
page and of the public list go to artifacts/screenshots/."""

from __future__ import annotations

import io
import re

import pypdf
import pytest

from submissions.models import Status
from tests.factories import make_submission
from tests.submissions.test_printing import checksum_of, save_first_page

from .conftest import login, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_city_prints_its_submitted_form(page, city_user, open_round, tmp_path):
    submission = make_submission(city_user.city, open_round, Status.SUBMITTED)
    login(page, city_user.username)
    page.goto(f"/submissions/{submission.pk}/")
    page.get_by_test_id("print-link").click()
    page.wait_for_url(f"**/submissions/{submission.pk}/print/")

    assert page.get_by_role("heading", level=1).inner_text() == "千兆城市建设情况总结评估调查表"
    assert page.get_by_test_id("checksum").inner_text() == checksum_of(submission)
    assert page.get_by_test_id("signature-block").is_visible()
    page.set_viewport_size({"width": 900, "height": 1270})
    screenshot(page, "form-print-view")

    with page.expect_download() as info:
        page.get_by_test_id("pdf-link").click()
    target = tmp_path / info.value.suggested_filename
    info.value.save_as(target)
    assert target.name.endswith(".pdf") and "青岛市" in target.name
    content = target.read_bytes()
    text = re.sub(r"\s+", "", "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(content)).pages))
    assert checksum_of(submission) in text and "青岛市" in text
    save_first_page(content, "form-pdf-page1")


def test_a_visitor_reads_the_published_list(page, ministry_user, open_round):
    import random

    from gigacity.models import City
    from tests.api.matrix import publish_round
    from tests.reviews.data import add_forms

    cities = City.objects.filter(designations__isnull=True, province="370000").order_by("code")[:4]
    add_forms(round_=open_round, cities=cities, rng=random.Random(6), states=[Status.APPROVED])

    class World:
        round = open_round
        users = {"ministry": ministry_user}

    publish_round(World)
    page.goto(f"/gigabit-cities/{open_round.year}/")
    assert page.get_by_role("heading", level=1).inner_text() == f"{open_round.year}年度千兆城市"
    for city in cities:
        assert page.get_by_test_id(f"public-batch-{open_round.year}").get_by_text(city.name).is_visible()
    screenshot(page, "public-list")
