"""Statements built once per process (`gigacity.statements`): each call answers what the queryset it
was built from answers with the call's own values, never the values of an earlier call, and a build
whose values cannot be bound is refused when it is first run."""

from __future__ import annotations

import datetime
import gc
import threading
import weakref
from decimal import Decimal
from unittest import mock

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.db.models import Count
from django.db.models.sql.compiler import SQLCompiler
from django.test.utils import CaptureQueriesContext

from gigacity.models import City
from gigacity.statements import Statement, StatementError, kept_at, prepared
from indicators.models import Indicator, Round
from submissions import selectors
from submissions.models import Case, Status, Submission
from submissions.services import submission_get_or_create
from tests.conftest import statements_run
from tests.factories import make_attachment, make_submission

pytestmark = pytest.mark.django_db


@pytest.fixture
def forms(open_round, city_user, city_user_same_province, city_user_other_province):
    """Three forms: two cities of Shandong (Qingdao, Jinan) and one of Jiangsu (Xuzhou), with cases."""
    made = {}
    for n, user in enumerate((city_user, city_user_same_province, city_user_other_province)):
        form = submission_get_or_create(city=user.city, round_=open_round, actor=user)
        for position in range(n + 1):
            Case.objects.create(submission=form, position=position, title=f"{user.city.name} case {position}")
        made[user.city_id] = form
    return made


def in_province(province, city):
    return (
        Submission.objects.filter(city__province_id=province, city_id=city)
        .select_related("city__province", "round")
        .annotate(cases_read=Count("cases"))
        .order_by("pk")
    )


def test_every_column_is_converted_as_django_converts_it(open_round, reference):
    """Figures (Decimal), dates, times and JSON of a reported form read through a statement are the
    values, of the types, the ORM gives."""
    form = make_submission(City.objects.get(pk="370200"), open_round, Status.SUBMITTED, scored=False)
    got = Statement(lambda pk: Submission.objects.filter(pk=pk))(pk=form.pk)[0]
    expected = Submission.objects.get(pk=form.pk)
    checked = 0
    for column in Submission._meta.concrete_fields:
        value = getattr(expected, column.attname)
        assert (type(getattr(got, column.attname)), getattr(got, column.attname)) == (type(value), value), column.name
        checked += value is not None
    assert type(got.value_fiber_gigabit_coverage) is Decimal and got.submitted_at is not None
    assert checked > 40


def test_each_call_answers_with_its_own_values(forms):
    statement = Statement(in_province)
    for province, city in (("370000", "370200"), ("370000", "370100"), ("320000", "320300")):
        expected = list(in_province(province, city))
        got = statement(province=province, city=city)
        assert [form.pk for form in got] == [form.pk for form in expected] == [forms[city].pk]
        form = got[0]
        # Every column converted as Django converts it (dates, times, decimals, JSON).
        for column in Submission._meta.concrete_fields:
            assert getattr(form, column.attname) == getattr(expected[0], column.attname), column.name
        # The related rows and annotations are where the queryset puts them.
        assert form.city.name == expected[0].city.name and form.city.province.name == expected[0].city.province.name
        assert form.round.year == expected[0].round.year
        assert form.cases_read == expected[0].cases_read == len(forms[city].cases.all())
    # Qingdao is not in Jiangsu: nothing, although both values were bound before.
    assert statement(province="320000", city="370200") == []


def test_the_sql_and_its_converters_are_found_once_and_each_call_is_one_statement(forms):
    statement = Statement(in_province)
    statement(province="370000", city="370200")
    built_again = mock.patch.object(SQLCompiler, "as_sql", side_effect=AssertionError("built again"))
    converters_again = mock.patch.object(SQLCompiler, "get_converters", side_effect=AssertionError("found again"))
    with built_again, converters_again, CaptureQueriesContext(connection) as queries:
        assert [form.city_id for form in statement(province="370000", city="370100")] == ["370100"]
    assert len(queries) == 1


def test_values_list_and_flat_rows(forms):
    titles = Statement(
        lambda city: Case.objects.filter(submission__city_id=city).order_by("position").values_list("position", "title")
    )
    assert titles(city="370100") == [(0, "济南市 case 0"), (1, "济南市 case 1")]
    assert titles(city="320300") == [(0, "徐州市 case 0"), (1, "徐州市 case 1"), (2, "徐州市 case 2")]
    counts = Statement(lambda province: City.objects.filter(province_id=province).values_list("code", flat=True))
    assert len(counts(province="370000")) == 16
    assert counts(province="320000") == list(City.objects.filter(province_id="320000").values_list("code", flat=True))


