"""Pages of the survey form: the city's home, a submission's page, attachment downloads."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET

from gigacity.auth import role_required
from gigacity.models import Role
from indicators.models import Round

from . import selectors
from .models import Attachment, Submission
from .services import effective_deadline
from .workflow import allowed_actions


@require_GET
@role_required(Role.CITY)
def city_home(request):
    city = request.user.city
    current = Round.objects.current()
    submission = Submission.objects.filter(city=city, round=current).first() if current else None
    deadline = effective_deadline(city, current) if current else None
    history = Submission.objects.filter(city=city).select_related("round").order_by("-round__year")
    return render(
        request,
        "submissions/city_home.html",
        {
            "city": city,
            "round": current,
            "submission": submission,
            "deadline": deadline,
            "extended": bool(current and deadline and current.deadline and deadline > current.deadline),
            "days_left": current.days_to_deadline() if current else None,
            "history": history,
            "designations": city.designations.select_related("round"),
        },
    )


@require_GET
@login_required
def submission_detail(request, pk: int):
    try:
        submission = selectors.submission_detail(user=request.user, pk=pk)
    except Submission.DoesNotExist:
        raise Http404 from None
    previous = selectors.previous_submission(submission)
    return render(
        request,
        "submissions/detail.html",
        {
            "submission": submission,
            "indicator_rows": selectors.indicator_rows(submission, previous),
            "previous": previous,
            "score": selectors.latest_score(submission),
            "history": selectors.submission_history(submission),
            "actions": allowed_actions(submission, request.user),
        },
    )


@require_GET
@login_required
def attachment_download(request, pk: int):
    """Attachments are private: sent only to people who can see the submission, always as a download
    under the name it was uploaded with."""
    attachment = Attachment.objects.filter(submission__in=Submission.objects.visible_to(request.user), pk=pk).first()
    if attachment is None:
        raise Http404
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.original_name,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
