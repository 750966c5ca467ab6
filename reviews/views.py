"""Pages of the provincial bureaus and the ministry: review queues, workflow actions, extensions,
round management, the national and provincial dashboards, reference values, exports, and the
notification list."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gigacity.auth import role_required, share_scope
from gigacity.errors import ApplicationError, Conflict
from gigacity.models import City, Province, Role
from gigacity.params import int_param, int_params
from indicators.catalogue import INDICATORS
from indicators.models import Round, RoundStatus, current_among
from submissions.models import (
    EDITABLE_STATES,
    FINAL_STATES,
    NOT_STARTED,
    REPORTED_STATES,
    Status,
    Submission,
)
from submissions.operators import round_tolerance_set
from submissions.views import render_submission_page

from . import dashboards, exports, freshness, lifecycle, progress, quality, services, simulation
from .actions import REVIEW_ACTIONS, bulk_actions_for
from .forms import (
    ExportRequestForm,
    ExtensionForm,
    ReferenceValuesForm,
    RoundForm,
    ThresholdsForm,
    ToleranceForm,
    VersionCompareForm,
    default_extension_date,
    plain,
)
from .models import ExportJob, ExportKind, ExportState, Notification
from .notifications import notification_title, notification_url
from .selectors import QUEUE_SORTS, bureau_queue, filter_queue, ministry_queue, queue_filter_choices, status_counts


def _rounds_and_selected(request) -> tuple[list[Round], Round | None]:
    """The rounds the user may see (the page's list to choose from), and among them the round chosen
    in the page (?round=YYYY), else the current one."""
    rounds = list(Round.objects.visible_to(request.user))
    year = _year(request)
    chosen = next((r for r in rounds if r.year == year), None) if year else None
    return rounds, chosen or current_among(rounds)


@require_GET
@role_required(Role.BUREAU)
def bureau_home(request):
    """The bureau's review queue: every city of the province with its form's state, score and flags."""
    rounds, round_ = _rounds_and_selected(request)
    filters = {key: request.GET.get(key, "") for key in ("q", "status", "severity", "result", "figures")}
    sort = request.GET.get("sort", "city") if request.GET.get("sort") in QUEUE_SORTS else "city"
    all_rows = bureau_queue(user=request.user, round_=round_) if round_ else []
    rows = filter_queue(all_rows, sort=sort, **filters)
    if all_rows:  # the province's cities, read with their province: the bureau's own
        share_scope(request.user, all_rows[0].city)
    return render(
        request,
        "reviews/bureau_home.html",
        {
            "round": round_,
            "rounds": rounds,
            "province": request.user.province,
            "rows": rows,
            "counts": status_counts(all_rows),
            "filters": filters,
            "sort": sort,
            "statuses": [(NOT_STARTED, _("Not started")), *Status.choices],
            "days_left": round_.days_to_deadline() if round_ else None,
        },
    )


def _queue_bulk(request):
    """One action of `reviews.actions` on several forms of a queue at once, with one reason for all;
    each form is checked on its own (scope, role, state), and one refusal does not undo the others."""
    ids = int_params(request.POST.getlist("ids"))
    rows = {row.action.value: row for row in bulk_actions_for(request.user)}
    row = rows.get(request.POST.get("bulk_action", ""))
    reason = request.POST.get("reason", "").strip()
    home = "reviews:bureau_home" if request.user.role == Role.BUREAU else "reviews:ministry_queue"
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        back = home
    if not ids:
        messages.warning(request, _("Select at least one city first."))
        return redirect(back)
    if row is None:
        messages.error(request, _("Choose what to do with the selected cities."))
        return redirect(back)
    if row.transition.reason_required and not reason:
        # Said once for the selection rather than once per form.
        messages.error(request, _("Give the reason for “%(action)s” first.") % {"action": row.action.label})
        return redirect(back)
    outcomes = services.bulk_apply(
        ids, lambda pk: row.perform(submission_id=pk, actor=request.user, body=row.bulk_body(reason))
    )
    names = dict(Submission.objects.visible_to(request.user).filter(pk__in=ids).values_list("pk", "city__name"))
    done = [names.get(o.submission_id, "?") for o in outcomes if o.ok]
    if done:
        messages.success(request, _("Done for %(n)s: %(cities)s.") % {"n": len(done), "cities": "、".join(done)})
    for outcome in outcomes:
        if not outcome.ok:
            messages.error(request, f"{names.get(outcome.submission_id, _('A form'))}：{outcome.message}")
    return redirect(back)


bureau_bulk = require_POST(role_required(Role.BUREAU)(_queue_bulk))
ministry_bulk = require_POST(role_required(Role.MINISTRY)(_queue_bulk))


@require_POST
@role_required(Role.BUREAU)
def bureau_start(request, code: str):
    """Open a city's form on its behalf (the bureau fills in what the city sent by other means)."""
    from submissions.services import submission_get_or_create

    city = get_object_or_404(City.objects.visible_to(request.user), code=code)
    round_ = Round.objects.open()
    if round_ is None:
        messages.error(request, _("No evaluation round is open at the moment."))
        return redirect("reviews:bureau_home")
    submission = submission_get_or_create(city=city, round_=round_, actor=request.user)
    return redirect("submissions:edit", submission.pk)


@require_http_methods(["GET", "POST"])
@role_required(Role.BUREAU)
def extension_new(request, code: str):
    """Let one city of the province submit after the deadline."""
    city = get_object_or_404(City.objects.visible_to(request.user), code=code)
    round_ = Round.objects.open()
    if round_ is None:
        messages.error(request, _("No evaluation round is open at the moment."))
        return redirect("reviews:bureau_home")
    form = ExtensionForm(request.POST or None, initial={"until": default_extension_date(round_)})
    if request.method == "POST" and form.is_valid():
        try:
            extension = services.extension_grant(city=city, round_=round_, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request,
                _("%(city)s may now submit until %(date)s; the city has been notified.")
                % {"city": city.name, "date": extension.until.isoformat()},
            )
            return redirect("reviews:bureau_home")
    return render(
        request,
        "reviews/extension_form.html",
        {
            "city": city,
            "round": round_,
            "form": form,
            "extensions": city.extensions.filter(round=round_).select_related("granted_by"),
        },
        status=400 if form.errors else 200,
    )


@require_POST
@login_required
def submission_act(request, pk: int, action: str):
    """Carry out one workflow action (a row of `reviews.actions`) from the submission's page. When it
    is refused the page comes back with the reason and with everything that was typed (reason,
    comments, choices)."""
    row = REVIEW_ACTIONS.get(action)  # keyed by Action, whose members are their string values
    if row is None:
        raise Http404
    submission = get_object_or_404(Submission.objects.visible_to(request.user), pk=pk)
    try:
        row.perform(
            submission_id=submission.pk,
            actor=request.user,
            body=row.from_page(request.POST),
            expected_version=int_param(request.POST.get("version", "")),
        )
    except ValidationError as exc:
        return render_submission_page(
            request,
            submission.pk,
            status=400,
            action=action,
            action_errors=exc.messages,
            action_field_errors=exc.message_dict if hasattr(exc, "error_dict") else None,
            action_post=request.POST,
        )
    except ApplicationError as exc:
        return render_submission_page(
            request,
            submission.pk,
            status=exc.status_code,
            action=action,
            action_errors=[exc.message],
            action_post=request.POST,
        )
    messages.success(request, row.done)
    return redirect("submissions:detail", submission.pk)


@require_GET
@role_required(Role.MINISTRY)
def ministry_queue_page(request):
    """Recommended submissions, the most flagged first."""
    rounds, round_ = _rounds_and_selected(request)
    filters = {key: request.GET.get(key, "") for key in ("province", "region", "flag", "severity")}
    submissions = ministry_queue(user=request.user, round_=round_, **filters) if round_ else Submission.objects.none()
    page = Paginator(submissions, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "reviews/ministry_queue.html",
        {
            "round": round_,
            "rounds": rounds,
            "page": page,
            "filters": filters,
            "flag_codes": FLAG_LABELS,
            "bulk_actions": bulk_actions_for(request.user),
            **queue_filter_choices(),
            "query": urlencode({k: v for k, v in filters.items() if v}),
        },
    )


FLAG_LABELS = [
    ("threshold_missed", gettext_lazy("Threshold missed")),
    ("borderline", gettext_lazy("Borderline")),
    ("inconsistent_inputs", gettext_lazy("Inconsistent inputs")),
    ("implausible_value", gettext_lazy("Implausible value")),
    ("population_changed", gettext_lazy("Population changed")),
    ("large_jump", gettext_lazy("Large jump")),
    ("outlier", gettext_lazy("Outlier")),
    ("cases_insufficient", gettext_lazy("Fewer than 5 cases")),
    ("cases_single_domain", gettext_lazy("Cases in one domain")),
    ("late_submission", gettext_lazy("Late under an extension")),
    ("missing_value", gettext_lazy("Value missing")),
]


@require_GET
@role_required(Role.MINISTRY)
def rounds_page(request):
    """Every round with its forms, its new Gigabit Cities, the total so far and its annual reports
    (`lifecycle.gigabit_counts`, the dashboards' numbers), and the step to prepare the next round."""
    # Newest first, said explicitly: Meta.ordering does not apply to a query with GROUP BY.
    rounds = list(
        Round.objects.annotate(
            n_submissions=Count("submissions", filter=~Q(submissions__status=Status.DRAFT))
        ).order_by("-year")
    )
    counts = lifecycle.gigabit_counts(user=request.user, years=[r.year for r in rounds])
    for round_ in rounds:
        round_.gigabit = counts[round_.year]["total"]
    return render(
        request,
        "reviews/rounds.html",
        {
            "rounds": rounds,
            "latest": rounds[0] if rounds else None,
            "next_year": rounds[0].year + 1 if rounds else None,
        },
    )


@require_POST
@role_required(Role.MINISTRY)
def round_next(request):
    """Prepare next year's round from the last one; it opens when ministry staff open it."""
    source = Round.objects.order_by("-year").first()
    year = int_param(request.POST.get("year", ""))
    if request.POST.get("year", "").strip() and year is None:
        messages.error(request, _("Enter the year as four digits."))
        return redirect("reviews:rounds")
    try:
        round_ = services.round_create_next(actor=request.user, source=source, year=year)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("reviews:rounds")
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("reviews:rounds")
    messages.success(
        request,
        _(
            "The %(year)s round is being prepared from the %(source)s round: check its dates, thresholds and "
            "reference values, then open it. Each city's form will start from its last form."
        )
        % {"year": round_.year, "source": source.year},
    )
    return redirect("reviews:round", round_.year)


@require_GET
@role_required(Role.MINISTRY, Role.ADMIN)
def watch_page(request):
    """The ministry's watch list: Gigabit Cities below a threshold, not reported by the deadline or not
    confirmed, with the indicators, by how much and for how many rounds in a row."""
    round_ = _round_or_none(request)
    filters = {key: request.GET.get(key, "") for key in ("province", "region", "reason")}
    rows = lifecycle.watch_list(user=request.user, round_=round_, **filters) if round_ else []
    return render(
        request,
        "reviews/watch.html",
        {
            "round": round_,
            "rounds": dashboards.visible_rounds(user=request.user),
            "rows": rows,
            "filters": filters,
            "reasons": lifecycle.watch_reason_labels(),
            "query": urlencode({k: v for k, v in {"round": round_.year if round_ else "", **filters}.items() if v}),
            **queue_filter_choices(),
        },
    )


@require_http_methods(["GET", "POST"])
@role_required(Role.MINISTRY)
def round_page(request, year: int):
    """One round: its dates and flag settings, its status, its thresholds and its tolerance against
    the operators' figures, each with its history."""
    round_ = get_object_or_404(Round, year=year)
    round_form = RoundForm(instance=round_)
    thresholds_form = ThresholdsForm(round_=round_)
    tolerance_form = ToleranceForm(round_=round_)
    compare_form = VersionCompareForm(round_=round_, initial={"base_version": 1, "version": round_.threshold_version})
    whatif = None
    status = 200
    if request.method == "GET" and "compare" in request.GET:
        compare_form = VersionCompareForm(request.GET, round_=round_)
        if compare_form.is_valid():
            base, version = compare_form.cleaned_data["base_version"], compare_form.cleaned_data["version"]
            whatif = simulation.simulate(
                user=request.user,
                round_=round_,
                base=simulation.saved_thresholds(round_, base),
                candidate=simulation.saved_thresholds(round_, version),
                base_label=_("version %(v)s") % {"v": base},
                candidate_label=_("version %(v)s") % {"v": version},
            )
        else:
            status = 400
    if request.method == "POST":
        try:
            if "preview_thresholds" in request.POST:
                # What-if: the typed values judged against the round's forms; nothing is saved.
                thresholds_form = ThresholdsForm(request.POST, round_=round_, preview=True)
                if thresholds_form.is_valid():
                    whatif = simulation.simulate(
                        user=request.user,
                        round_=round_,
                        base=thresholds_form.current,
                        candidate=thresholds_form.candidate(),
                        base_label=_("current (version %(v)s)") % {"v": round_.threshold_version},
                        candidate_label=_("typed values"),
                    )
            elif "save_round" in request.POST:
                round_form = RoundForm(request.POST, instance=Round.objects.get(pk=round_.pk))
                if round_form.is_valid():
                    services.round_update(
                        round_=round_,
                        actor=request.user,
                        **{name: round_form.cleaned_data[name] for name in RoundForm.Meta.fields},
                    )
                    messages.success(request, _("The round's settings were saved."))
                    return redirect("reviews:round", year)
            elif "save_thresholds" in request.POST:
                thresholds_form = ThresholdsForm(request.POST, round_=round_)
                if thresholds_form.is_valid() and not thresholds_form.changed_codes:
                    messages.info(
                        request, _("Nothing changed: every threshold is as it was, and no form is scored again.")
                    )
                    return redirect("reviews:round", year)
                if thresholds_form.is_valid():
                    changed = services.thresholds_update(
                        round_=round_,
                        values=thresholds_form.values(),
                        reason=thresholds_form.cleaned_data["reason"],
                        actor=request.user,
                    )
                    messages.success(
                        request,
                        ngettext(
                            "%(n)s threshold changed; the round's reported forms are being scored again in the "
                            "background.",
                            "%(n)s thresholds changed; the round's reported forms are being scored again in the "
                            "background.",
                            changed,
                        )
                        % {"n": changed},
                    )
                    return redirect("reviews:round", year)
            elif "save_tolerance" in request.POST:
                tolerance_form = ToleranceForm(request.POST, round_=round_)
                if tolerance_form.is_valid() and not tolerance_form.changed:
                    messages.info(
                        request, _("Nothing changed: the tolerance is as it was, and no form is scored again.")
                    )
                    return redirect("reviews:round", year)
                if tolerance_form.is_valid():
                    try:
                        round_tolerance_set(
                            round_=round_,
                            value=tolerance_form.cleaned_data["tolerance"],
                            reason=tolerance_form.cleaned_data["reason"],
                            expected=tolerance_form.cleaned_data["tolerance_was"],
                            actor=request.user,
                        )
                    except Conflict as exc:
                        # Changed meanwhile (or the round was published): what was typed stays on the page.
                        tolerance_form.add_error("tolerance", exc.message)
                        status = exc.status_code
                    else:
                        messages.success(
                            request,
                            _(
                                "The tolerance is now %(value)s %%; the round's reported forms are being compared "
                                "with the operators' figures again in the background."
                            )
                            % {"value": plain(tolerance_form.cleaned_data["tolerance"])},
                        )
                        return redirect("reviews:round", year)
            elif request.POST.get("status") in RoundStatus.values:
                services.round_set_status(round_=round_, status=request.POST["status"], actor=request.user)
                messages.success(
                    request, _("The round is now “%(status)s”.") % {"status": RoundStatus(request.POST["status"]).label}
                )
                return redirect("reviews:round", year)
        except ValidationError as exc:
            target = (
                thresholds_form
                if "save_thresholds" in request.POST
                else tolerance_form
                if "save_tolerance" in request.POST
                else round_form
            )
            for field, errors in exc.message_dict.items():
                target.add_error(field if field in target.fields else None, errors)
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return redirect("reviews:round", year)
        if status == 200:
            status = 200 if whatif is not None else 400
    counts = round_.submissions.aggregate(
        reported=Count("pk", filter=Q(status__in=REPORTED_STATES)),
        undecided=Count("pk", filter=Q(status__in=set(REPORTED_STATES) - set(FINAL_STATES))),
        with_cities=Count("pk", filter=Q(status__in=EDITABLE_STATES)),
    )
    return render(
        request,
        "reviews/round.html",
        {
            "round": round_,
            "counts": counts,
            "round_form": round_form,
            "thresholds_form": thresholds_form,
            "compare_form": compare_form,
            "whatif": whatif,
            "history": round_.threshold_changes.select_related("indicator", "changed_by").order_by(
                "-changed_at", "-pk"
            ),
            "tolerance_form": tolerance_form,
            "tolerance_history": round_.tolerance_changes.select_related("changed_by").order_by("-changed_at", "-pk"),
            "next_statuses": [
                (s, RoundStatus(s).label) for s in services.ROUND_STATUS_FLOW[RoundStatus(round_.status)]
            ],
        },
        status=status,
    )


def _year(request) -> int | None:
    raw = request.GET.get("round", "")
    year = int_param(raw)
    return year if year is not None and 1900 <= year <= 9999 else None


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
        # A province's burn-up on the national page, asked for when the reader picks it.
        "provinceProgressUrl": reverse("api:progress-province", args=["000000"]),
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
            "deadline": _("Deadline"),
            "today": _("Today"),
            "loading": _("Loading the province’s figures…"),
            "progressFailed": _("The province's figures could not be loaded. Choose it again to retry."),
            **{f"stage_{key}": label for key, label in progress.stage_labels().items()},
        },
    }


