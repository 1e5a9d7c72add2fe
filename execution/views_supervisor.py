"""Supervisor pages in the browser: the operational plan per resource, the live floor, and
the attendance days to approve.

Server-rendered; htmx only where a live part helps (the floor polls, plan actions swap the
table in place), and every action also works as a plain POST + redirect. Permissions are
checked here on the server; every change goes through the services, and their refusals
(ApplicationError) are shown as messages.
"""

from datetime import timedelta
from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from mesproject.actors import Actor
from mesproject.errors import ApplicationError
from mesproject.forms import selected_ids

from . import selectors_floor as selectors
from .admin_attendance import MINUTE_FIELDS, csv_response
from .choices import AttendanceStatus, JobStatus
from .forms_supervisor import (
    AttendanceCalculateForm,
    AttendanceFilter,
    JobMoveForm,
    PlanFilter,
    SiteFilter,
)
from .models import AttendanceDay, Job
from .services import attendance as attendance_services
from .services.jobs import PLAN_DOWN, PLAN_UP, job_plan_change, job_plan_move

PAGE_SIZE = 50
VIEW_JOB, CHANGE_JOB = "execution.view_job", "execution.change_job"
VIEW_DAY, CHANGE_DAY = "execution.view_attendanceday", "execution.change_attendanceday"
FLOOR_REFRESH_SECONDS = 10


def _require(request, permission: str) -> None:
    if not request.user.has_perm(permission):
        raise PermissionDenied


def _next_url(request, default: str) -> str:
    """Where the user came from (the filtered, paged list), when it is one of ours."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def _paginate(params: QueryDict, rows, param: str = "page"):
    """A page of rows, with the query strings of its previous and next pages (the other
    parameters kept: a page may list several paginated tables)."""
    page = Paginator(rows, PAGE_SIZE).get_page(params.get(param))
    for name, has, number in (
        ("previous_query", page.has_previous, page.previous_page_number),
        ("next_query", page.has_next, page.next_page_number),
    ):
        query = ""
        if has():
            copy = params.copy()
            copy[param] = number()
            query = copy.urlencode()
        setattr(page, name, query)
    return page


def _ids(request, name: str) -> list[int]:
    """The row whose button was pressed ("only"), else the ticked rows."""
    only = request.POST.get("only", "")
    values = [only] if only else request.POST.getlist(name)
    return selected_ids(values)


# --- Operational plan ---------------------------------------------------------------------------


def _plan_context(request, params: QueryDict) -> dict:
    filters = PlanFilter(params)
    filters.is_valid()
    data = getattr(filters, "cleaned_data", {})
    site, resource = data.get("site"), data.get("resource")
    context = {
        "filters": filters,
        "resource": resource,
        "can_act": request.user.has_perm(CHANGE_JOB),
        "COMPLETED": JobStatus.COMPLETED,
        "STARTED": JobStatus.STARTED,
        "UP": PLAN_UP,
        "DOWN": PLAN_DOWN,
    }
    if resource is None:
        context["resources"] = _paginate(params, selectors.plan_resources(site=site))
        return context
    jobs = selectors.plan_jobs(
        resource=resource, include_completed=bool(data.get("include_completed"))
    )
    context["page"] = _paginate(params, jobs)
    # Where a job may move: the other active resources of its site (one list for the page).
    context["move_targets"] = list(
        JobMoveForm(job=Job(resource=resource)).fields["resource"].queryset
    )
    return context


@login_required
@require_GET
def plan(request):
    _require(request, VIEW_JOB)
    return render(request, "supervisor/plan.html", _plan_context(request, request.GET))


def _plan_answer(request):
    """htmx: the plan table again (with the messages) for the list the user is on; else
    back to that list."""
    target = _next_url(request, reverse("supervisor:plan"))
    if request.htmx:
        params = QueryDict(urlsplit(target).query)
        context = _plan_context(request, params) | {"fragment": True, "next": target}
        return render(request, "supervisor/_plan_jobs.html", context)
    return redirect(target)


def _plan_act(request, pk: int, change) -> None:
    _require(request, CHANGE_JOB)
    job = get_object_or_404(Job.objects.select_related("order", "resource"), pk=pk)
    try:
        text = change(job, Actor(user=request.user))
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        if text:
            messages.success(request, text)


@login_required
@require_POST
def job_move(request, pk: int):
    """One place up or down in the resource's plan."""
    direction = request.POST.get("direction", "")

    def move(job, actor):
        job_plan_move(job=job, direction=direction, actor=actor)
        return f"Job {job} moved {'up' if direction == PLAN_UP else 'down'}."

    _plan_act(request, pk, move)
    return _plan_answer(request)


@login_required
@require_POST
def job_hold(request, pk: int):
    """Put on hold (hold=1) or release the hold (hold=0)."""
    hold = request.POST.get("hold") == "1"

    def change(job, actor):
        job_plan_change(job=job, on_hold=hold, actor=actor)
        return f"Job {job} {'put on hold' if hold else 'released from hold'}."

    _plan_act(request, pk, change)
    return _plan_answer(request)


@login_required
@require_POST
def job_move_resource(request, pk: int):
    """To the end of another resource's plan (same site)."""

    def change(job, actor):
        form = JobMoveForm(request.POST, job=job)
        if not form.is_valid():
            messages.error(request, " ".join(form.errors["resource"]))
            return ""
        target = form.cleaned_data["resource"]
        job_plan_change(job=job, resource=target, actor=actor)
        return f"Job {job} moved to {target.code}: it is last in that resource's plan."

    _plan_act(request, pk, change)
    return _plan_answer(request)


# --- Live floor ---------------------------------------------------------------------------------