def test_a_form_outside_the_readers_scope_stays_outside_after_another_reader_read_it(
    forms, bureau_user, bureau_user_other_province, city_user, city_user_same_province
):
    """The forms' pages read through one statement per scope: what one bureau's or city's call bound
    never carries over to the next reader."""
    qingdao = forms["370200"]
    # Whatever other tests compiled before, this one's first reader compiles.
    selectors._PAGE_FORM._compiled.clear()
    assert selectors.submission_detail(user=bureau_user, pk=qingdao.pk).city_id == "370200"
    with pytest.raises(Submission.DoesNotExist):
        selectors.submission_detail(user=bureau_user_other_province, pk=qingdao.pk)
    assert selectors.submission_for_form(user=city_user, pk=qingdao.pk).city_id == "370200"
    with pytest.raises(Submission.DoesNotExist):
        selectors.submission_for_form(user=city_user_same_province, pk=qingdao.pk)
    # And back: the first reader still sees it.
    assert selectors.submission_detail(user=bureau_user, pk=qingdao.pk).pk == qingdao.pk


def test_the_ministry_sees_every_form_and_a_disabled_account_none(forms, ministry_user, admin_user, city_user):
    for form in forms.values():
        assert selectors.submission_detail(user=ministry_user, pk=form.pk).pk == form.pk
        assert selectors.submission_for_form(user=admin_user, pk=form.pk).pk == form.pk
    city_user.is_active = False
    with pytest.raises(Submission.DoesNotExist):
        selectors.submission_detail(user=city_user, pk=forms["370200"].pk)
    with pytest.raises(Submission.DoesNotExist):
        selectors.submission_detail(user=AnonymousUser(), pk=forms["370200"].pk)


def test_each_bureau_queues_its_own_province(forms, open_round, bureau_user, bureau_user_other_province):
    from reviews.selectors import bureau_queue

    for bureau, province, started in (
        (bureau_user, "370000", {"370200", "370100"}),
        (bureau_user_other_province, "320000", {"320300"}),
        (bureau_user, "370000", {"370200", "370100"}),
    ):
        rows = bureau_queue(user=bureau, round_=open_round)
        assert {row.city.province_id for row in rows} == {province}
        assert {row.city.pk for row in rows if row.submission} == started
        assert all(row.submission.pk == forms[row.city.pk].pk for row in rows if row.submission)


def test_an_id_no_column_holds_is_not_found(forms, ministry_user):
    """A URL's `<int:pk>` takes any number of digits: such an id finds nothing, as before."""
    with pytest.raises(Submission.DoesNotExist):
        selectors.submission_detail(user=ministry_user, pk=10**20)
    assert Statement(lambda pk: Submission.objects.filter(pk=pk))(pk=-(10**30)) == []


@pytest.mark.parametrize(
    ("build", "values", "problem"),
    [
        # A value Django transforms is not bound as is.
        (lambda title: Case.objects.filter(title__contains=title), {"title": "case"}, "computed from a value"),
        # The SQL's structure depends on the value.
        (
            lambda city: City.objects.filter(code=city) if city.startswith("b") else City.objects.all(),
            {"city": "370200"},
            "depends on its values",
        ),
        # A value sliced into a constant: the same piece of two stand-ins would be kept as a constant.
        (
            lambda city: City.objects.filter(code=city).exclude(province_id=city[:2] + "0000"),
            {"city": "370200"},
            "computed from a value",
        ),
        (lambda year: City.objects.filter(code=str(year % 1000)), {"year": 2026}, "computed from a value"),
        # A value that only decides between two constants (two stand-ins of the same number of digits
        # would agree), and one whose every stand-in gives the same constant.
        (
            lambda year: City.objects.filter(code="370200" if year > 99 else "320300"),
            {"year": 2026},
            "computed from a value",
        ),
        (
            lambda city: City.objects.filter(code="".join(c for c in city if not c.isalnum() and c != "-")),
            {"city": "370200"},
            "computed from a value",
        ),
        # A value the statement never uses.
        (lambda city, province: City.objects.filter(code=city), {"city": "370200", "province": "370000"}, "province"),
        (lambda city: City.objects.filter(code=city).prefetch_related("submissions"), {"city": "1"}, "prefetch"),
    ],
)
def test_a_build_that_cannot_be_bound_is_refused(reference, build, values, problem):
    with pytest.raises(StatementError, match=problem):
        Statement(build)(**values)


