"""The migration that makes a city's designation unique: a database named cities again before it
(an approved annual report made a second designation); of each city's designations the earliest stays,
the later ones go, and the forms that followed become annual reports."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("indicators", "0001_initial"), ("submissions", "0003_dashboard_leader_indexes")]
AFTER = [("indicators", "0002_designation_once_per_city"), ("submissions", "0004_form_kinds_and_carry_over")]


@pytest.mark.django_db(transaction=True)
def test_the_earliest_designation_of_each_city_stays_and_later_forms_become_annual_reports(reference):
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    apps = executor.loader.project_state(BEFORE).apps
    Round = apps.get_model("indicators", "Round")
    Designation = apps.get_model("indicators", "Designation")
    Submission = apps.get_model("submissions", "Submission")
    rounds = {year: Round.objects.get(year=year) for year in (2021, 2022, 2023)}
    # 青岛 (370200), named in 2021, approved again in 2022 and 2023; 烟台 (370600) named twice, 2022 first.
    for year in (2022, 2023):
        Designation.objects.create(city_id="370200", round=rounds[year], source="approved")
    Designation.objects.create(city_id="370600", round=rounds[2023], source="approved")
    Designation.objects.create(city_id="370600", round=rounds[2022], source="approved")
    forms = {
        (code, year): Submission.objects.create(city_id=code, round=rounds[year], status="approved").pk
        for code in ("370200", "370600")
        for year in (2022, 2023)
    }
    Submission.objects.create(city_id="370700", round=rounds[2023], status="draft")  # 潍坊, never named

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    apps = executor.loader.project_state(AFTER).apps
    Designation = apps.get_model("indicators", "Designation")
    Submission = apps.get_model("submissions", "Submission")

    named = sorted(Designation.objects.filter(city_id__in=["370200", "370600"]).values_list("city_id", "round__year"))
    assert named == [("370200", 2021), ("370600", 2022)]
    kinds = dict(Submission.objects.values_list("pk", "kind"))
    assert kinds[forms[("370200", 2022)]] == kinds[forms[("370200", 2023)]] == "annual_report"
    assert kinds[forms[("370600", 2022)]] == "evaluation"  # the approval that named it
    assert kinds[forms[("370600", 2023)]] == "annual_report"
    assert Submission.objects.get(city_id="370700").kind == "evaluation"

    # Leave the database at the latest migrations for the tests after this one.
    MigrationExecutor(connection).migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
