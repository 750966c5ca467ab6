"""Pages of operators' figures (issue 13): the grid (one row per city of the province), the workbook
download and the workbook upload (dry run, then confirm). An operator's branch works on its own
operator's figures; a bureau picks the operator and works on its behalf. Everything goes through
`submissions.operators.operator_figures_report`, like the API."""

from __future__ import annotations

import secrets
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from gigacity.errors import ApplicationError
from gigacity.i18n import pick
from gigacity.models import City, Province, Role
from gigacity.xlsx import xlsx_response
from indicators.catalogue import INPUTS_BY_NAME, OPERATOR_INPUTS
from indicators.models import Operator, Round

from .excel.operators import operator_filename, operator_import, operator_workbook
from .models import OperatorFigure
from .operators import operator_figures_report

SESSION_KEY = "operator_upload"


def _context(request) -> tuple[Province, Operator | None, Round | None]:
    user = request.user
    if user.role not in (Role.OPERATOR, Role.BUREAU) or not user.province_id:
        raise PermissionDenied(
            _("Only a telecom operator's provincial branch, or its bureau, reports operators' figures.")
        )
    province = Province.objects.get(code=user.province_id)
    if user.role == Role.OPERATOR:
        operator = user.operator
    else:
        code = request.GET.get("operator") or request.POST.get("operator") or ""
        operator = Operator.objects.filter(code=code).first() if code else Operator.objects.first()
        if operator is None:
            raise Http404
    return province, operator, Round.objects.visible_to(user).current()


def _url(name: str, operator: Operator, user) -> str:
    url = reverse(name)
    return f"{url}?{urlencode({'operator': operator.code})}" if user.role == Role.BUREAU else url


def _input_label(name: str) -> str:
    spec = INPUTS_BY_NAME[name]
    return pick(spec.label_zh, spec.label_en)


@login_required
@require_http_methods(["GET", "POST"])
def figures(request):
    province, operator, round_ = _context(request)
    cities = list(City.objects.filter(province=province).order_by("code"))
    current = (
        {
            f.city_id: f
            for f in OperatorFigure.objects.filter(round=round_, operator=operator, city__province=province)
            .current()
            .select_related("reported_by")
        }
        if round_
        else {}
    )
    errors: dict[str, list[str]] = {}
    typed: dict[str, dict[str, str]] = {}
    if request.method == "POST" and round_ is not None:
        rows = []
        for city in cities:
            values = {name: request.POST.get(f"{city.code}-{name}", "").strip() for name in OPERATOR_INPUTS}
            typed[city.code] = values
            rows.append({"city": city.code, **values})
        try:
            report = operator_figures_report(
                actor=request.user,
                round_=round_,
                operator_code=operator.code if request.user.role == Role.BUREAU else None,
                rows=rows,
                source="page",
            )
        except ValidationError as exc:
            for key, msgs in exc.message_dict.items():
                if key.startswith("rows["):
                    index, name = key[5:].split("].", 1)
                    errors[f"{cities[int(index)].code}-{name}"] = msgs
                else:
                    errors[key] = msgs
            messages.error(request, _("Nothing was saved: correct the cells marked below."))
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                _("Saved: figures of %(n)s cities changed; the cities' forms are being checked again.")
                % {"n": len(report.plans)},
            )
            return redirect(_url("submissions:operator_figures", operator, request.user))
    table = []
    for city in cities:
        figure = current.get(city.code)
        cells = []
        for name in OPERATOR_INPUTS:
            key = f"{city.code}-{name}"
            if city.code in typed:
                value = typed[city.code][name]
            else:
                value = "" if figure is None or getattr(figure, name) is None else getattr(figure, name)
            cells.append({"name": key, "value": value, "errors": errors.get(key, []), "label": _input_label(name)})
        table.append({"city": city, "figure": figure, "cells": cells})
    return render(
        request,
        "submissions/operators/figures.html",
        {
            "province": province,
            "operator": operator,
            "operators": Operator.objects.all(),
            "round": round_,
            "headers": [
                {"label": _input_label(name), "unit": pick(INPUTS_BY_NAME[name].unit_zh, INPUTS_BY_NAME[name].unit_en)}
                for name in OPERATOR_INPUTS
            ],
            "table": table,
            "reported": len(current),
            "on_behalf": request.user.role == Role.BUREAU,
            "other_errors": [m for k, ms in errors.items() if "-" not in k for m in ms],
        },
    )


@login_required
def workbook(request):
    province, operator, round_ = _context(request)
    if round_ is None:
        raise Http404
    return xlsx_response(
        operator_workbook(province=province, operator=operator, round_=round_),
        operator_filename(province, operator, round_),
    )


def _upload_dir() -> Path:
    path = Path(settings.MEDIA_ROOT) / "operator-uploads"
    path.mkdir(parents=True, exist_ok=True)
    return path


@login_required
@require_http_methods(["GET", "POST"])
def excel(request):
    province, operator, round_ = _context(request)
    result = None
    token = None
    if request.method == "POST" and round_ is not None:
        try:
            if request.POST.get("confirm"):
                pending = request.session.get(SESSION_KEY) or {}
                path = _upload_dir() / f"{pending.get('token', 'none')}.xlsx"
                if pending.get("token") != request.POST.get("token") or not path.exists():
                    messages.error(request, _("The checked file is no longer available; upload it again."))
                    return redirect(_url("submissions:operator_excel", operator, request.user))
                with path.open("rb") as handle:
                    result = operator_import(
                        actor=request.user, upload=handle, round_=round_, dry_run=False, operator_code=operator.code
                    )
                path.unlink(missing_ok=True)
                request.session.pop(SESSION_KEY, None)
                if result.ok:
                    messages.success(
                        request, _("Imported: figures of %(n)s cities changed.") % {"n": len(result.plans)}
                    )
                    return redirect(_url("submissions:operator_figures", operator, request.user))
            elif request.FILES.get("file") is None:
                messages.error(request, _("Choose a file."))
            else:
                upload = request.FILES["file"]
                result = operator_import(
                    actor=request.user, upload=upload, round_=round_, dry_run=True, operator_code=operator.code
                )
                if result.ok and result.plans:
                    token = secrets.token_urlsafe(16)
                    upload.seek(0)
                    (_upload_dir() / f"{token}.xlsx").write_bytes(upload.read())
                    request.session[SESSION_KEY] = {"token": token}
        except ApplicationError as exc:
            messages.error(request, exc.message)
    return render(
        request,
        "submissions/operators/excel.html",
        {
            "province": province,
            "operator": operator,
            "operators": Operator.objects.all(),
            "round": round_,
            "result": result,
            "token": token,
            "on_behalf": request.user.role == Role.BUREAU,
        },
    )
