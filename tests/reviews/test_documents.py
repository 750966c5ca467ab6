"""The draft circular and the case collection as Word documents, read back with python-docx and
checked against figures computed here from the database rows (not by the code under test): the
headline sentences' numbers, 附件1's rows and values, 附件2's cities, the cases by domain. User text
stays text; documents with nothing to show are refused; scope and roles as the exports'."""

from __future__ import annotations

import io
import random
import re
import zipfile
from collections import Counter
from decimal import ROUND_HALF_UP, Decimal

import docx
import pytest
from django.test import TestCase
from django.urls import reverse
from rest_framework.test import APIClient

from gigacity.models import City
from indicators.catalogue import CASE_DOMAINS, INDICATORS_BY_CODE
from indicators.models import Designation, ReferenceValue, Round
from reviews.api import DOCX
from reviews.exports import SUMMARY_COLUMNS
from reviews.models import ExportJob, ExportState
from submissions.models import Case, Status, Submission
from tests.factories import make_attachment

from .data import add_forms

pytestmark = pytest.mark.django_db

REGION_OF = {"370000": "east", "320000": "east", "410000": "central", "510000": "west"}
# A case title or practice typed by somebody who hopes the document will run it.
MALICIOUS = '<w:fldSimple w:instr="DATE"/>{ DATE \\@ "yyyy" }=cmd|\'/C calc\'!A0\x01 <script>x</script>'
AS_TEXT = '<w:fldSimple w:instr="DATE"/>{ DATE \\@ "yyyy" }=cmd|\'/C calc\'!A0 <script>x</script>'
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def request_document(user, **body):
    with TestCase.captureOnCommitCallbacks(execute=True):
        return api(user).post(reverse("api:export-list"), body, format="json")


def produce(user, **body) -> tuple[ExportJob, bytes]:
    response = request_document(user, **body)
    assert response.status_code == 202, response.data
    job = ExportJob.objects.get(pk=response.data["id"])
    assert job.state == ExportState.DONE, job.error
    download = api(user).get(reverse("api:export-download", args=[job.pk]))
    assert download.status_code == 200
    assert download["Content-Type"] == DOCX
    assert job.filename.endswith(".docx") and job.progress == 100
    return job, b"".join(download.streaming_content)


def texts(document) -> list[str]:
    return [p.text for p in document.paragraphs]


def body_xml(content: bytes) -> str:
    return zipfile.ZipFile(io.BytesIO(content)).read("word/document.xml").decode()


