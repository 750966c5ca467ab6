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