@pytest.mark.parametrize("value", [None, 1.5, ["370200"], True, datetime.datetime(2026, 5, 1, 12)])
def test_only_ints_strings_decimals_and_dates_are_bound(reference, value):
    with pytest.raises(StatementError, match="ints, strings, decimals and dates"):
        Statement(lambda city: City.objects.filter(code=city))(city=value)


def test_a_statement_that_can_return_nothing(reference):
    assert Statement(lambda city: City.objects.none())(city="370200") == []


@pytest.mark.django_db(transaction=True)
def test_another_thread_reads_on_its_own_connection(forms):
    """The development server answers on threads: a statement built on one runs on another's
    connection (Django refuses to share one between threads)."""
    statement = Statement(in_province)
    assert statement(province="370000", city="370200")[0].pk == forms["370200"].pk
    seen = []

    def read():
        from django.db import connection as own

        try:
            seen.append([form.pk for form in statement(province="320000", city="320300")])
        except Exception as exc:  # shown by the assertion below
            seen.append(exc)
        finally:
            own.close()

    thread = threading.Thread(target=read)
    thread.start()
    thread.join()
    assert seen == [[forms["320300"].pk]]


def test_a_forms_related_rows_read_only_their_own_table_unless_asked(forms, city_user_same_province):
    """`related_rows` without `select` reads the related table alone (`select_related()` with no names
    would join every relation: the form's 70 columns again on every flag and comment)."""
    form = forms["370100"]
    with CaptureQueriesContext(connection) as queries:
        cases = selectors.related_rows(form, "cases", order=("position",))
    assert [case.title for case in cases] == ["济南市 case 0", "济南市 case 1"]
    assert all(case.submission is form for case in cases)
    [sql] = statements_run(queries)
    assert "JOIN" not in sql
    make_attachment(form, "photo.jpg", uploaded_by=city_user_same_province)
    with CaptureQueriesContext(connection) as queries:
        attachments = selectors.related_rows(form, "attachments", select=("uploaded_by",))
    assert [a.uploaded_by.username for a in attachments] == [city_user_same_province.username]
    [sql] = statements_run(queries)
    assert sql.count("JOIN") == 1


@pytest.mark.django_db(transaction=True)
def test_a_statement_first_run_on_a_thread_does_not_keep_its_connection(reference):
    """The development server answers each request on a new thread: a statement first run there must
    not keep that thread's connection open once the thread is gone."""
    statement = Statement(lambda province: City.objects.filter(province_id=province))
    kept = []

    def read():
        from django.db import connections

        kept.append(weakref.ref(connections["default"]))
        assert len(statement(province="370000")) == 16
        connections["default"].close()

    thread = threading.Thread(target=read)
    thread.start()
    thread.join()
    gc.collect()
    assert kept[0]() is None
    assert len(statement(province="320000")) == City.objects.filter(province_id="320000").count()


@pytest.mark.postgres
def test_on_postgresql_a_statement_is_planned_once_per_connection(forms):
    """The server keeps the statement's plan: its first run on a connection prepares it, later runs
    only execute it with their values, and a new connection prepares it again."""
    statement = Statement(in_province)
    with CaptureQueriesContext(connection) as first:
        assert [form.city_id for form in statement(province="370000", city="370200")] == ["370200"]
    assert [q["sql"].split()[0] for q in first] == ["SAVEPOINT", "PREPARE", "RELEASE", "EXECUTE"]
    with CaptureQueriesContext(connection) as later:
        assert [form.city_id for form in statement(province="320000", city="320300")] == ["320300"]
    assert [q["sql"].split()[0] for q in later] == ["EXECUTE"]
    [prepare] = [q["sql"] for q in first if q["sql"].startswith("PREPARE")]
    assert statements_run(later) == [prepare.split(" AS ", 1)[1]]
    assert '"gigacity_city"."province_id" = $1' in prepare and '"submissions_submission"."city_id" = $2' in prepare


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_new_connection_prepares_the_statement_again(forms):
    statement = Statement(in_province)
    assert len(statement(province="370000", city="370200")) == 1
    connection.close()  # as at CONN_MAX_AGE, or after the server went away: the new one holds nothing
    with CaptureQueriesContext(connection) as queries:
        assert [form.city_id for form in statement(province="370000", city="370100")] == ["370100"]
    assert [q["sql"].split()[0] for q in queries] == ["PREPARE", "EXECUTE"]


