"""The survey form in the browser (server side): saving drafts, refusing bad input without losing it,
conflicts between two tabs, submitting, cases, and who may do what."""

from __future__ import annotations

import datetime
import random

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from gigacity.models import City, Role
from reviews.demo import demo_data
from reviews.services import extension_grant, submission_return
from submissions import selectors
from submissions.models import AttachmentKind, DataChange, Status, Submission
from submissions.services import submission_get_or_create, submission_update
from submissions.snapshots import CASE_FIELDS
from tests.factories import make_attachment, make_submission

pytestmark = pytest.mark.django_db


def form_post(submission, *, values=None, cases=None, version=None, action="save", **extra):
    """What the browser sends: every data field (as typed) and the cases in page order."""
    data = {"version": submission.version if version is None else version, "action": action}
    data.update({k: v for k, v in (values or {}).items()})
    cases = cases if cases is not None else []
    data["cases-TOTAL"] = len(cases)
    for index, case in enumerate(cases):
        for name, value in case.items():
            data[f"cases-{index}-{name}"] = "" if value is None else value
    data.update(extra)
    return data


@pytest.fixture
def draft(open_round, city_user):
    return submission_get_or_create(city=city_user.city, round_=open_round, actor=city_user)


@pytest.fixture
def complete_values(city_user):
    data, cases = demo_data(city_user.city, random.Random(1))
    values = {k: (v.isoformat() if isinstance(v, datetime.date) else str(v)) for k, v in data.items()}
    return values, cases


def test_opening_the_form_creates_the_draft_once(client, city_user, open_round):
    client.force_login(city_user)
    first = client.get("/city/form/")
    second = client.get("/city/form/")
    submission = Submission.objects.get(city=city_user.city, round=open_round)
    assert first["Location"] == second["Location"] == f"/submissions/{submission.pk}/edit/"
    page = client.get(first["Location"]).content.decode()
    assert "2026" in page or str(open_round.year) in page
    assert "基本情况" in page and "网络建设" in page and "用户发展" in page and "应用创新" in page


def test_a_draft_is_saved_with_numbers_as_officials_type_them(client, city_user, draft):
    client.force_login(city_user)
    response = client.post(
        f"/submissions/{draft.pk}/edit/",
        form_post(
            draft,
            values={
                "urban_households": "1,234,567",
                "gigabit_capable_households": "１２３４５６７",
                "bs5g_count": " 12 345 ",
                "contact_name": "王明",
            },
        ),
    )

    assert response.status_code == 302
    draft.refresh_from_db()
    assert (draft.urban_households, draft.gigabit_capable_households, draft.bs5g_count) == (1234567, 1234567, 12345)
    assert str(draft.value_fiber_gigabit_coverage) == "100.00"
    assert draft.version == 2
    change = DataChange.objects.get(submission=draft)
    assert change.changes["urban_households"] == [None, 1234567] and change.actor == city_user
    assert "已保存" in client.get(response["Location"]).content.decode()


