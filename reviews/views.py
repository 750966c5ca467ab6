"""Pages of the provincial bureaus and the ministry: the review queue, the national and provincial
dashboards, reference values, exports, and the notification list."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gigacity.auth import role_required
from gigacity.models import Province, Role
from indicators.catalogue import INDICATORS
from indicators.models import Round
from submissions.models import Status
from submissions.selectors import city_rows, status_counts

from . import dashboards, exports, services
from .forms import ExportRequestForm, ReferenceValuesForm
from .models import ExportJob, ExportKind, ExportState, Notification
from .notifications import notification_title, notification_url


@require_GET
@role_required(Role.BUREAU)
def bureau_home(request):
    round_ = Round.objects.current()
    rows = city_rows(user=request.user, round_=round_) if round_ else []
    return render(
        request,
        "reviews/bureau_home.html",
        {
            "round": round_,
            "province": request.user.province,
            "rows": rows,
            "counts": status_counts(rows),
            "days_left": round_.days_to_deadline() if round_ else None,
        },
    )


def _year(request) -> int | None:
    raw = request.GET.get("round", "")
    return int(raw) if raw.isdigit() and len(raw) == 4 else None


def _round_or_none(request) -> Round | None:
    """The round asked for (404 when unknown), or the current one (None when there is no round yet)."""
    year = _year(request)
    if year is None and Round.objects.current() is None:
        return None
    return dashboards.dashboard_round(user=request.user, year=year)


def _chart_config() -> dict:
    """What the charts' script needs besides the figures: where things are, and its words in the
    reader's language (the script itself holds no text)."""
    return {
        "mapUrl": static("vendor/china-map/china.json"),
        "provinceUrl": reverse("reviews:province_dashboard", args=["000000"]),
        "submissionUrl": reverse("submissions:detail", args=[0]),
        "labels": {
            "named": _("Gigabit Cities"),
            "namedInRound": _("Named this round"),
            "progress": _("Reported"),
            "units": _("Units"),
            "reported": _("Forms reported"),
            "noData": _("Not part of the evaluation"),
            "cumulative": _("Cumulative"),
            "east": _("Eastern"),
            "central": _("Central"),
            "west": _("Western"),
            "cities": _("Cities"),
            "threshold": _("Threshold"),
            "reference": _("National reference value"),
            "mean": _("Mean of reporting cities"),
            "open": _("Click to open the province"),
            "batch": _("Batch"),
            "province": _("Province"),
            "national": _("National mean"),
            "relative": _("Mean as a share of the threshold (threshold = 100)"),
        },
    }


@require_GET
@role_required(Role.MINISTRY, Role.ADMIN)
def ministry_home(request):
    """The national dashboard: the ministry's home page."""
    round_ = _round_or_none(request)
    data = dashboards.national_dashboard(user=request.user, round_=round_) if round_ else None
    return render(
        request,
        "reviews/national_dashboard.html",
        {
            "round": round_,
            "d": data,
            "chart_data": dashboards.as_json(data) if data else None,
            "chart_config": _chart_config(),
            "status_strip": _status_strip(data["status_counts"]) if data else [],
        },
    )


@require_GET
@role_required(Role.BUREAU)
def my_province_dashboard(request):
    return redirect("reviews:province_dashboard", code=request.user.province_id)


@require_GET
@role_required(Role.BUREAU, Role.MINISTRY, Role.ADMIN)
def province_dashboard(request, code: str):
    """One province's dashboard: its own bureau, or the ministry drilling down from the map."""
    province = dashboards.dashboard_province(user=request.user, code=code)
    round_ = _round_or_none(request)
    data = dashboards.province_dashboard(user=request.user, province=province, round_=round_) if round_ else None
    return render(
        request,
        "reviews/province_dashboard.html",
        {
            "province": province,
            "round": round_,
            "d": data,
            "chart_data": dashboards.as_json(data) if data else None,
            "chart_config": _chart_config(),
            "status_strip": _status_strip(data["status_counts"]) if data else [],
            "indicator_specs": INDICATORS,
        },
    )


