"""A province workbook saves all its cities in one go (issue 16): what saving many forms at once
could break. Each form keeps its own history and version, a form changed by somebody else after the
check refuses the whole import, a problem in one city is still named at its cell, and the work does
not grow with the number of cities."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from gigacity.errors import StaleVersion
from gigacity.models import City, Role
from submissions.excel.imports import province_import
from submissions.excel.province import province_workbook
from submissions.models import ChangeSource, DataChange, Status, Submission
from submissions.services import DraftEdit, DraftsRefused, drafts_update, submission_update
from tests.factories import make_submission

from .excel_helpers import as_upload, load, save
from .test_excel_province import put

pytestmark = pytest.mark.django_db

QINGDAO, YANTAI, WEIFANG, ZIBO = "370200", "370600", "370700", "370300"
BS5G = "5G基站数（个）"


def shandong(open_round, count: int) -> list[Submission]:
    """Drafts (with their cases) of the first `count` cities of 山东 by code."""
    cities = City.objects.filter(province__code="370000").order_by("code")[:count]
    assert len(cities) == count
    return [make_submission(city, open_round, Status.DRAFT, scored=False) for city in cities]


def run(bureau_user, content: bytes, **kwargs):
    return province_import(actor=bureau_user, upload=as_upload(content, "山东.xlsx"), **kwargs)


def history():
    return (
        sorted(Submission.objects.values_list("city_id", "version", "bs5g_count")),
        DataChange.objects.count(),
    )


def test_changed_cities_get_one_new_version_and_history_entry_each_and_unchanged_ones_none(open_round, bureau_user):
    forms = {form.city_id: form for form in shandong(open_round, 4)}
    workbook = load(province_workbook(province=bureau_user.province, round_=open_round))
    put(workbook, QINGDAO, BS5G, 12345)
    put(workbook, ZIBO, BS5G, 6789)
    put(workbook, ZIBO, "常住人口数（人）", 4_700_000)
    content = save(workbook)

    checked = run(bureau_user, content, dry_run=True)
    assert checked.ok, checked.errors
    assert {plan.city for plan in checked.plans if plan.has_changes} == {QINGDAO, ZIBO}
    versions = {plan.city: plan.base_version for plan in checked.plans}
    result = run(bureau_user, content, dry_run=False, expected_versions=versions)

    assert result.applied, result.errors
    for code, form in forms.items():
        after = Submission.objects.get(pk=form.pk)
        changes = list(DataChange.objects.filter(submission=form, version__gt=form.version))
        if code in (QINGDAO, ZIBO):
            assert after.version == form.version + 1
            (change,) = changes
            assert (change.version, change.source, change.actor, change.actor_role) == (
                form.version + 1,
                ChangeSource.PROVINCE_EXCEL,
                bureau_user,
                Role.BUREAU,
            )
            assert after.updated_by == bureau_user
        else:
            assert (after.version, changes) == (form.version, [])
    zibo = DataChange.objects.get(submission=forms[ZIBO], version=forms[ZIBO].version + 1)
    assert zibo.changes["bs5g_count"] == [forms[ZIBO].bs5g_count, 6789]
    assert zibo.changes["resident_population"] == [forms[ZIBO].resident_population, 4_700_000]
    assert set(DataChange.objects.get(submission=forms[QINGDAO], version=forms[QINGDAO].version + 1).changes) == {
        "bs5g_count"
    }


def test_one_city_changed_after_the_check_refuses_the_whole_province(open_round, bureau_user, city_user):
    forms = {form.city_id: form for form in shandong(open_round, 4)}
    workbook = load(province_workbook(province=bureau_user.province, round_=open_round))
    put(workbook, QINGDAO, BS5G, 11111)  # the city that changes meanwhile
    put(workbook, ZIBO, BS5G, 22222)
    put(workbook, YANTAI, BS5G, 33333)
    content = save(workbook)
    checked = run(bureau_user, content, dry_run=True)
    assert checked.ok, checked.errors
    submission_update(
        submission_id=forms[QINGDAO].pk,
        actor=city_user,
        data={"contact_name": "王强"},
        expected_version=forms[QINGDAO].version,
    )
    before = history()

    result = run(bureau_user, content, dry_run=False, expected_versions={p.city: p.base_version for p in checked.plans})

    assert not result.applied
    stale = [e for e in result.errors if "校验后该市调查表已被他人修改" in e]
    assert len(stale) == 1 and "青岛市" in stale[0], result.errors
    assert history() == before  # neither 淄博 nor 烟台, valid as they are, was saved


def test_a_bad_cell_in_one_city_is_named_and_the_other_cities_changes_are_still_shown(open_round, bureau_user):
    shandong(open_round, 4)
    workbook = load(province_workbook(province=bureau_user.province, round_=open_round))
    put(workbook, QINGDAO, BS5G, 1234)
    bad = put(workbook, ZIBO, "常住人口数（人）", "很多")
    put(workbook, ZIBO, BS5G, 4321)  # valid beside the bad cell: shown as understood
    before = history()

    result = run(bureau_user, save(workbook), dry_run=False)

    assert not result.applied
    assert result.errors == [f"城市数据!{bad}: 淄博市：须为非负整数"]
    plans = {plan.city: plan for plan in result.plans}
    assert [(f["field"], f["after"]) for f in plans[QINGDAO].fields] == [("bs5g_count", 1234)]
    assert [(f["field"], f["after"]) for f in plans[ZIBO].fields] == [("bs5g_count", 4321)]
    assert history() == before


def _import_queries(bureau_user, open_round, forms, base: int) -> tuple[int, int]:
    workbook = load(province_workbook(province=bureau_user.province, round_=open_round))
    for step, form in enumerate(forms, start=1):
        put(workbook, form.city_id, BS5G, base + step)
    content = save(workbook)
    with CaptureQueriesContext(connection) as dry:
        checked = run(bureau_user, content, dry_run=True)
    assert checked.ok, checked.errors
    versions = {plan.city: plan.base_version for plan in checked.plans}
    with CaptureQueriesContext(connection) as applied:
        result = run(bureau_user, content, dry_run=False, expected_versions=versions)
    assert result.applied, result.errors
    assert sum(plan.has_changes for plan in result.plans) == len(forms)
    return len(dry), len(applied)


def test_the_queries_of_an_import_do_not_grow_with_the_number_of_cities(open_round, bureau_user):
    forms = shandong(open_round, 12)
    few = _import_queries(bureau_user, open_round, forms[:3], 50_000)
    many = _import_queries(bureau_user, open_round, forms, 60_000)

    # The same statements whether 3 or 12 cities change: nothing is read or written city by city.
    assert many[0] <= few[0] and many[1] <= few[1], (few, many)
    assert max(many) <= 20, many


def test_the_service_saves_many_forms_at_once_and_names_each_forms_problems(open_round, bureau_user):
    qingdao, zibo = shandong_pair(open_round)
    before = history()

    with pytest.raises(DraftsRefused) as refused:
        drafts_update(
            actor=bureau_user,
            edits=[
                DraftEdit(qingdao.pk, {"bs5g_count": 100}, expected_version=qingdao.version),
                DraftEdit(zibo.pk, {"bs5g_count": "一百"}, expected_version=zibo.version),
            ],
            source=ChangeSource.PROVINCE_EXCEL,
        )

    first, second = refused.value.outcomes
    assert first.ok and not first.errors
    assert list(second.errors) == ["bs5g_count"]
    assert history() == before

    with pytest.raises(DraftsRefused) as refused:
        drafts_update(
            actor=bureau_user,
            edits=[
                DraftEdit(qingdao.pk, {"bs5g_count": 100}, expected_version=qingdao.version - 1),
                DraftEdit(zibo.pk, {"bs5g_count": 200}, expected_version=zibo.version),
            ],
        )
    assert isinstance(refused.value.outcomes[0].refusal, StaleVersion)
    assert isinstance(refused.value.first(), StaleVersion)
    assert history() == before

    saved = drafts_update(
        actor=bureau_user,
        edits=[
            DraftEdit(zibo.pk, {"bs5g_count": 200}, expected_version=zibo.version),
            DraftEdit(qingdao.pk, {"bs5g_count": qingdao.bs5g_count}, expected_version=qingdao.version),
        ],
        source=ChangeSource.PROVINCE_EXCEL,
    )
    assert [outcome.submission.pk for outcome in saved] == [zibo.pk, qingdao.pk]
    assert saved[0].changes == {"bs5g_count": [zibo.bs5g_count, 200]} and saved[1].changes == {}
    assert Submission.objects.get(pk=zibo.pk).version == zibo.version + 1
    assert Submission.objects.get(pk=qingdao.pk).version == qingdao.version
    assert DataChange.objects.count() == before[1] + 1


def shandong_pair(open_round) -> tuple[Submission, Submission]:
    return (
        make_submission(City.objects.get(pk=QINGDAO), open_round, Status.DRAFT, scored=False),
        make_submission(City.objects.get(pk=ZIBO), open_round, Status.DRAFT, scored=False),
    )


def test_the_one_form_save_raises_the_problems_by_field(open_round, bureau_user):
    (qingdao,) = shandong(open_round, 1)

    with pytest.raises(ValidationError) as refused:
        submission_update(
            submission_id=qingdao.pk,
            actor=bureau_user,
            data={"bs5g_count": -1, "contact_email": "nope"},
            expected_version=qingdao.version,
        )

    assert set(refused.value.message_dict) == {"bs5g_count", "contact_email"}


@pytest.mark.postgres  # SQLite has no row locks (FOR UPDATE)
def test_the_forms_of_a_save_are_locked_at_once_in_the_order_of_their_keys(open_round, bureau_user):
    """Two saves over the same forms (two tabs of the bureau, or a bureau and a city) cannot each hold
    a lock the other waits for: every save takes its locks in one statement, in one order."""
    qingdao, zibo = shandong_pair(open_round)
    edits = [
        DraftEdit(form.pk, {"bs5g_count": 7}, expected_version=form.version)
        for form in sorted((qingdao, zibo), key=lambda form: form.pk, reverse=True)
    ]

    with CaptureQueriesContext(connection) as queries:
        drafts_update(actor=bureau_user, edits=edits)

    (lock,) = [q["sql"] for q in queries if "FOR UPDATE" in q["sql"]]
    assert lock.rstrip().split("ORDER BY")[1].strip().startswith('"submissions_submission"."id" ASC'), lock


def test_a_case_removed_in_a_save_of_many_forms_takes_its_evidence_file_with_it(
    open_round, bureau_user, city_user, django_capture_on_commit_callbacks
):
    from django.core.files.storage import default_storage

    from submissions.models import Attachment
    from submissions.services import attachment_add

    qingdao, zibo = shandong_pair(open_round)
    removed, *kept = qingdao.cases.all()
    attachment = attachment_add(
        submission_id=qingdao.pk, case_id=removed.pk, upload=as_upload(b"%PDF-1.4 x", "证明.pdf"), actor=city_user
    )
    qingdao.refresh_from_db()
    assert default_storage.exists(attachment.file.name)
    items = [{"id": case.pk, **{name: getattr(case, name) for name in CASE_TEXT}} for case in kept]

    with django_capture_on_commit_callbacks(execute=True):
        saved = drafts_update(
            actor=bureau_user,
            edits=[
                DraftEdit(qingdao.pk, {}, cases=items, expected_version=qingdao.version),
                DraftEdit(zibo.pk, {"bs5g_count": 5}, expected_version=zibo.version),
            ],
        )

    assert saved[0].changes[f"case:{removed.pk}"] == [removed.title, None]
    assert [case.pk for case in qingdao.cases.all()] == [case.pk for case in kept]
    assert not Attachment.objects.filter(pk=attachment.pk).exists()
    assert not default_storage.exists(attachment.file.name)


CASE_TEXT = ("title", "domain", "description", "pain_points", "replicability", "partners")
