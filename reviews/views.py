"""Pages of the provincial bureaus and the ministry, and the notification list."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from gigacity.auth import role_required
from gigacity.models import City, Province, Role
from indicators.models import Designation, Round
from submissions.models import Status, Submission
from submissions.selectors import city_rows, status_counts

from .models import Notification
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


@require_GET
@role_required(Role.MINISTRY)
def ministry_home(request):
    round_ = Round.objects.current()
    per_status = {
        s: Count("cities__submissions", filter=Q(cities__submissions__round=round_, cities__submissions__status=s))
        for s in Status.values
    }
    provinces = Province.objects.annotate(
        city_total=Count("cities", distinct=True), **{f"n_{s}": c for s, c in per_status.items()}
    )
    totals = {s: Submission.objects.filter(round=round_, status=s).count() for s in Status.values} if round_ else {}
    return render(
        request,
        "reviews/ministry_home.html",
        {
            "round": round_,
            "provinces": provinces,
            "totals": totals,
            "city_total": City.objects.count(),
            "designated": Designation.objects.values("city").distinct().count(),
            "days_left": round_.days_to_deadline() if round_ else None,
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