def _progress_context(series: dict | None) -> dict:
    """The burn-up card: its figures for the chart (under "progress" in the page's chart data) and the
    table of the latest figures: the nation and its regions on the national page (a province is one
    choice away in the chart's list, and every province is in the export), the province on its own."""
    if series is None:
        return {"p": None, "progress_rows": [], "stage_labels": []}
    rows = []
    if series["scope"] == "national":
        rows.append(
            {"name": _("Nationwide"), "units": series["total"]["units"], "block": series["total"], "total": True}
        )
        rows += [{"name": r["label"], "units": r["units"], "block": r} for r in series["regions"]]
    else:
        rows += [{"name": r["name"], "units": r["units"], "block": r} for r in series["provinces"]]
    for row in rows:
        row["latest"] = progress.latest(row["block"])
    return {"p": series, "progress_rows": rows, "stage_labels": [series["stage_labels"][s] for s in progress.STAGES]}


def _cached_body(template: str, context: dict, request) -> str:
    """A dashboard's content, kept in the cache: nothing of the person who reads it goes in, so it is
    rendered without the context processors (the navigation, the unread count, the messages, the
    nonce), which the page around it runs anyway; the reader's role is in the cache key."""
    return render_to_string(template, {**context, "request": request, "user": request.user})


def _chart_data(data: dict | None, series: dict | None, *, leave_out: tuple[str, ...] = ()) -> dict | None:
    """The figures of a dashboard for its charts' script, with its burn-up (`series`), but those it
    should `leave_out` (written by the `chart_json` filter)."""
    if data is None:
        return None
    chart_data = {key: value for key, value in data.items() if key not in leave_out}
    return chart_data if series is None else {**chart_data, "progress": series}