@pytest.mark.postgres
def test_behind_transaction_pooling_nothing_is_prepared(forms):
    """pgbouncer in transaction mode hands the server connection to other clients between
    transactions (docs/scaling.md: `DISABLE_SERVER_SIDE_CURSORS`): the statement's own SQL runs."""
    statement = Statement(in_province)
    pooled = mock.patch.dict(connection.settings_dict, {"DISABLE_SERVER_SIDE_CURSORS": True})
    with pooled, CaptureQueriesContext(connection) as queries:
        assert [form.city_id for form in statement(province="370000", city="370200")] == ["370200"]
    [query] = queries
    assert query["sql"].startswith("SELECT") and "370200" in query["sql"]


@pytest.mark.postgres
def test_a_statement_the_server_cannot_prepare_runs_as_sql_and_the_transaction_goes_on(forms):
    assert prepared(connection, "gigacity_test_unpreparable", "SELECT $1 IS NULL") is None
    assert prepared(connection, "gigacity_test_unpreparable", "SELECT $1 IS NULL") is None  # not tried again
    assert City.objects.filter(pk="370200").exists()  # the transaction is not aborted
    assert prepared(connection, "gigacity_test_typed", "SELECT $1 IS NULL", ("integer",)) == (
        "EXECUTE gigacity_test_typed(%s)"
    )


def test_a_number_no_column_of_its_type_holds_finds_nothing(open_round):
    """A year is a smallint column: a value past it finds no round, as the ORM's query does, and the
    dashboards answer 404 rather than fail (`?round=` is checked to 1900–9999 today; the statement
    does not rely on it)."""
    statement = Statement(lambda year: Round.objects.filter(year=year))
    assert [r.pk for r in statement(year=open_round.year)] == [open_round.pk]
    for year in (40_000, 99_999, -40_000, 2**40):
        assert statement(year=year) == [] == list(Round.objects.filter(year=year))
    assert [r.pk for r in statement(year=open_round.year)] == [open_round.pk]


def test_decimals_and_dates_are_bound_with_each_call(open_round, reference):
    """Thresholds (Decimal) and days (date) as values: each call finds what the queryset finds."""
    for n, code in enumerate(("370200", "370100", "320300")):
        form = make_submission(City.objects.get(pk=code), open_round, Status.SUBMITTED, scored=False)
        Submission.objects.filter(pk=form.pk).update(value_bs5g_per_10k=Decimal("20.50") + n * 10)
    below = Statement(
        lambda value: (
            Submission.objects.filter(value_bs5g_per_10k__lt=value).order_by("city").values_list("city_id", flat=True)
        )
    )
    assert below(value=Decimal("20.5")) == []
    assert below(value=Decimal("20.51")) == ["370200"]
    assert below(value=Decimal("40.50")) == ["370100", "370200"]
    assert below(value=Decimal("1E+3")) == ["320300", "370100", "370200"]
    before = Statement(
        lambda year, day: Round.objects.filter(year=year, deadline__lt=day).values_list("year", flat=True)
    )
    assert before(year=open_round.year, day=open_round.deadline) == []
    assert before(year=open_round.year, day=open_round.deadline + datetime.timedelta(days=1)) == [open_round.year]


def test_a_database_that_takes_dates_as_text_gets_the_call_s_date_as_text(open_round):
    """SQLite's driver takes dates as text (`adapt_datefield_value`): the call's date is bound as its
    text where the build's date became text."""
    with mock.patch.object(type(connection.ops), "adapt_datefield_value", lambda self, value: str(value)):
        before = Statement(
            lambda year, day: Round.objects.filter(year=year, deadline__lt=day).values_list("year", flat=True)
        )
        after = open_round.deadline + datetime.timedelta(days=1)
        with CaptureQueriesContext(connection) as queries:
            assert before(year=open_round.year, day=after) == [open_round.year]
            assert before(year=open_round.year, day=open_round.deadline) == []
    # (psycopg2 writes a date as '…'::date, a text as '…')
    assert f"'{open_round.deadline}'" in queries[-1]["sql"] and "::date" not in queries[-1]["sql"]


