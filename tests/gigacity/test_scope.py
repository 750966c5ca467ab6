"""No user ever sees data outside their city, province or role: `visible_to` on every scoped model."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from gigacity.models import City, Province
from indicators.models import Designation
from submissions.models import Submission
from submissions.services import submission_get_or_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def submissions(open_round, city_user, city_user_same_province, city_user_other_province):
    return {
        user.city_id: submission_get_or_create(city=user.city, round_=open_round, actor=user)
        for user in (city_user, city_user_same_province, city_user_other_province)
    }


def visible_cities(user):
    return set(Submission.objects.visible_to(user).values_list("city_id", flat=True))


def test_a_city_official_sees_only_its_own_city(submissions, city_user):
    assert visible_cities(city_user) == {"370200"}
    assert list(City.objects.visible_to(city_user).values_list("code", flat=True)) == ["370200"]
    assert list(Province.objects.visible_to(city_user).values_list("code", flat=True)) == ["370000"]


def test_a_bureau_sees_its_province_only(submissions, bureau_user):
    assert visible_cities(bureau_user) == {"370200", "370100"}
    assert set(City.objects.visible_to(bureau_user).values_list("province_id", flat=True)) == {"370000"}
    assert City.objects.visible_to(bureau_user).count() == 16
    assert {d.city.province_id for d in Designation.objects.visible_to(bureau_user)} == {"370000"}


def test_ministry_and_administrators_see_the_nation(submissions, ministry_user, admin_user):
    for user in (ministry_user, admin_user):
        assert visible_cities(user) == {"370200", "370100", "320300"}
        assert City.objects.visible_to(user).count() == City.objects.count()


def test_anonymous_and_disabled_users_see_nothing(submissions, city_user):
    assert not Submission.objects.visible_to(AnonymousUser()).exists()
    city_user.is_active = False
    assert not Submission.objects.visible_to(city_user).exists()
    assert not City.objects.visible_to(AnonymousUser()).exists()


def test_a_submission_outside_the_scope_is_a_404_page(client, submissions, city_user):
    client.force_login(city_user)
    own, other = submissions["370200"], submissions["370100"]
    assert client.get(f"/submissions/{own.pk}/").status_code == 200
    assert client.get(f"/submissions/{other.pk}/").status_code == 404


def test_pages_of_another_role_are_refused(client, city_user, bureau_user):
    client.force_login(city_user)
    assert client.get("/bureau/").status_code == 403
    assert client.get("/ministry/").status_code == 403
    client.force_login(bureau_user)
    assert client.get("/city/").status_code == 403