@require_GET
@role_required(Role.MINISTRY, Role.ADMIN)
def ministry_home(request):
    """The national dashboard: the ministry's home page. Its content is rendered once per version of
    the data, scope, language, day and query (`reviews.freshness`); the page around it (the reader's
    name, the CSRF token, the notifications) is rendered for every request."""
    round_ = _round_or_none(request)

    def body() -> str:
        current = freshness.as_of_version(round_) if round_ else None
        data = dashboards.national_dashboard_shared(user=request.user, round_=current) if current else None
        series = progress.progress_series(user=request.user, round_=current, each_province=False) if current else None
        context = {
            "round": current,
            "d": data,
            **_progress_context(series),
            "chart_data": _chart_data(data, series),
            "chart_config": _chart_config(),
            "status_strip": _status_strip(data["status_counts"]) if data else [],
            "watch_reasons": lifecycle.watch_reason_labels(),
        }
        return _cached_body("reviews/includes/national_dashboard_body.html", context, request)

    parts = (*freshness.request_parts(request), round_.pk if round_ else None)
    content = (
        freshness.cached("national-page", parts, body, reads=freshness.DASHBOARDS, round_=round_) if round_ else body()
    )
    # The content is the output of our own template (escaped there), kept as text by the cache.
    return render(request, "reviews/national_dashboard.html", {"round": round_, "body": mark_safe(content)})