def test_a_list_is_spread_over_a_few_statements_whatever_its_length(reference):
    """`spread`: every length finds exactly the listed cities, with one statement per power of two."""
    from gigacity.statements import gathered, spread

    statement = Statement(
        lambda size, **codes: City.objects.filter(code__in=gathered("city", size, codes)).values_list("code", flat=True)
    )
    every = list(City.objects.order_by("code").values_list("code", flat=True))
    for length in range(10):
        listed = every[3 : 3 + length]
        size, values = spread("city", listed)
        assert size >= length and set(values.values()) == set(listed)
        assert sorted(statement(size, **values)) == listed
    assert sorted(size for (_using, _vendor, (size,), _types) in statement._compiled) == [0, 1, 2, 4, 8, 16]


# -- Rows kept while their tables are unchanged (`kept_at`) -----------------------------------------
def _versions(*tables: str, version: str = "1") -> dict[str, str]:
    return dict.fromkeys(tables, version)


def test_rows_are_kept_at_their_tables_versions_and_read_again_at_others(reference):
    """Within `kept_at`, a statement of versioned tables answers a repeated call from the rows it read,
    and reads again when a version of one of its tables, or a value, differs."""
    statement = Statement(
        lambda province: City.objects.filter(province_id=province).order_by("code").values_list("code", "name"),
        keep=True,
    )
    shandong = list(City.objects.filter(province_id="370000").order_by("code").values_list("code", "name"))
    jiangsu = City.objects.filter(province_id="320000").count()
    versions = _versions("gigacity_city")
    with kept_at(versions):
        with CaptureQueriesContext(connection) as first:
            assert statement(province="370000") == shandong
        City.objects.filter(pk="370200").update(name="改名")
        with CaptureQueriesContext(connection) as again:
            assert statement(province="370000") == shandong  # the same versions: the rows kept
            assert len(statement(province="320000")) == jiangsu
    assert len(first) >= 1 and len(statements_run(again)) == 1  # only Jiangsu's
    with kept_at(_versions("gigacity_city", version="2")):
        assert ("370200", "改名") in statement(province="370000")
    assert ("370200", "改名") in statement(province="370000")  # outside: always read


def test_only_rows_of_plain_values_of_versioned_tables_are_kept(open_round, reference):
    """Not kept: a statement not made to be kept, one reading a table whose version is unknown, rows
    holding a JSON value (a reader could change it in place). A kept dictionary row is the reader's
    copy. Model instances and raw SQL are refused when a kept statement is first built."""
    not_asked = Statement(lambda pk: City.objects.filter(pk=pk).values_list("code", flat=True))
    joined = Statement(
        lambda province: City.objects.filter(province__name=province).values_list("code", flat=True), keep=True
    )
    jsonish = Statement(lambda code: Indicator.objects.filter(code=code).values_list("code", "inputs"), keep=True)
    dicts = Statement(lambda pk: City.objects.filter(pk=pk).values("code", "name"), keep=True)
    indicator = Indicator.objects.exclude(inputs=[]).first()
    with kept_at(_versions("gigacity_city", "indicators_indicator")):
        for _ in range(2):
            with CaptureQueriesContext(connection) as read:
                not_asked(pk="370200")
                joined(province="山东省")  # reads gigacity_province too: its version is unknown
                jsonish(code=indicator.code)
            assert len(statements_run(read)) == 3
        name = City.objects.get(pk="370200").name
        dicts(pk="370200")[0]["name"] = "changed by a reader"
        with CaptureQueriesContext(connection) as kept:
            assert dicts(pk="370200")[0]["name"] == name
        assert statements_run(kept) == []
        with pytest.raises(StatementError, match="model instances"):
            Statement(lambda pk: City.objects.filter(pk=pk), keep=True)(pk="370200")
        with pytest.raises(StatementError, match="lookups"):
            Statement(
                lambda pk: City.objects.filter(pk=pk).extra(where=["1 = 1"]).values_list("code", flat=True), keep=True
            )(pk="370200")


def test_a_kept_statement_keeps_the_latest_versions_only(reference):
    """One entry per statement and values: rows of versions that came before are not taken again, even
    when a version comes back."""
    statement = Statement(lambda pk: City.objects.filter(pk=pk).values_list("name", flat=True), keep=True)
    original = City.objects.get(pk="370200").name
    with kept_at(_versions("gigacity_city", version="a")):
        assert statement(pk="370200") == [original]
    City.objects.filter(pk="370200").update(name="改名")
    with kept_at(_versions("gigacity_city", version="b")):
        assert statement(pk="370200") == ["改名"]
    City.objects.filter(pk="370200").update(name="再改名")
    with kept_at(_versions("gigacity_city", version="a")):  # an older version again: read, not taken
        assert statement(pk="370200") == ["再改名"]
