"""The world every permission-matrix row runs in: one account per role and city A's objects."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from rest_framework.test import APIClient

from gigacity.models import City, User
from indicators.models import Round
from tests.conftest import PASSWORD


@dataclass
class World:
    users: dict[str, User]
    round: Round
    city_a: City
    password: str = PASSWORD
    submission_a: object = None
    job: object = None
    evidence: object = None
    draw: object = None

    @property
    def user_name_for_token(self) -> str:
        return self.users["city"].username

    def notification(self):
        """A notification for city A's official: its bureau returned the form."""
        from reviews.models import Notification
        from reviews.services import submission_return

        submission = self.submission("submitted")
        submission_return(submission_id=submission.pk, actor=self.users["bureau"], reason="请核实")
        return Notification.objects.get(recipient=self.users["city"], submission=submission)

    def pdf(self):
        from django.core.files.uploadedfile import SimpleUploadedFile

        return SimpleUploadedFile("证明材料.pdf", b"%PDF-1.4 evidence", content_type="application/pdf")

    def attachment(self):
        from submissions.services import attachment_add

        return attachment_add(
            submission_id=self.submission().pk, case_id=None, upload=self.pdf(), actor=self.users["city"]
        )

    def export_job(self):
        """A finished export of city A's bureau (created once per test)."""
        from reviews.exports import export_request, export_run

        if self.job is None:
            self.job = export_request(user=self.users["bureau"], kind="cities", round_=self.round)
            export_run(job_id=str(self.job.pk))
        return self.job

    def template(self):
        """City A's filled-in Excel template, as an upload."""
        from django.core.files.uploadedfile import SimpleUploadedFile

        from submissions.excel.city import city_template

        return SimpleUploadedFile("调查表.xlsx", city_template(submission=self.submission()))

    def province_workbook(self):
        """City A's province workbook, as an upload."""
        from django.core.files.uploadedfile import SimpleUploadedFile

        from submissions.excel.province import province_workbook

        content = province_workbook(province=self.city_a.province, round_=self.round)
        return SimpleUploadedFile("汇总表.xlsx", content)

    def evidence_request(self, *, answered: bool = False):
        """An evidence request of 山东's bureau on city A's submitted form (created once per test);
        answered by the city when `answered`."""
        import datetime

        from django.utils import timezone

        from reviews.evidence import evidence_answer, evidence_request_create

        if self.evidence is None:
            self.evidence = evidence_request_create(
                submission_id=self.submission("submitted").pk,
                actor=self.users["bureau"],
                field="bs5g_count",
                question="请提供基站统计表",
                due_on=timezone.localdate() + datetime.timedelta(days=7),
            )
            if answered:
                evidence_answer(
                    request_id=self.evidence.pk, actor=self.users["city"], text="见附件", files=[self.pdf()]
                )
        return self.evidence

    def evidence_file(self):
        from reviews.models import CheckFile

        return CheckFile.objects.get(answer__request=self.evidence_request(answered=True))

    def tomorrow(self) -> str:
        import datetime

        from django.utils import timezone

        return (timezone.localdate() + datetime.timedelta(days=1)).isoformat()

    def sample_draw(self):
        """A draw of the ministry over city A's recommended form (created once per test)."""
        from reviews.sampling import sample_draw_create

        if self.draw is None:
            self.submission("recommended")
            self.draw = sample_draw_create(round_=self.round, actor=self.users["ministry"], size=1, seed=1)
        return self.draw

    def evaluation(self, state: str = "draft", **kwargs):
        """City A's form as an evaluation: as if 青岛 had never been named (its 2021 designation is
        removed first)."""
        from indicators.models import Designation

        Designation.objects.filter(city=self.city_a).delete()
        return self.submission(state, **kwargs)

    def improvement_due(self) -> str:
        import datetime

        from django.utils import timezone

        return (timezone.localdate() + datetime.timedelta(days=180)).isoformat()

    def submission(self, state: str = "draft", **kwargs):
        """City A's submission, walked to `state` (created once per test)."""
        from tests.factories import make_submission

        if self.submission_a is None:
            self.submission_a = make_submission(self.city_a, self.round, state, **kwargs)
        return self.submission_a


@pytest.fixture
def world(
    open_round,
    city_user,
    city_user_same_province,
    city_user_other_province,
    bureau_user,
    bureau_user_other_province,
    operator_user,
    ministry_user,
    admin_user,
) -> World:
    users = {
        "city": city_user,
        "city_same_province": city_user_same_province,
        "city_other_province": city_user_other_province,
        "bureau": bureau_user,
        "bureau_other_province": bureau_user_other_province,
        "operator": operator_user,
        "ministry": ministry_user,
        "admin": admin_user,
    }
    return World(users=users, round=open_round, city_a=city_user.city)


def client_for(world: World, role: str) -> APIClient:
    client = APIClient()
    if role != "anonymous":
        client.force_authenticate(world.users[role])
    return client