def test_a_wrong_number_is_refused_next_to_the_field_and_nothing_typed_is_lost(client, city_user, draft):
    client.force_login(city_user)
    response = client.post(
        f"/submissions/{draft.pk}/edit/",
        form_post(
            draft,
            values={
                "urban_households": "12万",
                "bs5g_count": "12,345",
                "contact_name": "王明",
            },
        ),
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert "须为非负整数" in page and 'data-testid="error-summary"' in page
    # The summary names the field and links to it
    summary = page[
        page.index('data-testid="error-summary"') : page.index("</ul>", page.index('data-testid="error-summary"'))
    ]
    assert 'href="#id_urban_households"' in summary and "城市家庭总户数" in summary
    assert 'value="12万"' in page and 'value="12,345"' in page and 'value="王明"' in page
    draft.refresh_from_db()
    assert draft.bs5g_count is None and draft.version == 1  # all or nothing


def test_a_second_tab_saving_an_older_version_gets_a_conflict_not_an_overwrite(client, city_user, draft, bureau_user):
    submission_update(submission_id=draft.pk, actor=bureau_user, data={"bs5g_count": 9000}, expected_version=1)
    client.force_login(city_user)

    response = client.post(f"/submissions/{draft.pk}/edit/", form_post(draft, version=1, values={"bs5g_count": "8000"}))

    assert response.status_code == 409
    page = response.content.decode()
    assert "shandong" in page and "修改了调查表" in page
    assert 'value="8000"' in page  # what this tab typed is still there
    assert "9,000" in page  # and the newer saved value is shown beside it
    draft.refresh_from_db()
    assert draft.bs5g_count == 9000

    overwrite = client.post(
        f"/submissions/{draft.pk}/edit/", form_post(draft, version=1, overwrite="1", values={"bs5g_count": "8000"})
    )
    assert overwrite.status_code == 302
    draft.refresh_from_db()
    assert draft.bs5g_count == 8000
    assert DataChange.objects.filter(submission=draft).count() == 2  # both saves are in the history


def test_submitting_an_incomplete_form_saves_it_and_lists_what_is_missing(client, city_user, draft):
    client.force_login(city_user)
    response = client.post(
        f"/submissions/{draft.pk}/edit/",
        form_post(
            draft,
            values={"bs5g_count": "100", "resident_population": "0"},
            cases=[{"title": "智慧港口", "domain": "industry"}],
            action="submit",
        ),
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert "已保存为草稿" in page or "已保存" in page
    assert "不能为0" in page and "必填" in page
    assert "应用案例应不少于 5 个，目前为 1 个" in page
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT and draft.bs5g_count == 100


def test_a_complete_form_is_submitted_and_becomes_read_only(client, city_user, draft, complete_values):
    values, cases = complete_values
    client.force_login(city_user)

    response = client.post(
        f"/submissions/{draft.pk}/edit/", form_post(draft, values=values, cases=cases, action="submit")
    )

    assert response.status_code == 302 and response["Location"] == f"/submissions/{draft.pk}/"
    draft.refresh_from_db()
    assert draft.status == Status.SUBMITTED and draft.cases.count() == 6
    again = client.get(f"/submissions/{draft.pk}/edit/")
    assert again.status_code == 302 and again["Location"] == f"/submissions/{draft.pk}/"


def test_cases_are_added_reordered_and_removed_as_on_the_page(client, city_user, draft):
    client.force_login(city_user)
    client.post(
        f"/submissions/{draft.pk}/edit/",
        form_post(
            draft,
            cases=[
                {"title": "A", "domain": "industry"},
                {"title": "B", "domain": "government"},
                {"title": "", "domain": ""},
            ],
        ),
    )
    a, b = draft.cases.order_by("position")
    draft.refresh_from_db()

    client.post(
        f"/submissions/{draft.pk}/edit/",
        form_post(
            draft,
            cases=[
                {"id": b.pk, "title": "B2", "domain": "government"},
                {"title": "C", "domain": "consumer"},
            ],
        ),
    )

    assert list(draft.cases.order_by("position").values_list("title", flat=True)) == ["B2", "C"]
    assert not draft.cases.filter(pk=a.pk).exists()


def test_saving_one_number_costs_the_same_queries_with_five_cases_or_twenty(client, city_user, draft, complete_values):
    """The browser posts the whole form, every case with it: cases nobody changed are not written."""
    values, cases = complete_values
    client.force_login(city_user)
    url = f"/submissions/{draft.pk}/edit/"

    def save_one_number(count: int) -> int:
        draft.refresh_from_db()
        items = [{"id": c.pk, **{k: getattr(c, k) for k in CASE_FIELDS}} for c in draft.cases.all()]
        with CaptureQueriesContext(connection) as captured:
            response = client.post(url, form_post(draft, values={**values, "bs5g_count": str(count)}, cases=items))
        assert response.status_code == 302
        return len(captured)

    client.post(url, form_post(draft, values=values, cases=cases[:5]))
    with_five = save_one_number(1000)
    draft.refresh_from_db()
    more = [{"title": f"案例{i}", "domain": "industry"} for i in range(15)]
    items = [{"id": c.pk, **{k: getattr(c, k) for k in CASE_FIELDS}} for c in draft.cases.all()]
    client.post(url, form_post(draft, values={**values, "bs5g_count": "1000"}, cases=items + more))
    with_twenty = save_one_number(1001)

    draft.refresh_from_db()
    assert draft.cases.count() == 20 and draft.bs5g_count == 1001
    assert with_twenty == with_five
    change = DataChange.objects.filter(submission=draft).latest("pk")
    assert change.changes == {"bs5g_count": [1000, 1001]}


def test_key_site_totals_are_the_sums_of_the_categories(client, city_user, draft):
    client.force_login(city_user)
    client.post(
        f"/submissions/{draft.pk}/edit/",
        form_post(
            draft,
            values={
                "ks_hospital_total": "12",
                "ks_hospital_covered": "12",
                "ks_road_total": "30",
                "ks_road_covered": "27",
                "key_sites_total": "999",  # derived from the categories, so not taken from the page
            },
        ),
    )
    draft.refresh_from_db()
    assert (draft.key_sites_total, draft.key_sites_5g_covered) == (42, 39)
    assert str(draft.value_key_sites_5g_reach) == "92.90"


def test_last_rounds_values_are_shown_beside_the_inputs(client, city_user, draft, reference):
    from indicators.models import Round
    from indicators.reference import ensure_thresholds

    last_year = Round.objects.create(
        year=draft.round.year - 1, status="open", deadline=timezone.localdate() + datetime.timedelta(days=3)
    )
    ensure_thresholds(last_year)
    make_submission(city_user.city, last_year, Status.SUBMITTED, bs5g_count=7654)
    client.force_login(city_user)

    page = client.get(f"/submissions/{draft.pk}/edit/").content.decode()

    assert f"{last_year.year}年：7,654" in page


def test_the_bureaus_comments_appear_next_to_the_fields_after_a_return(client, city_user, bureau_user, open_round):
    submission = make_submission(city_user.city, open_round, Status.SUBMITTED)
    case = submission.cases.first()
    submission_return(
        submission_id=submission.pk,
        actor=bureau_user,
        reason="请核实基站数",
        comments={"bs5g_count": "与运营商数据不一致", f"case:{case.pk}": "请补充合作单位"},
    )
    client.force_login(city_user)

    page = client.get(f"/submissions/{submission.pk}/edit/").content.decode()

    assert "请核实基站数" in page
    assert 'data-testid="comment-bs5g_count"' in page and "与运营商数据不一致" in page
    assert "请补充合作单位" in page


def test_the_bureau_can_fill_in_on_the_citys_behalf_but_not_submit(client, bureau_user, draft):
    client.force_login(bureau_user)
    page = client.get(f"/submissions/{draft.pk}/edit/").content.decode()
    assert "代" in page and 'value="submit"' not in page
    assert '<span data-testid="last-saved">尚未保存</span>' in page

    client.post(f"/submissions/{draft.pk}/edit/", form_post(draft, values={"bs5g_count": "5000"}))

    change = DataChange.objects.get(submission=draft)
    assert change.actor_role == Role.BUREAU and change.on_behalf
    page = client.get(f"/submissions/{draft.pk}/").content.decode()
    assert "代城市修改了数据" in page
    # The heading: when and by whom it was saved last, on the city's behalf.
    when = timezone.localtime(change.created_at).strftime("%Y-%m-%d %H:%M")
    who = bureau_user.full_name or bureau_user.username
    assert f'<span data-testid="last-saved">最近保存 {when}（{who}，代城市填报）</span>' in page

    # A forged "submit" from the bureau: its changes are kept, the submission is refused in words.
    draft.refresh_from_db()
    response = client.post(
        f"/submissions/{draft.pk}/edit/", form_post(draft, values={"bs5g_count": "6000"}, action="submit"), follow=True
    )
    assert response.status_code == 200 and "您的角色无权" in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT and draft.bs5g_count == 6000


def test_other_cities_provinces_and_the_ministry_cannot_edit(
    client, draft, city_user_same_province, bureau_user_other_province, ministry_user
):
    for user, status in ((city_user_same_province, 404), (bureau_user_other_province, 404), (ministry_user, 403)):
        client.force_login(user)
        assert client.get(f"/submissions/{draft.pk}/edit/").status_code == status
        assert (
            client.post(f"/submissions/{draft.pk}/edit/", form_post(draft, values={"bs5g_count": "1"})).status_code
            == status
        )
    draft.refresh_from_db()
    assert draft.bs5g_count is None


def test_after_the_deadline_the_city_can_save_but_not_submit_until_extended(
    client, city_user, bureau_user, draft, complete_values
):
    round_ = draft.round
    round_.deadline = timezone.localdate() - datetime.timedelta(days=1)
    round_.save()
    values, cases = complete_values
    client.force_login(city_user)

    response = client.post(
        f"/submissions/{draft.pk}/edit/", form_post(draft, values=values, cases=cases, action="submit"), follow=True
    )

    page = response.content.decode()
    assert "已过截止日期" in page
    assert 'disabled aria-disabled="true" aria-describedby="deadline-note"' in page  # the button says why
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT and draft.cases.count() == 6  # saved, not submitted

    extension_grant(
        city=City.objects.get(pk=city_user.city_id),
        round_=round_,
        until=timezone.localdate() + datetime.timedelta(days=3),
        reason="数据复核",
        actor=bureau_user,
    )
    client.post(
        f"/submissions/{draft.pk}/edit/",
        form_post(
            draft,
            values=values,
            cases=[
                {
                    "id": c.pk,
                    **{
                        k: getattr(c, k)
                        for k in ("title", "domain", "description", "pain_points", "replicability", "partners")
                    },
                }
                for c in draft.cases.all()
            ],
            action="submit",
        ),
    )
    draft.refresh_from_db()
    assert draft.status == Status.SUBMITTED


def test_a_page_that_sends_no_cases_leaves_them_alone(client, city_user, open_round):
    submission = make_submission(city_user.city, open_round, Status.DRAFT)
    client.force_login(city_user)

    response = client.post(
        f"/submissions/{submission.pk}/edit/", {"version": submission.version, "bs5g_count": "4321", "action": "save"}
    )

    assert response.status_code == 302
    submission.refresh_from_db()
    assert submission.bs5g_count == 4321 and submission.cases.count() == 6


def test_malformed_numbers_in_the_page_never_cause_a_server_error(client, city_user, draft):
    client.force_login(city_user)
    response = client.post(
        f"/submissions/{draft.pk}/edit/",
        {"version": "²", "cases-TOTAL": "1", "cases-0-id": "²", "cases-0-title": "x", "action": "save"},
    )
    assert response.status_code == 409  # no usable version: a conflict, never an unchecked save


def test_contradicting_numbers_need_the_citys_confirmation_to_submit(client, city_user, draft, complete_values):
    values, cases = complete_values
    values = {**values, "users_5g": "9000000", "mobile_users_total": "6600000"}
    client.force_login(city_user)

    refused = client.post(
        f"/submissions/{draft.pk}/edit/", form_post(draft, values=values, cases=cases, action="submit")
    )
    assert refused.status_code == 400
    page = refused.content.decode()
    assert "5G用户数（9,000,000）大于移动电话用户总数（6,600,000）" in page
    assert 'name="confirm_inconsistent"' in page
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT

    saved_cases = [
        {
            "id": c.pk,
            **{
                k: getattr(c, k) for k in ("title", "domain", "description", "pain_points", "replicability", "partners")
            },
        }
        for c in draft.cases.all()
    ]
    accepted = client.post(
        f"/submissions/{draft.pk}/edit/",
        form_post(draft, values=values, cases=saved_cases, action="submit", confirm_inconsistent="1"),
    )
    assert accepted.status_code == 302
    draft.refresh_from_db()
    assert draft.status == Status.SUBMITTED
    event = draft.events.get()
    assert event.details["confirmed_inconsistencies"] == ["users_5g_above_mobile_users_total"]


def test_the_same_case_entered_twice_is_refused_at_the_second_one(client, city_user, draft, complete_values):
    values, cases = complete_values
    first = {**cases[0], "title": "青岛市5G+智慧港口"}
    cases = [first, *cases[1:5], {**first, "title": " 青岛市 ５Ｇ＋智慧港口 "}]  # full-width, spaced
    client.force_login(city_user)

    refused = client.post(
        f"/submissions/{draft.pk}/edit/", form_post(draft, values=values, cases=cases, action="submit")
    )

    assert refused.status_code == 400
    assert "与案例 1 标题相同" in refused.content.decode()
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT and draft.cases.count() == 6  # kept, to be corrected


def test_demo_cases_are_all_different_applications(city_user):
    for seed in range(20):
        _data, cases = demo_data(city_user.city, random.Random(seed), cases=14)
        assert len({case["title"] for case in cases}) == 14


def test_a_draft_in_a_closed_round_cannot_be_opened_and_a_late_save_keeps_what_was_typed(
    client, city_user, draft, complete_values
):
    values, cases = complete_values
    client.force_login(city_user)
    page = client.get(f"/submissions/{draft.pk}/edit/")  # the page is open when the round closes
    draft.round.status = "closed"
    draft.round.save()

    response = client.post(f"/submissions/{draft.pk}/edit/", form_post(draft, values=values, cases=cases))

    assert page.status_code == 200 and response.status_code == 409
    body = response.content.decode()
    assert f"{draft.round.year}年度评估未在进行中，调查表不能再修改。" in body
    assert 'data-testid="refused"' in body and values["contact_name"] in body  # typed, not lost
    draft.refresh_from_db()
    assert draft.version == 1 and draft.contact_name == ""
    reopened = client.get(f"/submissions/{draft.pk}/edit/", follow=True)
    assert reopened.redirect_chain[-1][0] == f"/submissions/{draft.pk}/"
    assert 'data-testid="open-form"' not in client.get("/city/").content.decode()  # no "continue filling in"


def test_the_form_page_costs_the_same_queries_with_five_cases_or_twenty(client, city_user, draft, complete_values):
    """Issue 16: the page of the busiest users reads each thing once, whatever the number of cases
    and saves."""
    values, cases = complete_values
    client.force_login(city_user)
    url = f"/submissions/{draft.pk}/edit/"

    def page_queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        assert response.status_code == 200
        return len(captured)

    client.post(url, form_post(draft, values=values, cases=cases[:5]))
    with_five = page_queries()
    draft.refresh_from_db()
    items = [{"id": c.pk, **{k: getattr(c, k) for k in CASE_FIELDS}} for c in draft.cases.all()]
    more = [{"title": f"案例{i}", "domain": "industry"} for i in range(15)]
    client.post(url, form_post(draft, values={**values, "bs5g_count": "1000"}, cases=items + more))

    assert draft.cases.count() == 20
    assert page_queries() == with_five
    # The previous form, the events (last return, last step) and the cover letter read once each
    # (21 queries here before issue 16; the evidence requests beside the fields, issue 13, are one read).
    assert with_five <= 17


def test_each_case_lists_its_own_attachments_and_the_cover_letter_none(client, city_user, draft, complete_values):
    """The cases' attachments are read with the form's: each case still shows only its own files, on
    the form and on the form's page, and the stamped cover letter is under no case."""
    values, cases = complete_values
    client.force_login(city_user)
    url = f"/submissions/{draft.pk}/edit/"
    client.post(url, form_post(draft, values=values, cases=cases[:3]))
    first, second, third = draft.cases.order_by("position")

    def attach(name, case=None, kind=AttachmentKind.EVIDENCE):
        return make_attachment(draft, name, case=case, kind=kind, uploaded_by=city_user)

    a1, a2, b1 = attach("一号甲.pdf", first), attach("一号乙.pdf", first), attach("三号.pdf", third)
    attach("报送函.pdf", kind=AttachmentKind.COVER_LETTER)

    def case_cards(html: str) -> list[str]:
        return html.split('data-case data-case-id="')[1:]

    cards = case_cards(client.get(url).content.decode())
    assert [card.split('"')[0] for card in cards[:3]] == [str(first.pk), str(second.pk), str(third.pk)]
    assert f'data-attachment-id="{a1.pk}"' in cards[0] and f'data-attachment-id="{a2.pk}"' in cards[0]
    assert cards[0].index("一号甲.pdf") < cards[0].index("一号乙.pdf")
    assert "data-attachment-id" not in cards[1]
    assert f'data-attachment-id="{b1.pk}"' in cards[2] and "一号" not in cards[2]
    assert "报送函.pdf" not in "".join(cards)

    page = client.get(f"/submissions/{draft.pk}/").content.decode()
    for attachment in (a1, a2, b1):
        assert f'/{attachment.pk}/">{attachment.original_name}</a>' in page


def test_a_refused_save_shows_each_case_with_its_attachments(client, city_user, draft, complete_values):
    """What was typed comes back beside the stored form: the cases keep their files on the page."""
    values, cases = complete_values
    client.force_login(city_user)
    url = f"/submissions/{draft.pk}/edit/"
    client.post(url, form_post(draft, values=values, cases=cases[:2]))
    first, second = draft.cases.order_by("position")
    make_attachment(draft, "二号.pdf", case=second, uploaded_by=city_user)
    draft.refresh_from_db()
    typed = [{"id": first.pk, **cases[0]}, {"id": second.pk, **cases[1], "title": "改过的标题"}]

    refused = client.post(url, form_post(draft, values={**values, "bs5g_count": "很多"}, cases=typed))

    assert refused.status_code == 400
    cards = refused.content.decode().split('data-case data-case-id="')[1:]
    assert "二号.pdf" not in cards[0]
    assert "二号.pdf" in cards[1] and "改过的标题" in cards[1]


def test_the_form_and_a_save_ask_few_statements_whatever_the_cases(
    client, city_user, draft, complete_values, django_assert_max_num_queries
):
    """The page and the save read the form, its cases and their attachments in a fixed number of
    statements: a city with many cases waits no longer."""
    values, cases = complete_values
    client.force_login(city_user)
    url = f"/submissions/{draft.pk}/edit/"
    for count in (5, 12):
        client.post(url, form_post(draft, values=values, cases=(cases * 3)[:count]))
        draft.refresh_from_db()
        with django_assert_max_num_queries(14):
            assert client.get(url).status_code == 200
        typed = [{"id": case.pk, **{name: getattr(case, name) for name in CASE_FIELDS}} for case in draft.cases.all()]
        with django_assert_max_num_queries(11):
            saved = client.post(url, form_post(draft, values={**values, "bs5g_count": str(count)}, cases=typed))
        assert saved.status_code == 302


# Deadlines as days from today: the round's (None: the round has none) and the extensions the city was
# granted, oldest first (an extension must be later than the round's deadline). The rule (PRODUCT.md):
# the round's deadline, or the city's latest extension when that is later; a later grant replaces an
# earlier one, even with an earlier date.
DEADLINE_CASES = [
    (10, [], 10),
    (10, [15], 15),
    (-1, [3], 3),
    (-1, [3, 1], 1),
    (-1, [1, 3], 3),
    (-3, [0], 0),
    (None, [], None),
    (None, [4], 4),
    # The round's deadline moved past an extension granted before: the round's is the later.
    ((-1, 10), [3], 10),
]


@pytest.mark.parametrize(("round_days", "extension_days", "expected_days"), DEADLINE_CASES)
def test_the_form_shows_the_city_s_deadline_with_its_latest_extension(
    client, city_user, bureau_user, draft, round_days, extension_days, expected_days
):
    today = timezone.localdate()
    round_ = draft.round
    first_days, then_days = round_days if isinstance(round_days, tuple) else (round_days, round_days)
    round_.deadline = today + datetime.timedelta(days=first_days) if first_days is not None else None
    round_.save()
    city = City.objects.get(pk=city_user.city_id)
    for days in extension_days:
        extension_grant(
            city=city, round_=round_, until=today + datetime.timedelta(days=days), reason="复核", actor=bureau_user
        )
    round_.deadline = today + datetime.timedelta(days=then_days) if then_days is not None else None
    round_.save()
    expected = today + datetime.timedelta(days=expected_days) if expected_days is not None else None

    client.force_login(city_user)
    page = " ".join(client.get(f"/submissions/{draft.pk}/edit/").content.decode().split())
    submit_disabled = 'disabled aria-disabled="true" aria-describedby="deadline-note"' in page
    if expected is None:
        assert 'data-testid="deadline"' not in page and not submit_disabled
    else:
        assert f"截止日期 {expected:%Y-%m-%d}" in page
        assert submit_disabled == (expected < today)
    # The submission's page reads the same deadline with the form (it warns a bureau that a return
    # after it needs an extension).
    assert selectors.submission_detail(user=city_user, pk=draft.pk).deadline == expected

    # And the city's home page says so, with the form begun and, the same, before it is begun
    # (A round without a deadline has nothing to extend: its page shows the extension as the deadline.)
    extended = expected is not None and round_.deadline is not None and expected > round_.deadline
    for _ in ("with the form", "before it"):
        home = " ".join(client.get("/city/").content.decode().split())
        if expected is not None:
            assert f"截止日期 {expected:%Y-%m-%d}" in home
        assert ("省通信管理局已将您的截止日期延至" in home) == extended
        Submission.objects.filter(pk=draft.pk).delete()