@require_GET
@role_required(Role.BUREAU)
def my_province_dashboard(request):
    return redirect("reviews:province_dashboard", code=request.user.province_id)


@require_GET
@role_required(Role.BUREAU, Role.MINISTRY, Role.ADMIN)
def province_dashboard(request, code: str):
    """One province's dashboard: its own bureau, or the ministry drilling down from the map. Below its
    heading (the round picker, the exports, the reader's CSRF token) it is rendered once per version
    of the data, scope, language, day, query and province (`reviews.freshness`), as the national
    dashboard is: a bureau opens it over and over on the busiest days."""
    province = dashboards.dashboard_province(user=request.user, code=code)
    round_ = _round_or_none(request)

    def body() -> str:
        current = freshness.as_of_version(round_) if round_ else None
        place = freshness.as_of_version(province)
        data = dashboards.province_dashboard(user=request.user, province=place, round_=current) if current else None
        series = progress.progress_series(user=request.user, round_=current, province=place) if current else None
        context = {
            "province": place,
            "round": current,
            "d": data,
            **_progress_context(series),
            # The charts draw nothing of the cities (they are in the page's table), and when each form
            # was last saved, which a draft save changes, is no part of what the cache follows.
            "chart_data": _chart_data(data, series, leave_out=("cities",)),
            "chart_config": _chart_config(),
            "status_strip": _status_strip(data["status_counts"]) if data else [],
            "indicator_specs": INDICATORS,
            "watch_reasons": lifecycle.watch_reason_labels(),
        }
        return _cached_body("reviews/includes/province_dashboard_body.html", context, request)

    # The page reads the country's forms (the national means beside the province's) as the national
    # dashboard does, so the same version covers it. Its operators' panel links to their figures for a
    # bureau only: the role, beside the scope (a superuser is national whatever its role).
    parts = (*freshness.request_parts(request), request.user.role, round_.pk if round_ else None, province.code)
    content = (
        freshness.cached("province-page", parts, body, reads=freshness.DASHBOARDS, round_=round_) if round_ else body()
    )
    heading = {"round": dashboards.round_heading(user=request.user, round_=round_)} if round_ else None
    # The content is the output of our own template (escaped there), kept as text by the cache.
    return render(
        request,
        "reviews/province_dashboard.html",
        {"province": province, "round": round_, "d": heading, "body": mark_safe(content)},
    )


