"""Issue 13 with a real worker: operators' figures that arrive after a form was scored raise the
comparison's flags through the same pending/claim/sweep path as scoring, with no new submission."""

# ruff: noqa: F811  (the worker fixtures are imported from test_worker and used as arguments)
from __future__ import annotations

import pytest

from gigacity.models import City
from submissions.models import ScoringState, Status, Submission
from submissions.operators import operator_figures_report
from tests.conftest import make_user
from tests.factories import make_submission

from .processes import wait_until, worker
from .test_worker import TIMEOUT, broker_url, processes, queue, start  # noqa: F401  (fixtures)

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]


def test_figures_arriving_after_scoring_raise_the_flags_without_a_new_submission(
    open_round,
    processes,
    tmp_path,
    broker_url,
    queue,
):
    running = start(
        processes, worker(name="operators", app="gigacity", broker_url=broker_url, queue=queue, workdir=tmp_path)
    )
    # Given 青岛's form, submitted with 20 000 5G base stations and scored by the worker
    qingdao = City.objects.get(code="370200")
    form = make_submission(qingdao, open_round, Status.SUBMITTED, bs5g_count=20000)
    wait_until(
        lambda: Submission.objects.get(pk=form.pk).scoring_state == ScoringState.SCORED,
        timeout=TIMEOUT,
        what="first score",
        processes=[running],
    )
    first = Submission.objects.get(pk=form.pk)
    assert first.figures_check == "unreported"
    assert not first.scores.latest().flags.filter(code="operator_mismatch").exists()

    # When 中国移动 and 中国电信 report 9 000 and 6 000 (15 000 in all: 33 % below the city's figure)
    mobile = make_user("sd_mobile_w", "operator", province="370000", operator="mobile")
    telecom = make_user("sd_telecom_w", "operator", province="370000", operator="telecom")
    for actor, count in ((mobile, 9000), (telecom, 6000)):
        operator_figures_report(
            actor=actor,
            round_=open_round,
            operator_code=None,
            rows=[{"city": "370200", "bs5g_count": count}],
            source="api",
        )

    # Then the worker scores the same version again and raises the mismatch, with both numbers
    def flagged():
        s = Submission.objects.get(pk=form.pk)
        return (
            s.scoring_state == ScoringState.SCORED
            and s.figures_check == "mismatch"
            and s.scores.latest().flags.filter(code="operator_mismatch", details__operators=15000).exists()
        )

    wait_until(flagged, timeout=TIMEOUT, what="mismatch flagged", processes=[running])
    after = Submission.objects.get(pk=form.pk)
    assert after.version == first.version
    assert after.submitted_at == first.submitted_at
    flag = after.scores.latest().flags.get(code="operator_mismatch", indicator="bs5g_per_10k")
    assert flag.details == {"input": "bs5g_count", "city": 20000, "operators": 15000, "missing": ["unicom", "broadnet"]}
    assert flag.severity == 2