def half_up(value: Decimal, places: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def mean(values: list[Decimal], code: str) -> Decimal:
    return half_up(sum(values) / len(values), INDICATORS_BY_CODE[code].decimals)


def shown(value: Decimal | None, code: str) -> str:
    """How 附件1 writes a value: MIIT's precision, thousands separators for counts."""
    if value is None:
        return "—"
    spec = INDICATORS_BY_CODE[code]
    rounded = half_up(Decimal(value), spec.decimals)
    return f"{rounded:,}" if spec.kind == "count" else str(rounded)


# ------------------------------------------------------------------------------------------------
# The draft circular
# ------------------------------------------------------------------------------------------------
@pytest.fixture
def named(open_round):
    """This round names 2 cities of 山东, 1 of 江苏, 2 of 河南 and 1 of 四川 (3 east, 2 central, 1 west);
    two more are only recommended. Three of the 29 cities of 2021 file a confirmed annual report."""
    fresh = City.objects.filter(designations__isnull=True).order_by("code")
    approved = [
        *fresh.filter(province="370000")[:2],
        *fresh.filter(province="320000")[:1],
        *fresh.filter(province="410000")[:2],
        *fresh.filter(province="510000")[:1],
    ]
    add_forms(round_=open_round, cities=approved, rng=random.Random(3), states=[Status.APPROVED], cases=5)
    add_forms(
        round_=open_round,
        cities=fresh.filter(province="370000")[2:4],
        rng=random.Random(4),
        states=[Status.RECOMMENDED],
    )
    # Three of the 29 cities of 2021 filed their annual report in this round, confirmed: MIIT's table
    # lists every Gigabit City with this round's figures (issue 12), so the first batch has data.
    first = Round.objects.get(year=2021)
    earlier = City.objects.filter(designations__round=first).order_by("code")[:3]
    add_forms(round_=open_round, cities=earlier, rng=random.Random(5), states=[Status.APPROVED])
    ReferenceValue.objects.update_or_create(
        round=open_round, indicator_id="bs5g_per_10k", defaults={"value": Decimal("15.7"), "source": "test"}
    )
    Submission.objects.filter(city=approved[0], round=open_round).update(
        practice_network=MALICIOUS, practice_users="宽带提速\n千兆进小区", support_policies="《千兆城市行动方案》"
    )
    return approved


def test_the_circular_states_the_headline_figures_computed_from_the_rows(named, open_round, ministry_user):
    _job, content = produce(ministry_user, kind="circular", round=open_round.year)
    document = docx.Document(io.BytesIO(content))
    paragraphs = texts(document)
    year = open_round.year

    new = list(Designation.objects.filter(round=open_round).select_related("city"))
    regions = Counter(REGION_OF[d.city.province_id] for d in new)
    total = Designation.objects.values("city").distinct().count()
    assert (len(new), total) == (6, 29 + 6)
    first_batch = Counter(
        d.city.province.region for d in Designation.objects.filter(round__year=2021).select_related("city__province")
    )
    assert f"{year}年度共有6个城市达到千兆城市建设标准" in "".join(paragraphs)
    assert f"全国千兆城市总数达到{total}个" in "".join(paragraphs)
    assert (
        f"{year}年度达到千兆城市建设标准的6个城市中，东部地区{regions['east']}个、中部地区{regions['central']}个、"
        f"西部地区{regions['west']}个。"
    ) in paragraphs
    assert (
        f"全国{total}个千兆城市中，东部地区{first_batch['east'] + regions['east']}个、"
        f"中部地区{first_batch['central'] + regions['central']}个、西部地区{first_batch['west'] + regions['west']}个；"
        f"按批次，2021年度29个、{year}年度6个。"
    ) in paragraphs

    # Means: over the Gigabit Cities with data in this round (their reported forms), per batch.
    this_round = Submission.objects.filter(round=open_round, status=Status.APPROVED)
    new_values = [s.value_bs5g_per_10k for s in this_round.filter(city__designations__round=open_round)]
    old_values = [s.value_bs5g_per_10k for s in this_round.filter(city__designations__round__year=2021)]
    sentence = next(p for p in paragraphs if p.startswith("千兆城市的每万人拥有5G基站数"))
    assert sentence == (
        f"千兆城市的每万人拥有5G基站数平均为{mean(new_values + old_values, 'bs5g_per_10k')}个/万人"
        f"（按有数据的9个城市计算），其中2021年度千兆城市{mean(old_values, 'bs5g_per_10k')}个/万人、"
        f"{year}年度千兆城市{mean(new_values, 'bs5g_per_10k')}个/万人；全国平均水平为15.7个/万人。"
    )
    users = [s.value_users_1000m for s in Submission.objects.filter(status=Status.APPROVED)]
    assert any(p.startswith(f"千兆城市的1000Mbps用户数平均为{mean(users, 'users_1000m')}户") for p in paragraphs)

    # Never final: the header of every page, the title and the first lines say so.
    header = document.sections[0].header.paragraphs[0].text
    assert header == "征求意见稿"
    assert paragraphs[0].startswith("征求意见稿（草稿）") and "方为正式文件" in paragraphs[0]
    assert f"工业和信息化部办公厅关于{year}年度千兆城市建设情况的通报" in paragraphs
    assert "（征求意见稿）" in paragraphs
    assert [s.page_width > s.page_height for s in document.sections] == [False, True, False]  # 附件1 landscape


def test_annex_1_lists_every_gigabit_city_with_its_values_batch_and_policies(named, open_round, ministry_user):
    _job, content = produce(ministry_user, kind="circular", round=open_round.year)
    table = docx.Document(io.BytesIO(content)).tables[0]
    rows = [[cell.text for cell in row.cells] for row in table.rows]

    header = ["序号", "省份", "千兆城市", *(zh for _c, zh, _en in SUMMARY_COLUMNS), "支持政策", "备注"]
    assert rows[0] == header
    # MIIT's order: province by code, then city; this round's figures (issue 12); the policies of the
    # form the city was named on.
    designations = Designation.objects.select_related("city__province", "round").order_by(
        "city__province_id", "city_id"
    )
    forms = {(s.city_id, s.round.year): s for s in Submission.objects.select_related("round")}
    expected = []
    for number, d in enumerate(designations, start=1):
        form = forms.get((d.city_id, open_round.year))
        named_on = forms.get((d.city_id, d.round.year))
        expected.append(
            [
                str(number),
                d.city.province.name,
                d.city.name,
                *(shown(getattr(form, f"value_{code}") if form else None, code) for code, _zh, _en in SUMMARY_COLUMNS),
                (named_on.support_policies or "—") if named_on else "—",
                f"{d.round.year}年度",
            ]
        )
    assert rows[1 : 1 + len(expected)] == expected
    labels = [row[0] for row in rows[1 + len(expected) :]]
    assert labels == ["千兆城市平均", "其中：2021年度", f"其中：{open_round.year}年度", "全国平均水平"]
    assert rows[-1][3] == "15.7"  # the reference value of base stations per 10k
    # The table is the round's choice: without policies for a round that says so.
    Round.objects.filter(pk=open_round.pk).update(circular_policies=False)
    _job, content = produce(ministry_user, kind="circular", round=open_round.year)
    header_without = [c.text for c in docx.Document(io.BytesIO(content)).tables[0].rows[0].cells]
    assert header_without == [h for h in header if h != "支持政策"]


def test_annex_2_has_every_new_city_with_its_practices_as_text(named, open_round, ministry_user):
    _job, content = produce(ministry_user, kind="circular", round=open_round.year)
    document = docx.Document(io.BytesIO(content))
    paragraphs = texts(document)
    headings = [p.text for p in document.paragraphs if p.style.name == "Heading 1"]

    new = sorted(
        Designation.objects.filter(round=open_round).select_related("city__province"),
        key=lambda d: (d.city.province_id, d.city_id),
    )
    numerals = ["一", "二", "三", "四", "五", "六"]
    assert headings[4:] == [f"{n}、{d.city.province.name}{d.city.name}" for n, d in zip(numerals, new, strict=True)]
    assert headings[:4] == ["一、总体情况", "二、关键指标情况", "三、典型做法", "四、下一步工作"]
    assert f"网络建设方面：{AS_TEXT}" in paragraphs
    assert "用户推广方面：宽带提速" in paragraphs and "千兆进小区" in paragraphs
    # The typed field code, markup and formula are characters; the only fields are the page numbers.
    xml = body_xml(content)
    assert "fldSimple w:" not in xml.replace("&lt;w:fldSimple w:", "")
    assert xml.count("<w:instrText") == 0 and xml.count("<w:fldChar") == 0


def test_only_ministry_staff_write_the_circular_and_only_for_a_round_that_named_somebody(
    named, open_round, ministry_user, bureau_user, city_user
):
    assert request_document(bureau_user, kind="circular", round=open_round.year).status_code == 403
    assert request_document(city_user, kind="circular", round=open_round.year).status_code == 403
    Round.objects.create(year=open_round.year + 1, status="open")
    refused = request_document(ministry_user, kind="circular", round=open_round.year + 1)
    assert refused.status_code == 409
    assert refused.data["code"] == "nothing_to_show"
    assert "尚无城市被认定为千兆城市" in refused.data["detail"]
    assert not ExportJob.objects.filter(round__year=open_round.year + 1).exists()


def test_the_circular_in_english_for_an_english_page(named, open_round, ministry_user):
    client = api(ministry_user)
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(
            reverse("api:export-list"),
            {"kind": "circular", "round": open_round.year},
            format="json",
            HTTP_ACCEPT_LANGUAGE="en",
        )
    job = ExportJob.objects.get(pk=response.data["id"])
    content = b"".join(client.get(reverse("api:export-download", args=[job.pk])).streaming_content)
    document = docx.Document(io.BytesIO(content))
    assert document.sections[0].header.paragraphs[0].text == "Draft for comment"
    assert "(Draft for comment)" in texts(document)


# ------------------------------------------------------------------------------------------------
# The case collection
# ------------------------------------------------------------------------------------------------
@pytest.fixture
def cases(open_round, ministry_user):
    """Six 山东 forms in every state a case collection looks at, six cases each, two excellent."""
    cities = City.objects.filter(province="370000").order_by("code")[:6]
    forms = add_forms(
        round_=open_round,
        cities=cities,
        rng=random.Random(8),
        states=[
            Status.RECOMMENDED,
            Status.APPROVED,
            Status.SENT_BACK,
            Status.REJECTED,
            Status.RETURNED,
            Status.SUBMITTED,
        ],
        cases=6,
        excellent=2,
        case_text={
            "description": "建设5G专网\n部署边缘计算",
            "pain_points": "生产数据采集难",
            "replicability": "可推广至同类园区",
            "partners": "中国移动",
        },
    )
    case = Case.objects.get(submission=forms[0], position=0)
    case.title = MALICIOUS
    case.save()
    make_attachment(forms[0], "验收报告.pdf", case=case, uploaded_by=ministry_user)
    return forms


def collected(excellent_only: bool) -> list[Case]:
    """The cases the collection must hold, read here from the rows: recommended, sent back and approved
    forms (not rejected, returned or submitted)."""
    query = Case.objects.filter(submission__status__in=[Status.RECOMMENDED, Status.SENT_BACK, Status.APPROVED])
    if excellent_only:
        query = query.filter(is_excellent=True)
    return list(query.select_related("submission__city"))


def chapters_of(document) -> dict[str, list[str]]:
    """Heading 1 → the Heading 2 titles under it."""
    out: dict[str, list[str]] = {}
    current = None
    for paragraph in document.paragraphs:
        if paragraph.style.name == "Heading 1":
            current = paragraph.text
            out[current] = []
        elif paragraph.style.name == "Heading 2" and current is not None:
            out[current].append(paragraph.text)
    return out


@pytest.mark.parametrize("excellent_only", [True, False])
def test_the_case_collection_has_a_cover_contents_and_the_cases_by_domain(
    cases, open_round, ministry_user, excellent_only
):
    _job, content = produce(ministry_user, kind="casebook", round=open_round.year, excellent_only=excellent_only)
    document = docx.Document(io.BytesIO(content))
    paragraphs = texts(document)
    expected = collected(excellent_only)
    numerals = ["一", "二", "三", "四", "五"]

    chapters = chapters_of(document)
    assert list(chapters) == [f"{n}、{zh}" for n, (_code, zh, _en) in zip(numerals, CASE_DOMAINS, strict=True)]
    for (code, zh, _en), n in zip(CASE_DOMAINS, numerals, strict=True):
        mine = [c for c in expected if c.domain == code]
        titles = chapters[f"{n}、{zh}"]
        assert len(titles) == len(mine)
        assert Counter(re.sub(r"^\d+\. ", "", t) for t in titles) == Counter(
            f"{c.title.replace(chr(1), '')}（{c.submission.city.name}）" for c in mine
        )
        # The contents list each domain with its number of cases.
        assert f"{n}、{zh}（{len(mine)}）" in paragraphs
    # The bureaus' excellent cases first in each domain.
    excellent = {f"{c.title.replace(chr(1), '')}（{c.submission.city.name}）": c.is_excellent for c in expected}
    for titles in chapters.values():
        flags = [excellent[re.sub(r"^\d+\. ", "", t)] for t in titles]
        assert flags == sorted(flags, reverse=True)
    cover = "年度“双千兆”优秀应用案例集" if excellent_only else "年度“双千兆”应用案例集"
    assert f"{open_round.year}{cover}" in paragraphs[:10]
    assert "解决的问题：生产数据采集难" in paragraphs
    assert "主要做法：建设5G专网" in paragraphs and "部署边缘计算" in paragraphs
    assert "附件：验收报告.pdf" in paragraphs
    assert "合作单位：中国移动" in paragraphs
    # The malicious title is text in the heading and in the contents; the one field is the contents'.
    assert any(AS_TEXT in t for titles in chapters.values() for t in titles)
    xml = body_xml(content)
    assert xml.count("<w:instrText") == 1 and 'TOC \\o "1-2"' in xml


def test_the_case_collection_follows_the_exports_scope(
    cases, open_round, bureau_user, bureau_user_other_province, city_user
):
    _job, content = produce(bureau_user, kind="casebook", round=open_round.year, province="370000")
    cities = {c.submission.city.name for c in collected(True)}
    heading_cities = {
        re.search(r"（(.+)）$", t).group(1)
        for titles in chapters_of(docx.Document(io.BytesIO(content))).values()
        for t in titles
    }
    assert heading_cities == cities

    refused = request_document(bureau_user_other_province, kind="casebook", round=open_round.year)
    assert refused.status_code == 409 and refused.data["code"] == "nothing_to_show"
    assert request_document(city_user, kind="casebook", round=open_round.year).status_code == 403


def test_a_round_without_cases_says_so(open_round, ministry_user):
    refused = request_document(ministry_user, kind="casebook", round=open_round.year)
    assert refused.status_code == 409
    assert refused.data["code"] == "nothing_to_show"
    assert refused.data["detail"].startswith(f"{open_round.year}年度暂无可汇编的案例")


def test_the_exports_page_offers_the_circular_to_the_ministry_only_and_says_when_there_is_nothing(
    open_round, ministry_user, bureau_user
):
    from django.test import Client

    bureau, ministry = Client(), Client()
    bureau.force_login(bureau_user)
    ministry.force_login(ministry_user)
    assert 'value="circular"' not in bureau.get(reverse("reviews:exports")).content.decode()
    assert 'value="casebook"' in bureau.get(reverse("reviews:exports")).content.decode()
    assert 'value="circular"' in ministry.get(reverse("reviews:exports")).content.decode()

    response = ministry.post(reverse("reviews:exports"), {"kind": "circular", "round": open_round.year}, follow=True)
    assert "尚无城市被认定为千兆城市" in response.content.decode()
    assert not ExportJob.objects.exists()