def _quality_page(request, data: dict | None, round_: Round | None, province=None):
    columns = [
        {"key": name, "label": label, "decimals": 1 if name.endswith(("share", "days")) else 2}
        for name, label in (data["labels"].items() if data else [])
        if name != "forms"
    ]
    return render(
        request,
        "reviews/data_quality.html",
        {
            "round": round_,
            "rounds": dashboards.visible_rounds(user=request.user),
            "province": province,
            "q": data,
            "columns": columns,
            "years": data["years"][:-1] if data else [],
        },
    )


@require_GET
@role_required(Role.BUREAU, Role.MINISTRY, Role.ADMIN)
def data_quality(request):
    """Data quality by province, ranked (the ministry); a bureau is taken to its own province's page."""
    if request.user.role == Role.BUREAU:
        return redirect("reviews:data_quality_province", code=request.user.province_id)
    round_ = _round_or_none(request)
    data = quality.data_quality(user=request.user, round_=round_) if round_ else None
    return _quality_page(request, data, round_)


@require_GET
@role_required(Role.BUREAU, Role.MINISTRY, Role.ADMIN)
def data_quality_province(request, code: str):
    """One province's data quality against the national median: its own bureau, or the ministry."""
    province = dashboards.dashboard_province(user=request.user, code=code)
    round_ = _round_or_none(request)
    data = quality.data_quality(user=request.user, round_=round_, province=province) if round_ else None
    return _quality_page(request, data, round_, province)


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
    NOT_STARTED,
)


