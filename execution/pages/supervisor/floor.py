"""The live floor: who is on which job since when, who is clocked in without a job, the late
jobs and orders (execution.selectors.floor, the one definition the dashboard shares). The
page polls its tables (floor_fragment). Needs execution.view_job."""

from datetime import timedelta

from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from ...selectors import floor as floor_selectors
from .forms import SiteFilter
from .lists import paginate
from .plan import VIEW_JOB

FLOOR_REFRESH_SECONDS = 10


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
    activities = paginate(request.GET, floor_selectors.open_activities(now=now, site=site))
    for activity in activities:
        activity.elapsed = hours_minutes(now - activity.started_at)
    late_jobs = paginate(request.GET, floor_selectors.late_jobs(now=now, site=site), "late_page")
    for job in late_jobs:
        job.over = hours_minutes(now - job.due_at)
    late_orders = paginate(
        request.GET, floor_selectors.late_orders(now=now, site=site), "orders_page"
    )
    for order in late_orders:
        order.over = hours_minutes(now - order.due_at)
    idle = paginate(
        request.GET, floor_selectors.workers_without_job(now=now, site=site), "idle_page"
    )
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
@permission_required(VIEW_JOB, raise_exception=True)
def floor(request):
    return render(request, "supervisor/floor.html", _floor_context(request))


@login_required
@require_GET
@permission_required(VIEW_JOB, raise_exception=True)
def floor_fragment(request):
    """The live tables alone, polled by the floor page."""
    return render(request, "supervisor/_floor_live.html", _floor_context(request))