def hours_minutes(delta: timedelta) -> str:
    """A duration as h:mm, with whole days in front ("2 d 3:05"): read at a glance."""
    minutes = max(int(delta.total_seconds() // 60), 0)
    days, minutes = divmod(minutes, 24 * 60)
    text = f"{minutes // 60}:{minutes % 60:02d}"
    return f"{days} d {text}" if days else text


def _floor_context(request) -> dict:
    filters = SiteFilter(request.GET)
    site = filters.site_or_none()
    now = timezone.now()
    activities = _paginate(request.GET, selectors.open_activities(now=now, site=site))
    for activity in activities:
        activity.elapsed = hours_minutes(now - activity.started_at)
    late_jobs = _paginate(request.GET, selectors.late_jobs(now=now, site=site), "late_page")
    for job in late_jobs:
        job.over = hours_minutes(now - job.due_at)
    late_orders = _paginate(request.GET, selectors.late_orders(now=now, site=site), "orders_page")
    for order in late_orders:
        order.over = hours_minutes(now - order.due_at)
    idle = _paginate(request.GET, selectors.workers_without_job(now=now, site=site), "idle_page")
    return {
        "filters": filters,
        "now": now,
        "activities": activities,
        "idle": idle,
        "late_jobs": late_jobs,
        "late_orders": late_orders,
        "refresh_seconds": FLOOR_REFRESH_SECONDS,
        "query": request.GET.urlencode(),
    }


@login_required
@require_GET
def floor(request):
    _require(request, VIEW_JOB)
    return render(request, "supervisor/floor.html", _floor_context(request))


@login_required
@require_GET
def floor_fragment(request):
    """The live tables alone, polled by the floor page."""
    _require(request, VIEW_JOB)
    return render(request, "supervisor/_floor_live.html", _floor_context(request))


# --- Attendance ---------------------------------------------------------------------------------


@login_required
@require_GET
def attendance(request):
    _require(request, VIEW_DAY)
    filters = AttendanceFilter(request.GET)
    days = filters.apply(selectors.attendance_days())
    page = _paginate(request.GET, days)
    counts = AttendanceDay.objects.aggregate(
        calculated=Count("id", filter=Q(status=AttendanceStatus.CALCULATED)),
        approved=Count("id", filter=Q(status=AttendanceStatus.APPROVED)),
    )
    yesterday = timezone.localdate() - timedelta(days=1)
    return render(
        request,
        "supervisor/attendance.html",
        {
            "filters": filters,
            "page": page,
            "counts": counts,
            "calculate_form": AttendanceCalculateForm(initial={"date": yesterday}),
            "can_act": request.user.has_perm(CHANGE_DAY),
            "minute_fields": MINUTE_FIELDS,
            "S": AttendanceStatus,
        },
    )


def _attendance_back(request):
    return redirect(_next_url(request, reverse("supervisor:attendance")))


@login_required
@require_POST
def attendance_calculate(request):
    _require(request, CHANGE_DAY)
    form = AttendanceCalculateForm(request.POST)
    if not form.is_valid():
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            messages.error(request, f"{label}: {' '.join(errors)}" if label else " ".join(errors))
        return _attendance_back(request)
    date, site = form.cleaned_data["date"], form.cleaned_data["site"]
    days = attendance_services.attendance_days_calculate(
        date=date, site=site, actor=Actor(user=request.user)
    )
    where = f" at {site.code}" if site else ""
    messages.success(
        request,
        f"{len(days)} attendance day(s) of {date:%Y-%m-%d}{where} calculated "
        "(approved and transferred days are left as they are).",
    )
    return _attendance_back(request)


def _each_day(request, service, verb: str):
    _require(request, CHANGE_DAY)
    ids = _ids(request, "day")
    if not ids:
        messages.warning(request, "Select at least one attendance day.")
        return _attendance_back(request)
    actor = Actor(user=request.user)
    done = []
    days = AttendanceDay.objects.filter(pk__in=ids).select_related("worker")
    for day in days.order_by("date", "worker__badge_id"):
        try:
            service(day=day, actor=actor)
        except ApplicationError as error:
            messages.error(request, error.message)
        else:
            done.append(f"{day.worker.badge_id} {day.date:%Y-%m-%d}")
    if done:
        messages.success(request, f"{verb} {len(done)} day(s): {', '.join(done)}.")
    return _attendance_back(request)


@login_required
@require_POST
def attendance_approve(request):
    return _each_day(request, attendance_services.attendance_day_approve, "Approved")


@login_required
@require_POST
def attendance_unapprove(request):
    return _each_day(request, attendance_services.attendance_day_unapprove, "Un-approved")


@login_required
@require_POST
def attendance_transfer(request):
    """Approved days to payroll, all or nothing; the answer is the pay basis CSV."""
    _require(request, CHANGE_DAY)
    days = list(
        AttendanceDay.objects.filter(pk__in=_ids(request, "day")).select_related(
            "worker__pay_agreement"
        )
    )
    try:
        text = attendance_services.attendance_days_transfer(
            days=days, actor=Actor(user=request.user)
        )
    except ApplicationError as error:
        messages.error(request, error.message)
        return _attendance_back(request)
    messages.success(request, f"{len(days)} day(s) transferred to payroll (pay basis downloaded).")
    return csv_response(days, text)


@login_required
@require_POST
def attendance_export(request) -> HttpResponse:
    """The pay basis of the selected days, without transferring them (a check first)."""
    _require(request, VIEW_DAY)
    days = list(
        AttendanceDay.objects.filter(pk__in=_ids(request, "day")).select_related(
            "worker__pay_agreement"
        )
    )
    if not days:
        messages.warning(request, "Select at least one attendance day.")
        return _attendance_back(request)
    return csv_response(days, attendance_services.pay_basis_csv(days=days))