# The status bar's order follows the workflow from its end: what is decided, what waits for the
# ministry, what waits for the bureau, what is still with the city.
STRIP_ORDER = (
    Status.APPROVED,
    Status.REJECTED,
    Status.RECOMMENDED,
    Status.SENT_BACK,
    Status.SUBMITTED,
    Status.RETURNED,
    Status.DRAFT,
    dashboards.NOT_STARTED,
)


def _status_strip(counts: dict[str, int]) -> list[dict]:
    units = counts["units"] or 1
    labels = {dashboards.NOT_STARTED: _("Not started"), **{s.value: s.label for s in Status}}
    return [
        {
            "key": key,
            "label": labels[key],
            "count": counts[key],
            "share": round(counts[key] * 100 / units, 1),
        }
        for key in STRIP_ORDER
    ]


@require_http_methods(["GET", "POST"])
@role_required(Role.MINISTRY, Role.ADMIN)
def reference_values(request):
    """Ministry staff set the national reference values shown beside the named cities' means."""
    rounds = dashboards.visible_rounds(user=request.user)
    round_ = get_object_or_404(rounds, year=_year(request)) if _year(request) else Round.objects.current()
    if round_ is None:
        raise Http404
    form = ReferenceValuesForm(request.POST or None, references=list(round_.reference_values.all()))
    if request.method == "POST" and form.is_valid():
        changed = services.reference_values_update(round_=round_, values=form.values(), actor=request.user)
        messages.success(
            request,
            ngettext(
                "%(n)s reference value of the %(year)s round saved.",
                "%(n)s reference values of the %(year)s round saved.",
                changed,
            )
            % {"n": changed, "year": round_.year},
        )
        return redirect(f"{reverse('reviews:reference_values')}?round={round_.year}")
    return render(request, "reviews/reference_values.html", {"round": round_, "rounds": rounds, "form": form})


@require_http_methods(["GET", "POST"])
@role_required(Role.BUREAU, Role.MINISTRY, Role.ADMIN)
def exports_page(request):
    """Exports in the background: ask for one, watch it being written, download it."""
    if request.method == "POST":
        form = ExportRequestForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("The export could not be requested; please choose again."))
            return redirect("reviews:exports")
        round_ = dashboards.dashboard_round(user=request.user, year=form.cleaned_data["round"])
        code = form.cleaned_data["province"]
        province = get_object_or_404(Province.objects.visible_to(request.user), code=code) if code else None
        exports.export_request(
            user=request.user,
            kind=form.cleaned_data["kind"],
            round_=round_,
            province=province,
            cumulative=form.cleaned_data["cumulative"],
        )
        messages.success(request, _("The export is being prepared; it appears below when it is ready."))
        return redirect("reviews:exports")
    round_ = Round.objects.current()
    jobs = ExportJob.objects.visible_to(request.user).select_related("round", "province")[:20]
    return render(
        request,
        "reviews/exports.html",
        {
            "round": round_,
            "rounds": dashboards.visible_rounds(user=request.user),
            "jobs": jobs,
            "kinds": ExportKind.choices,
            "province": request.user.province if request.user.role == Role.BUREAU else None,
            "job_labels": {
                "download": _("Download"),
                "states": {state.value: state.label for state in ExportState},
            },
        },
    )


@require_GET
@login_required
def notifications(request):
    items = Notification.objects.filter(recipient=request.user).select_related("city", "round", "actor", "submission")
    page = Paginator(items, 30).get_page(request.GET.get("page"))
    for n in page:
        n.title, n.link = notification_title(n), notification_url(n)
    return render(request, "reviews/notifications.html", {"page": page})


@require_GET
@login_required
def notification_open(request, pk: int):
    notification = get_object_or_404(Notification, pk=pk, recipient=request.user)
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return redirect(notification_url(notification))


@require_POST
@login_required
def notifications_read_all(request):
    Notification.objects.filter(recipient=request.user, read_at__isnull=True).update(read_at=timezone.now())
    return redirect("reviews:notifications")
