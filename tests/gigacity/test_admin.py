"""The Django admin lists every kind of reference data, with search and filters."""

from __future__ import annotations

import pytest
from django.contrib import admin

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("model", list(admin.site._registry), ids=lambda m: m._meta.label)
def test_every_admin_list_opens_and_searches(client, admin_user, open_round, model):
    client.force_login(admin_user)
    url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
    assert client.get(url).status_code == 200
    if admin.site._registry[model].search_fields:
        assert client.get(url, {"q": "青岛"}).status_code == 200


def test_cities_can_be_found_by_name_and_filtered_by_province(client, admin_user):
    client.force_login(admin_user)
    page = client.get("/admin/gigacity/city/", {"q": "青岛"}).content.decode()
    assert "370200" in page
    page = client.get("/admin/gigacity/city/", {"province__code__exact": "650000"}).content.decode()
    assert "乌鲁木齐市" in page and "青岛市" not in page


def test_submissions_are_read_only_in_the_admin(client, admin_user, open_round, city_user):
    from tests.factories import make_submission

    submission = make_submission(city_user.city, open_round, "submitted")
    client.force_login(admin_user)
    assert client.get(f"/admin/submissions/submission/{submission.pk}/change/").status_code == 200
    response = client.post(f"/admin/submissions/submission/{submission.pk}/change/", {"status": "approved"})
    assert response.status_code == 403


def test_a_round_is_saved_in_the_admin_with_its_thresholds_through_the_service(client, admin_user, open_round):
    from decimal import Decimal

    from indicators.models import ThresholdChange

    client.force_login(admin_user)
    thresholds = list(open_round.thresholds.order_by("indicator__order"))
    data = {
        "year": open_round.year,
        "notice": "演示",
        "opens_on": open_round.opens_on.isoformat(),
        "deadline": "2099-12-20",
        "data_as_of": open_round.data_as_of.isoformat(),
        "thresholds_provisional": "on",
        "borderline_margin": "0.030",
        "jump_ratio": "0.500",
        "population_change_limit": "0.100",
        "outlier_z": "3.50",
        "threshold_reason": "按正式文件",
        "thresholds-TOTAL_FORMS": len(thresholds),
        "thresholds-INITIAL_FORMS": len(thresholds),
        "thresholds-MIN_NUM_FORMS": 0,
        "thresholds-MAX_NUM_FORMS": 1000,
    }
    for index, threshold in enumerate(thresholds):
        data[f"thresholds-{index}-id"] = threshold.pk
        data[f"thresholds-{index}-round"] = open_round.pk
        data[f"thresholds-{index}-value"] = "130" if threshold.indicator_id == "pon_10g_share" else str(threshold.value)

    refused = client.post(f"/admin/indicators/round/{open_round.pk}/change/", data)

    assert refused.status_code == 200 and "不能超过 100" in refused.content.decode()
    open_round.refresh_from_db()
    assert open_round.deadline.isoformat() != "2099-12-20"  # nothing saved, the round's fields neither

    pon = next(i for i, t in enumerate(thresholds) if t.indicator_id == "pon_10g_share")
    data[f"thresholds-{pon}-value"] = "35"
    response = client.post(f"/admin/indicators/round/{open_round.pk}/change/", data)

    assert response.status_code == 302
    open_round.refresh_from_db()
    assert open_round.deadline.isoformat() == "2099-12-20"
    assert open_round.threshold_map()["pon_10g_share"] == Decimal("35")
    assert ThresholdChange.objects.filter(round=open_round, indicator_id="pon_10g_share", reason="按正式文件").exists()
