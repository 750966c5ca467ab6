"""Pages of the survey form: the city's home, the form itself, a submission's page, attachments."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from gigacity.auth import role_required, share_scope
from gigacity.errors import ApplicationError, StaleVersion
from gigacity.i18n import pick
from gigacity.models import Role
from gigacity.params import int_params
from indicators.catalogue import INDICATORS, KEY_SITE_CATEGORIES, key_site_field
from indicators.models import Round
from indicators.rules import PART_OF_WHOLE

from . import detail_html, explain, selectors
from .forms import (
    CASE_TEXT_FIELDS,
    NETWORK,
    PRACTICE_LABELS,
    SECTION_FIELDS,
    SECTIONS,
    USERS,
    CaseState,
    FormState,
    display_value,
    domain_choices,
    field_label,
)
from .inputs import NUMBER_FIELDS, number_limit
from .kinds import batch_of, kind_of
from .models import Attachment, ChangeSource, Status, Submission
from .services import (
    city_deadline,
    ensure_editable,
    submission_get_or_create,
    submission_submit,
    submission_update,
)
from .snapshots import CASE_FIELDS, DATA_FIELDS
from .workflow import allowed_actions


@require_GET
@role_required(Role.CITY)
def city_home(request):
    city = request.user.city
    current = Round.objects.current()
    submission = selectors.form_of_round(city=city, round_=current) if current else None
    if submission is not None:
        deadline = city_deadline(city, current, submission.deadline)
        batch = submission.batch
    else:
        deadline = city_deadline(city, current) if current else None
        batch = batch_of(city.pk)
    # What the table of rounds shows of each form, not its 70-odd columns.
    history = (
        Submission.objects.filter(city=city)
        .select_related("round")
        .only("city_id", "round__year", "kind", "status", "improvement_due", "submitted_at")
        .order_by("-round__year")
    )
    activity = selectors.last_activity(submission) if submission else None
    return render(
        request,
        "submissions/city_home.html",
        {
            "city": city,
            "round": current,
            "submission": submission,
            "can_edit": submission.can_edit(request.user) if submission else False,
            "activity": activity,
            "deadline": deadline.date if deadline else None,
            "extended": deadline.extended if deadline else False,
            "days_left": deadline.days_left if deadline else None,
            "history": history,
            "batch": batch,
            # The form of the current round, or the one the city owes: an annual report once named.
            "kind": submission.kind if submission else (kind_of(batch, current.year) if current else None),
        },
    )


@require_GET
@role_required(Role.CITY)
def city_form(request):
    """The city's form for the open round, created as a draft the first time."""
    round_ = Round.objects.open()
    if round_ is None:
        messages.info(request, _("No evaluation round is open at the moment."))
        return redirect("submissions:home")
    submission = submission_get_or_create(city=request.user.city, round_=round_, actor=request.user)
    return redirect("submissions:edit", submission.pk)


def _live_config(submission: Submission) -> dict:
    """What the page's script needs to compute the indicators as people type (the server computes
    them again on save: its value is the truth)."""
    thresholds = {code: str(value) for code, value in submission.round.threshold_map().items()}
    return {
        "indicators": [
            {
                "code": s.code,
                "kind": s.kind.value,
                "numerator": s.numerator,
                "denominator": s.denominator,
                "decimals": s.decimals,
                "unit": pick(s.unit_zh, s.unit_en),
                "threshold": thresholds.get(s.code),
                "may_exceed_100": s.may_exceed_100,
            }
            for s in INDICATORS
        ],
        # The page's clock for times it writes (a local backup's): the server's, not the browser's.
        "server_now": timezone.now().isoformat(),
        "time_zone": settings.TIME_ZONE,
        "applications_threshold": thresholds.get("applications"),
        # The largest number the server accepts in each field: said as it is typed, not on saving.
        "limits": {name: number_limit(name) for name in NUMBER_FIELDS},
        # The fields each section of the left navigation counts (the cases are counted apart).
        "sections": SECTION_FIELDS,
        "key_sites": [[key_site_field(c.key, "total"), key_site_field(c.key, "covered")] for c in KEY_SITE_CATEGORIES],
        # [part, whole, the part's name, the whole's name]: a key-site count names its category.
        "part_of_whole": [
            [part, whole, field_label(part), field_label(whole)]
            for part, whole in [
                *((part, whole) for part, whole, _indicator in PART_OF_WHOLE),
                *((key_site_field(c.key, "covered"), key_site_field(c.key, "total")) for c in KEY_SITE_CATEGORIES),
            ]
        ],
        "messages": {
            "not_a_number": _("Must be a whole number, 0 or more"),
            "too_large": _("Too large (at most %(limit)s); please check the unit"),
            "input_too_large": _("A number is too large"),
            "above_100": _("Above 100%: check the numbers"),
            "part_above_whole": _("Larger than %(whole)s: please check"),
            "meets": _("Meets"),
            "below": _("Below"),
            "unsaved": _("You have unsaved changes."),
            "saved": _("All changes saved."),
            "confirm_remove": _("Remove this case? Its attachments are removed too when you save."),
            "restore": _("This page has changes from %(when)s that were never saved. Restore them?"),
            "restore_yes": _("Restore"),
            "restore_no": _("Discard"),
            "uploading": _("Uploading …"),
            "upload_failed": _("The upload failed:"),
            "save_first": _("Save the form first; then attachments can be added to this case."),
            "new_case": _("New case"),
        },
    }


