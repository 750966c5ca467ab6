"""Pages of evidence requests (on the form's page) and sample checks (the ministry's pages): parse,
call the service of `reviews.evidence` / `reviews.sampling`, render. A refused step comes back with
the reason on its field and what was typed kept."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gigacity import uploads
from gigacity.auth import role_required
from gigacity.errors import ApplicationError
from gigacity.models import Province, Region, Role
from gigacity.params import int_param
from gigacity.xlsx import xlsx_response
from indicators.catalogue import INDICATORS
from indicators.models import Round
from submissions.models import Submission
from submissions.views import render_submission_page

from . import evidence, sampling
from .exports_checks import sample_workbook
from .models import CheckFile, EvidenceRequest, SampleDraw, SampleItem, SampleStratum

EVIDENCE_VERBS = {
    "accept": (evidence.evidence_accept, gettext_lazy("Evidence accepted.")),
    "reject": (evidence.evidence_reject, gettext_lazy("Sent back to the city to answer again.")),
    "withdraw": (evidence.evidence_withdraw, gettext_lazy("The request was withdrawn.")),
}


def _date(raw: str) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat((raw or "").strip())
    except ValueError:
        return None


def _too_large(request) -> list[str]:
    if uploads.too_large(request):
        limit_mb = settings.GIGACITY_MAX_ATTACHMENT_BYTES // (1024 * 1024)
        return [_("The file is larger than %(mb)s MB.") % {"mb": limit_mb}]
    return []


def _refused(request, submission_id: int, form: str, exc: Exception, status: int = 400):
    """The form's page again, with the refusal on the evidence form that was sent."""
    if isinstance(exc, ValidationError):
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
    else:
        errors = {"__all__": [exc.message]}
        status = exc.status_code
    return render_submission_page(
        request,
        submission_id,
        status=status,
        extra={"evidence_form": form, "evidence_errors": errors, "evidence_post": request.POST},
    )


@require_POST
@login_required
def evidence_new(request, pk: int):
    submission = get_object_or_404(Submission.objects.visible_to(request.user), pk=pk)
    raw_due = request.POST.get("due_on", "")
    due_on = _date(raw_due)
    try:
        if raw_due.strip() and due_on is None:
            raise ValidationError({"due_on": [_("Enter a date as YYYY-MM-DD.")]})
        evidence.evidence_request_create(
            submission_id=submission.pk,
            actor=request.user,
            field=request.POST.get("field", ""),
            question=request.POST.get("question", ""),
            due_on=due_on,
        )
    except (ValidationError, ApplicationError) as exc:
        return _refused(request, submission.pk, "new", exc)
    messages.success(request, _("The city has been asked for evidence and notified."))
    return redirect(f"{reverse('submissions:detail', args=[submission.pk])}#evidence-h")


def _request_or_404(request, pk: int) -> EvidenceRequest:
    return get_object_or_404(EvidenceRequest.objects.visible_to(request.user), pk=pk)


def _back(row: EvidenceRequest):
    return redirect(f"{reverse('submissions:detail', args=[row.submission_id])}#evidence-{row.pk}")


@login_required
@csrf_exempt
def evidence_answer(request, pk: int):
    # The size limit has to be in place before anything reads the body, and the CSRF check does: the
    # check is made just below by csrf_protect, once the limit is installed (as the cover letter's).
    uploads.limit_upload(request, settings.GIGACITY_MAX_ATTACHMENT_BYTES)
    return _evidence_answer(request, pk)


@csrf_protect
@require_POST
def _evidence_answer(request, pk: int):
    row = _request_or_404(request, pk)
    try:
        if problem := _too_large(request):
            raise ValidationError({"files": problem})
        evidence.evidence_answer(
            request_id=row.pk,
            actor=request.user,
            text=request.POST.get("text", ""),
            files=request.FILES.getlist("files"),
        )
    except (ValidationError, ApplicationError) as exc:
        return _refused(request, row.submission_id, f"answer-{row.pk}", exc)
    messages.success(request, _("Your answer has been sent to the reviewer."))
    return _back(row)


@require_POST
@login_required
def evidence_act(request, pk: int, verb: str):
    if verb not in EVIDENCE_VERBS:
        raise Http404
    service, done = EVIDENCE_VERBS[verb]
    row = _request_or_404(request, pk)
    try:
        service(request_id=row.pk, actor=request.user, reason=request.POST.get("reason", ""))
    except (ValidationError, ApplicationError) as exc:
        return _refused(request, row.submission_id, f"{verb}-{row.pk}", exc)
    messages.success(request, done)
    return _back(row)