def _status_strip(counts: dict[str, int]) -> list[dict]:
    units = counts["units"] or 1
    labels = {NOT_STARTED: _("Not started"), **{s.value: s.label for s in Status}}
    # The decided forms of both kinds: an evaluation approved or a Gigabit City's annual report
    # confirmed are both "approved" in the workflow (the annual reports have their own counts).
    labels[Status.APPROVED] = _("Approved or confirmed")
    labels[Status.REJECTED] = _("Rejected or not confirmed")
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
        try:
            changed = services.reference_values_update(round_=round_, values=form.values(), actor=request.user)
        except ValidationError as exc:
            for code, errors in exc.message_dict.items():
                form.add_error(f"value_{code}" if f"value_{code}" in form.fields else None, errors)
        else:
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
    return render(
        request,
        "reviews/reference_values.html",
        {
            "round": round_,
            "rounds": rounds,
            "form": form,
            # What the dashboards show until this round has a value of its own: an earlier round's.
            "inherited": {
                code: {"value": value, "year": year}
                for code, (value, _source, year) in dashboards.round_references(round_).items()
                if year != round_.year
            },
        },
        status=400 if request.method == "POST" else 200,  # refused: shown again with the reasons
    )


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
        try:
            exports.export_request(
                user=request.user,
                kind=form.cleaned_data["kind"],
                round_=round_,
                province=province,
                cumulative=form.cleaned_data["cumulative"],
                excellent_only=not form.cleaned_data["all_cases"],
            )
        except ApplicationError as exc:  # nothing to show, or the circular asked for by a bureau
            messages.error(request, exc.message)
            return redirect("reviews:exports")
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
            "kinds": [
                (kind, label)
                for kind, label in ExportKind.choices
                if kind != ExportKind.CIRCULAR or request.user.has_national_scope
            ],
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
    # Only about cities the person still looks after (an official moved to another city keeps none of
    # the old city's reasons and comments).
    items = Notification.objects.filter(
        recipient=request.user, city__in=City.objects.visible_to(request.user)
    ).select_related("city", "round", "actor", "submission")
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
