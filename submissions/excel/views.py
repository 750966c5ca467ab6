"""Pages: a form's "Excel 导入导出" (the city official, or its bureau on its behalf) and a bureau's
province workbook. Upload → dry run → the person reads the report → confirm or cancel.

Uploads are posted by a small script (static/js/excel-upload.js) that shows the upload's progress and
"checking…" while the server works; without JavaScript the plain form does the same with a redirect.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods

from gigacity.auth import role_required
from gigacity.errors import ApplicationError, StaleVersion
from gigacity.models import City, Role
from gigacity.xlsx import xlsx_response

from ..models import Submission
from ..selectors import last_activity
from ..services import ensure_editable
from .city import city_template, template_filename
from .imports import ImportResult, city_import, open_round, province_import, size_message
from .province import editable_rows, province_filename, province_workbook
from .sheets import Problem
from .uploads import (
    TTL,
    PendingUpload,
    limit_upload,
    pending_discard,
    pending_file,
    pending_get,
    pending_save,
    pending_update,
    too_large,
)


def _respond(request: HttpRequest, url: str) -> HttpResponse:
    """After a POST: a redirect, or for the upload script the address to go to (a redirect would be
    followed by the script itself and the page's messages consumed there)."""
    if request.headers.get("X-Requested-With") == "XMLHttpRequest":
        return JsonResponse({"location": url})
    return redirect(url)


def _changes_count(result: ImportResult) -> int:
    return sum(
        len(p.fields) + len(p.cases_added) + len(p.cases_changed) + len(p.cases_removed) + int(p.cases_reordered)
        for p in result.plans
    )


def _refused(kind: str, message: str) -> ImportResult:
    return ImportResult(kind=kind, dry_run=True).reject([Problem("", message)])


# ------------------------------------------------------------------------------------------------
# One form
# ------------------------------------------------------------------------------------------------
@require_GET
@login_required
def city_template_download(request: HttpRequest, pk: int) -> HttpResponse:
    """Anybody who can see the form may take it as a workbook (as the API allows); importing is for
    those who may edit it."""
    submission = get_object_or_404(Submission.objects.visible_to(request.user).select_related("city", "round"), pk=pk)
    return xlsx_response(city_template(submission=submission), template_filename(submission))


@role_required(Role.CITY, Role.BUREAU)
@csrf_exempt
def city_excel(request: HttpRequest, pk: int) -> HttpResponse:
    # The size limit has to be in place before anything reads the body, and the CSRF check does: so
    # the check is made just below, by csrf_protect, once the limit is installed (Django's documented
    # way to change upload handlers).
    if request.method == "POST":
        limit_upload(request)
    return _city_excel(request, pk)


@csrf_protect
@require_http_methods(["GET", "POST"])
def _city_excel(request: HttpRequest, pk: int) -> HttpResponse:
    submission = get_object_or_404(
        Submission.objects.visible_to(request.user).select_related("city__province", "round", "updated_by"), pk=pk
    )
    page = reverse("submissions:excel", args=[pk])
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "upload":
            return _respond(
                request,
                _upload(
                    request,
                    page,
                    kind="city",
                    target=submission.pk,
                    check=lambda upload: city_import(
                        submission_id=submission.pk, actor=request.user, upload=upload, dry_run=True
                    ),
                ),
            )
        pending = pending_get(request, token=request.POST.get("upload"), kind="city", target=pk)
        if pending is None:
            messages.error(request, _("This upload has expired or was already used. Upload the workbook again."))
            return redirect(page)
        if action == "apply":
            return redirect(_city_apply(request, submission, pending, page))
        if action == "cancel":
            pending_discard(request, pending)
            messages.info(request, _("Cancelled: nothing was saved."))
            return redirect(page)
        return HttpResponseBadRequest()
    pending = pending_get(request, token=request.GET.get("upload"), kind="city", target=pk)
    locked_reason = None
    try:
        ensure_editable(submission, request.user)
    except ApplicationError as exc:
        locked_reason = exc.message
    return render(
        request,
        "submissions/excel/city.html",
        {
            "submission": submission,
            "activity": last_activity(submission),
            "pending": pending,
            "result": pending.import_result if pending else None,
            "locked_reason": locked_reason,
            "max_bytes": settings.GIGACITY_MAX_WORKBOOK_BYTES,
            "max_mb": settings.GIGACITY_MAX_WORKBOOK_BYTES // 2**20,
            "ttl_minutes": int(TTL.total_seconds() // 60),
        },
    )


def _upload(
    request: HttpRequest, page: str, *, kind: str, target: int | str, check: Callable[[UploadedFile], ImportResult]
) -> str:
    """Receive a workbook, dry-run it (`check`) and keep it, with its report, for the person to
    confirm; the page then shows the report. Returns where to go."""
    upload = request.FILES.get("file")
    if too_large(request):
        result = _refused(kind, size_message(None))
    elif upload is None:
        messages.error(request, _("Choose the workbook to upload."))
        return page
    else:
        try:
            result = check(upload)
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return page
    token = pending_save(
        request, kind=kind, target=target, upload=upload, name=upload.name if upload else "", result=result
    )
    return f"{page}?upload={token}"


def _city_apply(request: HttpRequest, submission: Submission, pending: PendingUpload, page: str) -> str:
    handle = pending_file(pending)
    if handle is None:
        pending_discard(request, pending)
        messages.error(request, _("The uploaded file is no longer available. Upload the workbook again."))
        return page
    with handle:
        try:
            result = city_import(
                submission_id=submission.pk,
                actor=request.user,
                upload=handle,
                dry_run=False,
                expected_version=pending.versions.get(submission.city_id),
            )
        except StaleVersion:
            # Saved by somebody else after the check: nothing was imported. Check the same file again
            # against the latest version, so the person confirms what would really change now.
            handle.seek(0)
            try:
                result = city_import(submission_id=submission.pk, actor=request.user, upload=handle, dry_run=True)
            except ApplicationError as exc:
                pending_discard(request, pending)
                messages.error(request, exc.message)
                return page
            pending_update(request, pending, result)
            messages.warning(
                request,
                _(
                    "The form was changed by somebody else after your check, so nothing was imported. The "
                    "workbook was checked again against the latest version: review the changes and confirm again."
                ),
            )
            return f"{page}?upload={pending.token}"
        except ApplicationError as exc:
            pending_discard(request, pending)
            messages.error(request, exc.message)
            return page
    if result.applied:
        pending_discard(request, pending)
        count = _changes_count(result)
        if count:
            messages.success(
                request,
                _("The workbook was imported: %(n)s changes saved (version %(version)s).")
                % {"n": count, "version": result.plans[0].version},
            )
        else:
            messages.info(request, _("The workbook matches the form; there was nothing to change."))
        return reverse("submissions:detail", args=[submission.pk])
    pending_update(request, pending, result)
    messages.error(request, _("The workbook could not be imported; nothing was saved. See the problems below."))
    return f"{page}?upload={pending.token}"


# ------------------------------------------------------------------------------------------------
# A province
# ------------------------------------------------------------------------------------------------
@require_GET
@role_required(Role.BUREAU)
def province_workbook_download(request: HttpRequest) -> HttpResponse:
    round_ = open_round()
    province = request.user.province
    return xlsx_response(province_workbook(province=province, round_=round_), province_filename(province, round_))


@role_required(Role.BUREAU)
@csrf_exempt
def province_excel(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        limit_upload(request)  # before the CSRF check reads the body (see city_excel)
    return _province_excel(request)


@csrf_protect
@require_http_methods(["GET", "POST"])
def _province_excel(request: HttpRequest) -> HttpResponse:
    province = request.user.province
    page = reverse("submissions:province_excel")
    try:
        round_ = open_round()
    except ApplicationError as exc:
        return render(request, "submissions/excel/province.html", {"province": province, "closed": exc.message})
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "upload":
            return _respond(
                request,
                _upload(
                    request,
                    page,
                    kind="province",
                    target=request.user.province_id,
                    check=lambda upload: province_import(actor=request.user, upload=upload, dry_run=True),
                ),
            )
        pending = pending_get(request, token=request.POST.get("upload"), kind="province", target=province.code)
        if pending is None:
            messages.error(request, _("This upload has expired or was already used. Upload the workbook again."))
            return redirect(page)
        if action == "apply":
            return redirect(_province_apply(request, pending, page))
        if action == "cancel":
            pending_discard(request, pending)
            messages.info(request, _("Cancelled: nothing was saved."))
            return redirect(page)
        return HttpResponseBadRequest()
    pending = pending_get(request, token=request.GET.get("upload"), kind="province", target=province.code)
    rows = editable_rows(province=province, round_=round_)
    return render(
        request,
        "submissions/excel/province.html",
        {
            "province": province,
            "round": round_,
            "rows": rows,
            "not_editable": City.objects.filter(province=province).count() - len(rows),
            "pending": pending,
            "result": pending.import_result if pending else None,
            "max_bytes": settings.GIGACITY_MAX_WORKBOOK_BYTES,
            "max_mb": settings.GIGACITY_MAX_WORKBOOK_BYTES // 2**20,
            "ttl_minutes": int(TTL.total_seconds() // 60),
        },
    )


def _province_apply(request: HttpRequest, pending: PendingUpload, page: str) -> str:
    handle = pending_file(pending)
    if handle is None:
        pending_discard(request, pending)
        messages.error(request, _("The uploaded file is no longer available. Upload the workbook again."))
        return page
    with handle:
        try:
            if _changed_since_check(pending):
                # A city's form was saved after the check: nothing is imported; the same file is
                # checked again against the latest versions for the bureau to confirm anew.
                pending_update(request, pending, province_import(actor=request.user, upload=handle, dry_run=True))
                messages.warning(
                    request,
                    _(
                        "Some cities' forms were changed after your check, so nothing was imported. The workbook "
                        "was checked again against the latest versions: review the changes and confirm again."
                    ),
                )
                return f"{page}?upload={pending.token}"
            result = province_import(
                actor=request.user, upload=handle, dry_run=False, expected_versions=pending.versions
            )
        except ApplicationError as exc:
            pending_discard(request, pending)
            messages.error(request, exc.message)
            return page
    if result.applied:
        pending_discard(request, pending)
        messages.success(
            request,
            _("The province workbook was imported: %(n)s changes saved in %(cities)s cities.")
            % {"n": _changes_count(result), "cities": sum(1 for p in result.plans if p.has_changes)},
        )
        return page
    pending_update(request, pending, result)
    messages.error(request, _("The workbook could not be imported; nothing was saved. See the problems below."))
    return f"{page}?upload={pending.token}"


def _changed_since_check(pending: PendingUpload) -> bool:
    plans = pending.import_result.plans
    current = dict(
        Submission.objects.filter(round=open_round(), city_id__in=[p.city for p in plans]).values_list(
            "city_id", "version"
        )
    )
    for plan in plans:
        now = current.get(plan.city)
        # A city without a form at the check may have opened it since (an empty draft, version 1).
        if (plan.new and now not in (None, 1)) or (not plan.new and now != plan.base_version):
            return True
    return False