@require_GET
@login_required
def check_file(request, pk: int):
    """Files of evidence answers and verifications are private: sent only to people who may see them,
    always as a download under the name they were uploaded with."""
    row = CheckFile.objects.visible_to(request.user).filter(pk=pk).first()
    if row is None:
        raise Http404
    response = FileResponse(
        row.file.open("rb"), as_attachment=True, filename=row.original_name, content_type=row.content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


# ------------------------------------------------------------------------------------------------
# Sample checks (the ministry's)
# ------------------------------------------------------------------------------------------------
def _strata_choices() -> dict[str, list[tuple[str, str]]]:
    return {
        "province": [(p.code, p.name) for p in Province.objects.order_by("code")],
        "region": [(value, str(label)) for value, label in Region.choices],
    }


@require_http_methods(["GET", "POST"])
@role_required(Role.MINISTRY, Role.ADMIN)
def samples_page(request):
    """The draws made so far, and a form to make a new one (ministry staff)."""
    rounds = list(Round.objects.visible_to(request.user).order_by("-year"))
    errors: dict[str, list[str]] = {}
    status = 200
    post = request.POST if request.method == "POST" else {}
    if request.method == "POST":
        year = int_param(request.POST.get("round", ""))
        round_ = next((r for r in rounds if r.year == year), None)
        raw_size = request.POST.get("size", "").strip()
        raw_seed = request.POST.get("seed", "").strip()
        size = int_param(raw_size) if raw_size else None
        seed = int_param(raw_seed) if raw_seed else None
        if round_ is None:
            errors["round"] = [_("Choose a round.")]
        if raw_size and size is None:
            errors["size"] = [_("Enter a whole number.")]
        if raw_seed and seed is None:
            errors["seed"] = [_("Enter a whole number.")]
        if not errors:
            try:
                record = sampling.sample_draw_create(
                    round_=round_,
                    actor=request.user,
                    size=size,
                    share=request.POST.get("share", "").strip() or None,
                    stratify=request.POST.get("stratify", ""),
                    strata=request.POST.getlist("strata"),
                    seed=seed,
                    note=request.POST.get("note", ""),
                )
            except ValidationError as exc:
                errors = exc.message_dict
            except ApplicationError as exc:
                errors, status = {"__all__": [exc.message]}, exc.status_code
            else:
                messages.success(request, _("Sample drawn; the seed is recorded."))
                return redirect("reviews:sample", record.pk)
    draws = SampleDraw.objects.visible_to(request.user).select_related("round", "drawn_by")
    return render(
        request,
        "reviews/samples.html",
        {
            "draws": draws,
            "rounds": rounds,
            "errors": errors,
            "post": post,
            "stratify_choices": SampleStratum.choices,
            "strata_choices": _strata_choices(),
            "chosen_strata": set(request.POST.getlist("strata")) if post else set(),
        },
        status=status if status != 200 else (400 if errors else 200),
    )


def _draw_or_404(request, pk: int) -> SampleDraw:
    return get_object_or_404(
        SampleDraw.objects.visible_to(request.user).select_related("round", "drawn_by"),
        pk=pk,
    )


def render_sample(request, record: SampleDraw, *, errors=None, item_id=None, status=200):
    again, identical = sampling.draw_again(record)
    items = record.items.select_related("submission__city__province", "verified_by").prefetch_related("files")
    return render(
        request,
        "reviews/sample.html",
        {
            "draw": record,
            "items": items,
            "again": again,
            "identical": identical,
            "strata": sampling.stratum_counts(record),
            "indicators": INDICATORS,
            "errors": errors or {},
            "error_item": item_id,
            "post": request.POST if errors else {},
        },
        status=status,
    )


@require_GET
@role_required(Role.MINISTRY, Role.ADMIN)
def sample_page(request, pk: int):
    """A draw: its parameters and seed, the draw run again from them (shown identical), each sampled
    form with its outcome, and the form to record one."""
    return render_sample(request, _draw_or_404(request, pk))


@require_GET
@role_required(Role.MINISTRY, Role.ADMIN)
def sample_export(request, pk: int):
    record = _draw_or_404(request, pk)
    return xlsx_response(sample_workbook(record), f"抽查核验_{record.round.year}_{record.pk}.xlsx")


@role_required(Role.MINISTRY, Role.ADMIN)
@csrf_exempt
def sample_item_page(request, pk: int):
    uploads.limit_upload(request, settings.GIGACITY_MAX_ATTACHMENT_BYTES)  # before the CSRF check reads the body
    return _sample_item_page(request, pk)


@csrf_protect
@require_POST
def _sample_item_page(request, pk: int):
    item = get_object_or_404(SampleItem.objects.filter(draw__in=SampleDraw.objects.visible_to(request.user)), pk=pk)
    findings = [
        {"indicator": code, "text": text}
        for code, text in zip(
            request.POST.getlist("finding_indicator"), request.POST.getlist("finding_text"), strict=False
        )
    ]
    try:
        if problem := _too_large(request):
            raise ValidationError({"files": problem})
        sampling.sample_item_record(
            item_id=item.pk,
            actor=request.user,
            outcome=request.POST.get("outcome", ""),
            findings=findings,
            note=request.POST.get("note", ""),
            files=request.FILES.getlist("files"),
            reopen=request.POST.get("reopen") in ("1", "on"),
        )
    except ValidationError as exc:
        return render_sample(request, item.draw, errors=exc.message_dict, item_id=item.pk, status=400)
    except ApplicationError as exc:
        return render_sample(
            request, item.draw, errors={"__all__": [exc.message]}, item_id=item.pk, status=exc.status_code
        )
    messages.success(request, _("Outcome recorded."))
    return redirect(f"{reverse('reviews:sample', args=[item.draw_id])}#item-{item.pk}")
