"""The security officer's pages: the audit trail, filtered, and its export."""

from __future__ import annotations

import json
import tempfile
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from gigacity.models import AuditKind, Role
from gigacity.xlsx import XLSX_CONTENT_TYPE

from .access import may_browse_audit
from .exports import MAX_EXPORT_ROWS, audit_workbook
from .record import audit_record
from .selectors import AuditFilterForm, audit_events

PAGE_SIZE = 50


def _officer_only(view):
    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        if not may_browse_audit(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def _filtered(request):
    form = AuditFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    query = urlencode({k: v for k, v in request.GET.items() if k != "page" and v}) if filters else ""
    return form, audit_events(user=request.user, filters=filters), query


@require_GET
@_officer_only
def audit_trail(request):
    form, events, query = _filtered(request)
    page = _page(events, request.GET.get("page"))
    return render(request, "audit/trail.html", {"form": form, "page": page, "query": query})


def _page(events, number):
    page = Paginator(events, PAGE_SIZE).get_page(number)
    for event in page:
        event.changes = _changes(event)
        event.role_label = Role(event.role).label if event.role in Role.values else event.role
    return page


def _changes(event) -> list[tuple[str, str, str]]:
    """(field, before, after) rows for the page; details as rows without a before."""
    before, after = event.before or {}, event.after or {}
    names = list(dict.fromkeys([*before, *after]))
    rows = [(name, _shown(before.get(name)), _shown(after.get(name))) for name in names]
    rows += [(name, "", _shown(value)) for name, value in (event.details or {}).items()]
    return rows


def _shown(value) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


@require_GET
@_officer_only
def audit_export(request):
    form, events, query = _filtered(request)
    count = events.count()
    if count > MAX_EXPORT_ROWS:
        page = _page(events, 1)
        message = _("%(count)s records match; narrow the filters to at most %(max)s to export them.") % {
            "count": count,
            "max": MAX_EXPORT_ROWS,
        }
        return render(
            request, "audit/trail.html", {"form": form, "page": page, "query": query, "export_refused": message}
        )
    out = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it once sent
    rows = audit_workbook(events=events, out=out)
    audit_record(
        kind=AuditKind.EXPORT,
        target_label=_("Security audit trail"),
        details={"what": "audit trail", "rows": rows, "filters": {k: v for k, v in request.GET.items() if v}},
    )
    out.seek(0)
    name = f"audit-{timezone.localtime():%Y%m%d-%H%M}.xlsx"
    response = FileResponse(out, as_attachment=True, filename=name, content_type=XLSX_CONTENT_TYPE)
    response["Cache-Control"] = "no-store"
    return response
