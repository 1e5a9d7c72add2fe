"""Reads only the supervisor's pages use: the operational plan and the attendance days (the
live floor's are execution.selectors.floor, shared with the dashboard).

Every function returns a queryset whose rows carry what the page shows (select_related or
annotations), so a page runs the same number of queries whatever the row count.
"""

from django.db.models import Count, Q, QuerySet

from inventory.models import Site
from orders.models import Resource

from ...choices import JobStatus
from ...models import AttendanceDay, Job


def plan_resources(*, site: Site | None = None) -> QuerySet[Resource]:
    """Active resources with how many jobs wait, run and are held on each."""
    open_jobs = ~Q(jobs__status=JobStatus.COMPLETED)
    resources = Resource.objects.filter(is_active=True).select_related("site")
    if site is not None:
        resources = resources.filter(site=site)
    return resources.annotate(
        jobs_open=Count("jobs", filter=open_jobs),
        jobs_running=Count("jobs", filter=Q(jobs__status=JobStatus.STARTED)),
        jobs_on_hold=Count("jobs", filter=open_jobs & Q(jobs__on_hold=True)),
    ).order_by("site__code", "code")


def plan_jobs(*, resource: Resource, include_completed: bool = False) -> QuerySet[Job]:
    """A resource's jobs in plan order, with their order and item."""
    jobs = Job.objects.filter(resource=resource).select_related("order__item", "resource")
    if not include_completed:
        jobs = jobs.exclude(status=JobStatus.COMPLETED)
    return jobs.order_by("sequence", "id")


def attendance_days() -> QuerySet[AttendanceDay]:
    """Attendance days, newest date first, with the worker, site and pay agreement."""
    return AttendanceDay.objects.select_related("worker__site", "worker__pay_agreement").order_by(
        "-date", "worker__badge_id", "id"
    )