def _section_progress(state: FormState) -> dict[str, tuple[int, int]]:
    progress = {
        key: (sum(1 for f in fields if state.values.get(f, "").strip()), len(fields))
        for key, fields in SECTION_FIELDS.items()
    }
    progress["cases"] = (sum(1 for c in state.cases if not c.is_blank), 5)
    return progress


def _render_form(
    request,
    submission: Submission,
    state: FormState,
    *,
    status: int = 200,
    conflict=None,
    latest: Submission | None = None,
    submit_failed: bool = False,
    refused: str = "",
    unsaved: bool = False,
):
    share_scope(request.user, submission.city)
    previous = selectors.previous_submission(submission)
    events = selectors.form_events(submission)
    last_return = selectors.last_return(submission, events)
    comments = []
    if last_return and submission.status == Status.RETURNED:
        comments = list(last_return.field_comments.all())
    field_comments = state.attach_comments(comments)
    deadline = city_deadline(submission.city, submission.round, submission.deadline)
    latest_values = {}
    if latest is not None:
        latest_values = {name: display_value(name, getattr(latest, name)) for name in DATA_FIELDS}
        latest_values = {k: v for k, v in latest_values.items() if v != state.values.get(k, "")}
    return render(
        request,
        "submissions/form.html",
        {
            "submission": submission,
            "state": state,
            "sections": SECTIONS,
            "progress": _section_progress(state),
            "network": NETWORK,
            "users": USERS,
            "practice_labels": PRACTICE_LABELS,
            # Translated once for the page rather than once per case.
            "domain_choices": [(value, str(label)) for value, label in domain_choices()],
            "case_text_fields": CASE_TEXT_FIELDS,
            "blank_case": CaseState(None, dict.fromkeys(CASE_FIELDS, "")),
            "previous": previous,
            "previous_values": {name: display_value(name, getattr(previous, name)) for name in DATA_FIELDS}
            if previous
            else {},
            "indicator_rows": selectors.indicator_rows(submission, selectors.previous_figures(submission, previous)),
            "live_config": _live_config(submission),
            "carried": selectors.carried_over(submission),
            "batch": submission.batch,
            "last_return": last_return,
            "field_comments": field_comments,
            "deadline": deadline.date,
            "days_left": deadline.days_left,
            "deadline_passed": deadline.passed,
            "on_behalf": request.user.role == Role.BUREAU,
            "can_submit": request.user.role == Role.CITY,
            "conflict": conflict,
            "refused": refused,
            "latest": latest,
            "latest_values": latest_values,
            "activity": selectors.last_activity(submission, events),
            "submit_failed": submit_failed,
            # What the page shows was typed and refused, not saved.
            "unsaved": unsaved,
            "error_count": len(state.errors) + sum(len(c.errors) for c in state.cases),
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
@login_required
def submission_edit(request, pk: int):
    """The survey form. Saving keeps a draft (complete or not); submitting saves first, then submits
    when everything is complete. Nothing typed is lost: on any refusal the page comes back with what
    was typed and the reasons next to the fields."""
    if request.user.role not in (Role.CITY, Role.BUREAU):
        raise PermissionDenied
    if request.method == "GET":
        try:
            submission = selectors.submission_for_form(user=request.user, pk=pk)
        except Submission.DoesNotExist:
            raise Http404 from None
        try:
            ensure_editable(submission, request.user)
        except ApplicationError as exc:  # submitted, or the round has closed
            messages.info(request, exc.message)
            return redirect("submissions:detail", submission.pk)
        return _render_form(request, submission, FormState.from_submission(submission))

    # The service reads the form (in the user's scope, or Http404) and checks it; the page reads it
    # again only to show it after a refusal.
    state = FormState.from_post(request.POST)
    if request.POST.get("overwrite") == "1":
        # The person saw the conflict and chose to save their own values over the newer version.
        try:
            state.version = selectors.submission_version(user=request.user, pk=pk)
        except Submission.DoesNotExist:
            raise Http404 from None
    try:
        saved = submission_update(
            submission_id=pk,
            actor=request.user,
            data=state.data(),
            cases=state.case_items(),
            expected_version=state.version,
            source=ChangeSource.FORM,
        )
    except StaleVersion as exc:
        latest = selectors.submission_for_form(user=request.user, pk=pk)
        return _render_form(
            request, latest, state.beside(latest), status=409, conflict=exc.message, latest=latest, unsaved=True
        )
    except ValidationError as exc:
        submission = selectors.submission_for_form(user=request.user, pk=pk)
        state = state.beside(submission)
        state.attach_errors(exc.message_dict)
        return _render_form(request, submission, state, status=400, unsaved=True)
    except ApplicationError as exc:
        # Submitted meanwhile, or the round closed while the page was open: nothing is saved, and
        # what was typed stays on the page so that it is not lost.
        submission = selectors.submission_for_form(user=request.user, pk=pk)
        return _render_form(
            request, submission, state.beside(submission), status=exc.status_code, refused=exc.message, unsaved=True
        )

    if request.POST.get("action") != "submit":
        messages.success(request, _("Saved (version %(v)s).") % {"v": saved.version})
        return redirect("submissions:edit", saved.pk)
    try:
        submission_submit(
            submission_id=saved.pk,
            actor=request.user,
            expected_version=saved.version,
            confirm_inconsistent=request.POST.get("confirm_inconsistent") == "1",
        )
    except ValidationError as exc:
        saved = selectors.submission_for_form(user=request.user, pk=pk)
        state = FormState.from_submission(saved)
        state.attach_errors(exc.message_dict)
        return _render_form(request, saved, state, status=400, submit_failed=True)
    except ApplicationError as exc:  # past the deadline, round closed, or a bureau (it may not submit)
        messages.error(request, exc.message)
        return redirect("submissions:edit", saved.pk)
    messages.success(request, _("Submitted to the provincial bureau. You will be notified of its review."))
    return redirect("submissions:detail", saved.pk)


def render_submission_page(
    request,
    pk: int,
    *,
    status: int = 200,
    action: str = "",
    action_errors=(),
    action_field_errors=None,
    action_post=None,
    extra: dict | None = None,
):
    """A submission's page for whoever may see it: its data, score, flags and history, and the
    actions the viewer may take now. After a refused action it shows the reason (and, under a field
    of the action's form, what concerns it: `action_field_errors`) and keeps what was typed
    (`action_post`)."""
    try:
        submission = selectors.submission_detail(user=request.user, pk=pk)
    except Submission.DoesNotExist:
        raise Http404 from None
    share_scope(request.user, submission.city)
    # Read once, shown by several parts of the page.
    previous_form = selectors.previous_submission(submission)
    previous = selectors.previous_figures(submission, previous_form)
    events = selectors.form_events(submission)
    changes = selectors.form_changes(submission)
    last_return = selectors.last_return(submission, events)
    cases = list(submission.cases.all())
    deadline = city_deadline(submission.city, submission.round, submission.deadline)
    scores = selectors.form_scores(submission)
    score = selectors.latest_score(submission, scores)
    selectors.latest_score_facts(submission, scores, changes)
    actions = [a.value for a in allowed_actions(submission, request.user)]
    activity = selectors.last_activity(submission, events, changes)
    return render(
        request,
        "submissions/detail.html",
        {
            "submission": submission,
            "cases": cases,
            "indicator_rows": selectors.indicator_rows(submission, previous),
            "explanation": explain.score_explanation(submission, previous_form),
            "previous": previous,
            "score": score,
            # An outdated score is never the headline: the current data are judged again for the page.
            "current_result": selectors.current_result(submission) if submission.score_outdated else None,
            "history": selectors.submission_history(submission, request.user, events, changes, scores),
            "actions": actions,
            # The reviewers' card (the city submits from its form, not from here).
            "key_site_rows": [
                (
                    pick(c.label_zh, c.label_en),
                    getattr(submission, key_site_field(c.key, "total")),
                    getattr(submission, key_site_field(c.key, "covered")),
                )
                for c in KEY_SITE_CATEGORIES
            ],
            "review_actions": [a for a in actions if a != "submit"],
            "batch": submission.batch,
            "shortfall_rows": selectors.shortfall_rows(submission, score),
            "shortfall_chosen": set((action_post or {}).getlist("shortfall")) if action_post else None,
            "improvement_due_default": selectors.improvement_due_default(submission),
            "activity": activity,
            "last_event": activity.step,
            "deadline_passed": deadline.passed,
            "can_edit": submission.can_edit(request.user),
            "resubmission": selectors.changes_since_return(submission, events)
            if submission.status in (Status.SUBMITTED, Status.RECOMMENDED, Status.SENT_BACK)
            else None,
            "last_return": last_return,
            "return_comments": list(last_return.field_comments.all()) if last_return else [],
            "comment_choices": detail_html.comment_choices(cases),
            "case_titles": {case.pk: case.title for case in cases},
            "action": action,
            "action_errors": action_errors,
            "action_field_errors": action_field_errors or {},
            "action_post": action_post or {},
            "excellent_chosen": set(int_params((action_post or {}).getlist("excellent")))
            if action_post
            else {c.pk for c in cases if c.is_excellent},
            # What another app's panel on the page needs after a refused step (reviews' evidence panel).
            **(extra or {}),
        },
        status=status,
    )


@require_GET
@login_required
def submission_detail(request, pk: int):
    return render_submission_page(request, pk)


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
