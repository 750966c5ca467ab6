"""The bureau's and the ministry's pages: queues, returning with comments, the diff on resubmission,
recommending, deciding, bulk actions, extensions, rounds and thresholds."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from gigacity.models import City, Role
from indicators.models import Designation, RoundStatus, ThresholdChange
from reviews.services import submission_recommend, submission_return
from submissions.models import Action, DataChange, Extension, Score, Status
from submissions.services import submission_submit, submission_update
from tests.conftest import make_user
from tests.factories import make_submission

pytestmark = pytest.mark.django_db


def test_the_bureau_queue_lists_every_city_of_the_province_with_its_state(client, bureau_user, open_round):
    make_submission(City.objects.get(pk="370200"), open_round, Status.SUBMITTED)
    make_submission(City.objects.get(pk="370100"), open_round, Status.DRAFT, complete=False)
    client.force_login(bureau_user)

    page = client.get("/bureau/").content.decode()

    assert page.count("data-city=") == 16  # every city of 山东, started or not
    assert "青岛市" in page and "菏泽市" in page
    assert 'data-testid="waiting">1<' in page
    not_started = client.get("/bureau/?status=not_started").content.decode()
    assert not_started.count("data-city=") == 14 and "青岛市" not in not_started


def test_the_bureau_queue_filters_by_flags_and_sorts(client, bureau_user, open_round):
    flagged = make_submission(City.objects.get(pk="370200"), open_round, Status.SUBMITTED, users_1000m=10**7)
    make_submission(City.objects.get(pk="370100"), open_round, Status.SUBMITTED)
    flagged.refresh_from_db()
    client.force_login(bureau_user)

    critical = client.get("/bureau/?severity=3").content.decode()
    by_flags = client.get("/bureau/?sort=flags").content.decode()

    assert "青岛市" in critical and "济南市" not in critical
    assert by_flags.index("青岛市") < by_flags.index("济南市")


def test_the_bureau_queue_searches_by_city_name_or_code_with_the_filters_and_keeps_the_query(
    client, bureau_user, open_round
):
    make_submission(City.objects.get(pk="370200"), open_round, Status.SUBMITTED)
    make_submission(City.objects.get(pk="370100"), open_round, Status.SUBMITTED)
    client.force_login(bureau_user)

    by_name = client.get("/bureau/", {"q": "青岛"}).content.decode()
    by_code = client.get("/bureau/", {"q": "３７０１"}).content.decode()  # typed with a full-width IME
    with_filter = client.get("/bureau/", {"q": "市", "status": "submitted", "sort": "status"}).content.decode()
    nothing = client.get("/bureau/", {"q": "北京"}).content.decode()

    assert 'type="search" name="q" value="青岛"' in by_name  # the query stays in the box (and the URL)
    assert by_name.count("data-city=") == 1 and 'data-city="370200"' in by_name
    assert "1 个城市符合“青岛”" in by_name
    assert by_code.count("data-city=") == 1 and 'data-city="370100"' in by_code
    assert with_filter.count("data-city=") == 2  # 山东's 16 cities all end in 市; two are submitted
    assert with_filter.index("济南市") < with_filter.index("青岛市")
    assert 'name="next" value="/bureau/?q=' in with_filter  # after a bulk action, back to the same list
    assert nothing.count("data-city=") == 0 and "没有符合条件的城市" in nothing


def test_return_with_field_comments_reaches_the_city_and_the_diff_reaches_the_bureau(
    client, bureau_user, city_user, open_round, django_capture_on_commit_callbacks
):
    submission = make_submission(city_user.city, open_round, Status.SUBMITTED)
    case = submission.cases.first()
    client.force_login(bureau_user)
    response = client.post(
        f"/submissions/{submission.pk}/act/return/",
        {
            "version": submission.version,
            "reason": "基站数偏高，请核实",
            "comment_field_0": "bs5g_count",
            "comment_text_0": "与运营商数据差距较大",
            "comment_field_1": f"case:{case.pk}",
            "comment_text_1": "请补充合作单位",
        },
    )
    assert response.status_code == 302
    submission.refresh_from_db()
    assert submission.status == Status.RETURNED

    client.force_login(city_user)
    page = client.get(f"/submissions/{submission.pk}/").content.decode()
    assert "基站数偏高，请核实" in page and "与运营商数据差距较大" in page and "请补充合作单位" in page
    assert 'data-testid="score-stale"' not in page  # returned, but the data are still those checked

    submission = submission_update(
        submission_id=submission.pk, actor=city_user, data={"bs5g_count": 9000}, expected_version=submission.version
    )
    stale = client.get(f"/submissions/{submission.pk}/").content.decode()
    assert 'data-testid="score-stale"' in stale and "数据已修改" in stale
    with django_capture_on_commit_callbacks(execute=True):
        submission_submit(submission_id=submission.pk, actor=city_user)

    client.force_login(bureau_user)
    page = client.get(f"/submissions/{submission.pk}/").content.decode()
    assert 'data-testid="diff"' in page
    assert 'data-testid="score-stale"' not in page  # scored again on submission
    diff = page[page.index('data-testid="diff"') :]
    diff = diff[: diff.index("</section>")]
    assert "5G基站数" in diff and "9,000" in diff
    assert "常住人口数" not in diff  # only what changed


def test_recommend_marks_the_chosen_cases_excellent_and_approval_names_the_city(
    client, bureau_user, ministry_user, open_round
):
    # 烟台 has never been named: its form is an evaluation, and approving it names the city.
    city_user = make_user("yantai", Role.CITY, city="370600")
    submission = make_submission(city_user.city, open_round, Status.SUBMITTED)
    first, second = list(submission.cases.all())[:2]
    client.force_login(bureau_user)
    client.post(
        f"/submissions/{submission.pk}/act/recommend/",
        {"version": submission.version, "excellent": [first.pk, second.pk], "note": "数据已核实"},
    )
    submission.refresh_from_db()
    assert submission.status == Status.RECOMMENDED and submission.recommend_note == "数据已核实"
    assert set(submission.cases.filter(is_excellent=True).values_list("pk", flat=True)) == {first.pk, second.pk}

    client.force_login(ministry_user)
    assert "烟台市" in client.get("/ministry/queue/").content.decode()
    client.post(f"/submissions/{submission.pk}/act/approve/", {"version": submission.version})

    submission.refresh_from_db()
    assert submission.status == Status.APPROVED
    assert Designation.objects.filter(city=city_user.city, round=open_round, source="approved").exists()
    decided = client.get(f"/submissions/{submission.pk}/").content.decode()
    assert 'data-testid="score"' in decided and 'data-testid="score-stale"' not in decided  # no data changed
    client.force_login(city_user)
    assert f"{open_round.year}年度千兆城市" in client.get("/city/").content.decode()


def test_a_refused_action_keeps_what_was_typed(client, bureau_user, city_user, open_round):
    submission = make_submission(city_user.city, open_round, Status.SUBMITTED)
    client.force_login(bureau_user)

    response = client.post(
        f"/submissions/{submission.pk}/act/return/",
        {
            "version": submission.version,
            "reason": "",
            "comment_field_0": "bs5g_count",
            "comment_text_0": "请核实基站数",
        },
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert "请填写理由" in page and 'value="请核实基站数"' in page


def test_a_stale_action_is_refused_with_who_changed_it(client, bureau_user, city_user, open_round):
    submission = make_submission(city_user.city, open_round, Status.SUBMITTED)
    stale_version = submission.version
    submission_return(submission_id=submission.pk, actor=bureau_user, reason="先退回")
    client.force_login(bureau_user)

    response = client.post(f"/submissions/{submission.pk}/act/recommend/", {"version": stale_version})

    assert response.status_code == 409
    assert "shandong" in response.content.decode()


def test_bulk_recommend_checks_each_submission_on_its_own(client, bureau_user, open_round):
    ready = make_submission(City.objects.get(pk="370200"), open_round, Status.SUBMITTED)
    draft = make_submission(City.objects.get(pk="370100"), open_round, Status.DRAFT)
    other_province = make_submission(City.objects.get(pk="320300"), open_round, Status.SUBMITTED)
    client.force_login(bureau_user)

    response = client.post(
        "/bureau/bulk/", {"ids": [ready.pk, draft.pk, other_province.pk], "bulk_action": "recommend"}, follow=True
    )

    page = response.content.decode()
    ready.refresh_from_db(), draft.refresh_from_db(), other_province.refresh_from_db()
    assert ready.status == Status.RECOMMENDED
    assert draft.status == Status.DRAFT and other_province.status == Status.SUBMITTED
    assert "青岛市" in page and "济南市" in page  # one done, one refused with its reason
    assert "徐州市" not in page  # another province's city is not even named
    assert "未找到，或不在您的查看范围内" in page


def test_bulk_return_needs_a_reason(client, bureau_user, open_round):
    ready = make_submission(City.objects.get(pk="370200"), open_round, Status.SUBMITTED)
    client.force_login(bureau_user)

    client.post("/bureau/bulk/", {"ids": [ready.pk], "bulk_action": "return", "reason": ""})

    ready.refresh_from_db()
    assert ready.status == Status.SUBMITTED


def test_the_ministry_decides_several_recommended_forms_at_once(client, ministry_user, open_round):
    yantai = make_submission(City.objects.get(pk="370600"), open_round, Status.RECOMMENDED)  # an evaluation
    weifang = make_submission(City.objects.get(pk="370700"), open_round, Status.RECOMMENDED)  # an evaluation
    qingdao = make_submission(City.objects.get(pk="370200"), open_round, Status.RECOMMENDED)  # annual report
    xuzhou = make_submission(City.objects.get(pk="320300"), open_round, Status.SUBMITTED)  # no bureau yet
    client.force_login(ministry_user)

    queue = client.get("/ministry/queue/").content.decode()
    assert 'value="approve"' in queue and 'value="reject"' in queue and 'value="send-back"' in queue
    assert 'value="confirm"' in queue
    assert 'value="recommend"' not in queue  # the bureau's action is not offered to the ministry

    # Rejecting needs a reason: said once for the selection, and nothing changes.
    refused = client.post("/ministry/queue/bulk/", {"ids": [yantai.pk], "bulk_action": "reject"}, follow=True)
    assert "请先填写“不予认定”的理由" in refused.content.decode()
    yantai.refresh_from_db()
    assert yantai.status == Status.RECOMMENDED

    page = client.post(
        "/ministry/queue/bulk/",
        {"ids": [yantai.pk, weifang.pk, qingdao.pk, xuzhou.pk], "bulk_action": "approve"},
        follow=True,
    ).content.decode()

    for submission in (yantai, weifang, qingdao, xuzhou):
        submission.refresh_from_db()
    assert [s.status for s in (yantai, weifang, qingdao, xuzhou)] == [
        Status.APPROVED,
        Status.APPROVED,
        Status.RECOMMENDED,  # a Gigabit City is confirmed, never named again
        Status.SUBMITTED,
    ]
    assert Designation.objects.filter(round=open_round).count() == 2
    assert Designation.objects.get(city_id="370200").round.year == 2021
    assert "已完成 2 个" in page and "徐州市" in page  # the form no bureau recommended is refused by name
    assert "青岛市已是千兆城市" in page

    confirmed = client.post(
        "/ministry/queue/bulk/", {"ids": [qingdao.pk], "bulk_action": "confirm"}, follow=True
    ).content.decode()
    qingdao.refresh_from_db()
    assert qingdao.status == Status.APPROVED and qingdao.status_label == "复核通过"
    assert "已完成 1 个" in confirmed and Designation.objects.filter(city_id="370200").count() == 1
    # A bureau's action sent to the ministry's bulk address is no action of the ministry's.
    client.post("/ministry/queue/bulk/", {"ids": [xuzhou.pk], "bulk_action": "recommend"})
    xuzhou.refresh_from_db()
    assert xuzhou.status == Status.SUBMITTED


def test_an_extension_is_granted_with_a_date_and_reason(client, bureau_user, city_user, open_round):
    open_round.deadline = timezone.localdate() - datetime.timedelta(days=2)
    open_round.save()
    client.force_login(bureau_user)

    no_reason = client.post("/bureau/extensions/370200/", {"until": "2099-01-01", "reason": ""})
    assert no_reason.status_code == 400 and "该字段是必填项" in no_reason.content.decode()
    too_early = client.post("/bureau/extensions/370200/", {"until": open_round.deadline.isoformat(), "reason": "x"})
    assert too_early.status_code == 400 and "须晚于本轮截止日期" in too_early.content.decode()

    until = timezone.localdate() + datetime.timedelta(days=5)
    client.post("/bureau/extensions/370200/", {"until": until.isoformat(), "reason": "疫情影响数据采集"})

    extension = Extension.objects.get(city=city_user.city, round=open_round)
    assert (extension.until, extension.reason, extension.granted_by) == (until, "疫情影响数据采集", bureau_user)
    assert client.get("/bureau/extensions/320300/").status_code == 404  # not this bureau's city

    # The city's home counts from its own deadline: five days left, not "deadline passed".
    client.force_login(city_user)
    home = client.get("/city/").content.decode()
    assert f"截止日期 {until:%Y-%m-%d}" in home and "剩余 5 天" in home and "已过截止日期" not in home


def test_the_bureau_can_start_a_form_on_behalf_of_a_city_that_has_not(client, bureau_user, open_round):
    client.force_login(bureau_user)
    response = client.post("/bureau/cities/370600/start/")
    assert response.status_code == 302 and response["Location"].endswith("/edit/")
    assert client.post("/bureau/cities/320300/start/").status_code == 404


def test_the_ministry_queue_puts_the_most_flagged_first_and_filters(client, ministry_user, open_round):
    calm = make_submission(City.objects.get(pk="370200"), open_round, Status.RECOMMENDED)
    flagged = make_submission(City.objects.get(pk="320300"), open_round, Status.RECOMMENDED, users_1000m=10**7)
    calm.refresh_from_db(), flagged.refresh_from_db()
    client.force_login(ministry_user)

    page = client.get("/ministry/queue/").content.decode()
    assert page.index("徐州市") < page.index("青岛市")
    jiangsu = client.get("/ministry/queue/?province=320000").content.decode()
    assert "徐州市" in jiangsu and "青岛市" not in jiangsu
    inconsistent = client.get("/ministry/queue/?flag=inconsistent_inputs").content.decode()
    assert "徐州市" in inconsistent and "青岛市" not in inconsistent


def test_thresholds_change_with_history_and_rescoring(
    client, ministry_user, city_user, open_round, django_capture_on_commit_callbacks
):
    submission = make_submission(city_user.city, open_round, Status.SUBMITTED)
    client.force_login(ministry_user)
    values = {code: str(v) for code, v in open_round.threshold_map().items()}
    values["pon_10g_share"] = "95"

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/ministry/rounds/{open_round.year}/", {**values, "reason": "按正式文件调整", "save_thresholds": "1"}
        )

    assert response.status_code == 302
    open_round.refresh_from_db()
    assert open_round.threshold_version == 2
    change = ThresholdChange.objects.filter(round=open_round, indicator_id="pon_10g_share").last()
    assert (change.new_value, change.reason, change.changed_by) == (Decimal("95"), "按正式文件调整", ministry_user)
    new_score = Score.objects.get(submission=submission, threshold_version=2)
    pon = next(r for r in new_score.results if r["code"] == "pon_10g_share")
    assert pon["threshold"] == "95.00" and pon["passed"] is False
    page = client.get(f"/ministry/rounds/{open_round.year}/").content.decode()
    assert "按正式文件调整" in page
    assert 'name="pon_10g_share" value="95"' in page  # as it was typed, not 95.00


def test_publishing_freezes_the_round(client, ministry_user, open_round):
    client.force_login(ministry_user)
    assert client.post(f"/ministry/rounds/{open_round.year}/", {"status": "published"}).status_code == 302
    open_round.refresh_from_db()
    assert open_round.status == RoundStatus.OPEN  # open → published is not allowed; close first

    client.post(f"/ministry/rounds/{open_round.year}/", {"status": "closed"})
    client.post(f"/ministry/rounds/{open_round.year}/", {"status": "published"})
    open_round.refresh_from_db()
    assert open_round.status == RoundStatus.PUBLISHED and open_round.published_on == timezone.localdate()


def test_history_records_every_event_and_change_and_cannot_be_altered(city_user, bureau_user, open_round):
    submission = make_submission(city_user.city, open_round, Status.RETURNED)
    events = list(submission.events.values_list("action", "actor_role"))
    assert events == [(Action.SUBMIT, "city"), (Action.RETURN, "bureau")]
    change = DataChange.objects.filter(submission=submission).first()
    change.changes = {}
    with pytest.raises(Exception, match="cannot be changed"):
        change.save()
    with pytest.raises(Exception, match="cannot be deleted"):
        submission.events.first().delete()


def test_a_threshold_no_city_could_reach_is_refused_and_nothing_changes(client, ministry_user, open_round):
    client.force_login(ministry_user)
    values = {code: str(v) for code, v in open_round.threshold_map().items()}
    values["pon_10g_share"] = "130"
    values["users_1000m"] = "10000.5"

    response = client.post(
        f"/ministry/rounds/{open_round.year}/", {**values, "reason": "录入错误", "save_thresholds": "1"}
    )

    page = response.content.decode()
    assert response.status_code == 400 and "不能超过 100" in page and "须为整数" in page
    assert 'value="130"' in page  # what the user typed stays in the form
    open_round.refresh_from_db()
    assert open_round.threshold_version == 1
    assert not ThresholdChange.objects.filter(round=open_round, reason="录入错误").exists()


def test_the_round_page_warns_before_rescoring_and_before_publishing_with_undecided_forms(
    client, ministry_user, open_round, city_user
):
    make_submission(city_user.city, open_round, Status.SUBMITTED)
    client.force_login(ministry_user)
    client.post(f"/ministry/rounds/{open_round.year}/", {"status": "closed"})

    page = client.get(f"/ministry/rounds/{open_round.year}/").content.decode()

    assert "本轮已报送的 1 份调查表将重新评分" in page
    assert "1 份已报送的调查表尚未决定" in page


def test_saving_the_thresholds_unchanged_says_nothing_changed_and_scores_nothing_again(
    client, ministry_user, city_user, open_round, django_capture_on_commit_callbacks
):
    submission = make_submission(city_user.city, open_round, Status.SUBMITTED)
    scores = Score.objects.filter(submission=submission).count()
    client.force_login(ministry_user)
    # The values as the page shows them, saved as they are, with or without a reason.
    shown = {
        "fiber_gigabit_coverage": "80",
        "pon_10g_share": "30",
        "key_sites_5g_reach": "95",
        "bs5g_per_10k": "12",
        "users_500m_share": "10",
        "users_1000m": "50000",
        "users_5g_share": "25",
        "applications": "5",
    }
    page = client.get(f"/ministry/rounds/{open_round.year}/").content.decode()
    for code, value in shown.items():
        assert f'name="{code}" value="{value}"' in page

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/ministry/rounds/{open_round.year}/", {**shown, "save_thresholds": "1"}, follow=True)
        again = client.post(
            f"/ministry/rounds/{open_round.year}/",
            {**shown, "users_1000m": "50000.00", "reason": "核对", "save_thresholds": "1"},
            follow=True,
        )

    for result in (response, again):
        text = result.content.decode()
        assert "没有修改：各项标准值保持不变，调查表不会重新评分。" in text
        assert "已修改" not in text
    open_round.refresh_from_db()
    assert open_round.threshold_version == 1
    assert not ThresholdChange.objects.filter(round=open_round, changed_by=ministry_user).exists()
    assert Score.objects.filter(submission=submission).count() == scores


def test_a_changed_threshold_needs_a_reason_and_says_how_many_changed(client, ministry_user, open_round):
    client.force_login(ministry_user)
    values = {code: str(v) for code, v in open_round.threshold_map().items()}

    refused = client.post(
        f"/ministry/rounds/{open_round.year}/", {**values, "pon_10g_share": "35", "save_thresholds": "1"}
    )
    saved = client.post(
        f"/ministry/rounds/{open_round.year}/",
        {**values, "pon_10g_share": "35", "reason": "按正式文件", "save_thresholds": "1"},
        follow=True,
    )

    assert refused.status_code == 400 and "请填写修改理由" in refused.content.decode()
    assert "已修改 1 项标准值" in saved.content.decode()


def test_the_threshold_history_shows_counts_as_whole_numbers_and_rates_at_one_decimal(
    client, ministry_user, open_round
):
    client.force_login(ministry_user)

    page = client.get(f"/ministry/rounds/{open_round.year}/").content.decode()

    history = page.split('data-testid="threshold-history"')[1].split("</table>")[0]
    assert "50000.00" not in history and "50,000 <span" in history  # users at 1000 Mbps
    assert "5.00" not in history and ">5 <span" in history  # application cases
    assert "80.0 <span" in history and "12.0 <span" in history  # coverage (%), base stations per 10k


def test_flag_settings_are_typed_as_percentages_and_stored_as_before(client, ministry_user, open_round):
    client.force_login(ministry_user)
    page = client.get(f"/ministry/rounds/{open_round.year}/").content.decode()
    # Stored 0.03, 0.5 and 0.1: shown as the percentages a person reads.
    assert 'name="borderline_margin" value="3"' in page
    assert 'name="jump_ratio" value="50"' in page
    assert 'name="population_change_limit" value="10"' in page
    assert 'name="outlier_z" value="3.5"' in page
    settings = {
        "notice": "",
        "opens_on": open_round.opens_on.isoformat(),
        "deadline": open_round.deadline.isoformat(),
        "data_as_of": open_round.data_as_of.isoformat(),
        "thresholds_provisional": "on",
        "outlier_z": "3.5",
        "save_round": "1",
    }

    response = client.post(
        f"/ministry/rounds/{open_round.year}/",
        {**settings, "borderline_margin": "5", "jump_ratio": "40", "population_change_limit": "12.5"},
    )
    too_big = client.post(
        f"/ministry/rounds/{open_round.year}/",
        {**settings, "borderline_margin": "150", "jump_ratio": "40", "population_change_limit": "12.5"},
    )

    assert response.status_code == 302
    open_round.refresh_from_db()
    assert open_round.borderline_margin == Decimal("0.05")
    assert open_round.jump_ratio == Decimal("0.4")
    assert open_round.population_change_limit == Decimal("0.125")
    assert open_round.flag_settings.borderline_margin == Decimal("0.05")
    assert too_big.status_code == 400 and 'name="borderline_margin" value="150"' in too_big.content.decode()
    open_round.refresh_from_db()
    assert open_round.borderline_margin == Decimal("0.05")


def test_the_queues_show_what_was_typed_as_text_not_markup(client, bureau_user, ministry_user, open_round):
    City.objects.filter(pk="370200").update(name="青岛<b>市</b>")
    make_submission(City.objects.get(pk="370200"), open_round, Status.RECOMMENDED)
    late = '材料"晚到"<script>'
    until = open_round.deadline
    Extension.objects.create(city_id="370100", round=open_round, until=until, reason=late, granted_by=bureau_user)

    client.force_login(bureau_user)
    bureau = client.get("/bureau/").content.decode()
    client.force_login(ministry_user)
    ministry = client.get("/ministry/queue/").content.decode()

    for page in (bureau, ministry):
        assert "<strong>青岛&lt;b&gt;市&lt;/b&gt;</strong>" in page and "<b>市" not in page
    assert 'title="材料&quot;晚到&quot;&lt;script&gt;"' in bureau


def test_the_queues_read_a_few_statements_however_many_forms(
    client, bureau_user, ministry_user, open_round, django_assert_max_num_queries
):
    for code in ("370100", "370200", "370300", "370400", "370500"):
        make_submission(City.objects.get(pk=code), open_round, Status.RECOMMENDED)

    # (each page once first: a statement is prepared once per connection, on its first run)
    client.force_login(bureau_user)
    client.get("/bureau/")
    with django_assert_max_num_queries(11):
        client.get("/bureau/")
    client.force_login(ministry_user)
    client.get("/ministry/queue/")
    with django_assert_max_num_queries(11):
        client.get("/ministry/queue/")


def test_after_the_deadline_the_review_offers_an_extension_beside_the_return(
    client, bureau_user, city_user, open_round
):
    """Past the deadline a returned city can only resubmit with an extension: the bureau's review says
    so and links to granting one for this city."""
    submitted = make_submission(city_user.city, open_round, Status.SUBMITTED, scored=False)
    client.force_login(bureau_user)
    page = client.get(f"/submissions/{submitted.pk}/").content.decode()
    assert "准予延期" not in page

    open_round.deadline = timezone.localdate() - datetime.timedelta(days=1)
    open_round.save(update_fields=["deadline"])
    page = client.get(f"/submissions/{submitted.pk}/").content.decode()
    actions = page[page.index('data-testid="actions"') :]
    assert "已过截止日期：退回后，城市须获准延期" in actions
    assert f'<a href="/bureau/extensions/{city_user.city_id}/">准予延期</a>' in actions


def test_the_ministry_reads_which_cases_the_bureau_recommended_as_excellent(
    client, bureau_user, ministry_user, city_user, open_round
):
    submitted = make_submission(city_user.city, open_round, Status.SUBMITTED, scored=False)
    first, _second, third, *_rest = submitted.cases.order_by("position")
    submission_recommend(
        submission_id=submitted.pk, actor=bureau_user, excellent_case_ids=[first.pk, third.pk], note="数据已核"
    )
    client.force_login(ministry_user)
    page = client.get(f"/submissions/{submitted.pk}/").content.decode()
    decision = page[page.index('data-testid="last-decision"') :].split("</div>")[0]
    assert "：数据已核" in decision
    assert f'<div class="small">推荐为优秀案例： 「{first.title}」「{third.title}」' in page


def test_a_resubmission_without_changes_says_so_with_the_bureaus_comments(client, bureau_user, city_user, open_round):
    submitted = make_submission(city_user.city, open_round, Status.SUBMITTED, scored=False)
    submission_return(
        submission_id=submitted.pk,
        actor=bureau_user,
        reason="请核实",
        comments={"bs5g_count": "与运营商数据不一致"},
    )
    submission_submit(submission_id=submitted.pk, actor=city_user)
    client.force_login(bureau_user)
    page = client.get(f"/submissions/{submitted.pk}/").content.decode()
    diff = page[page.index('data-testid="diff"') : page.index("</section>", page.index('data-testid="diff"'))]
    assert '<p class="muted">城市未作任何修改即重新提交。</p>' in diff
    assert "退回时的意见：" in diff and "<li><strong>5G基站数</strong>：与运营商数据不一致</li>" in diff
