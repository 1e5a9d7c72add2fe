"""Reads of the live floor: who is on which job, who is clocked in without one, late jobs
and late orders. The supervisor's floor page shows them all; the dashboard counts the late
orders with the same definition (late_orders).

Every function returns a queryset whose rows carry what the page shows (select_related or
annotations), so a page runs the same number of queries whatever the row count.
"""

from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import (
    BooleanField,
    Case,
    DateTimeField,
    DecimalField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from inventory.fields import QUANTITY_DIGITS, QUANTITY_PLACES
from inventory.models import Site
from orders.choices import OrderStatus
from orders.models import ProductionOrder

from ..choices import JobStatus, RegistrationKind, RegistrationStatus
from ..models import Job, JobActivity, RawRegistration, Worker

K = RegistrationKind


def _due_at(job: str = ""):
    """When a running job should be done: its first start plus its planned minutes."""
    planned = ExpressionWrapper(
        F(f"{job}planned_minutes") * Value(timedelta(minutes=1)), output_field=DurationField()
    )
    return ExpressionWrapper(F(f"{job}started_at") + planned, output_field=DateTimeField())


def _late_job(now: datetime, job: str = "", due_at: str = "due_at") -> Q:
    """The one definition of a late job: running (Started) and past its due time."""
    return Q(
        **{
            f"{job}status": JobStatus.STARTED,
            f"{job}started_at__isnull": False,
            f"{due_at}__lt": now,
        }
    )


def open_activities(*, now: datetime, site: Site | None = None) -> QuerySet[JobActivity]:
    """Who is on which job since when: the activities not ended yet, oldest first, with
    job_late (the job is late, as late_jobs says)."""
    activities = (
        JobActivity.objects.filter(ended_at__isnull=True)
        .select_related("worker", "job__order__item", "job__resource")
        .annotate(job_due_at=_due_at("job__"))
        .annotate(
            job_late=ExpressionWrapper(
                _late_job(now, "job__", "job_due_at"), output_field=BooleanField()
            )
        )
    )
    if site is not None:
        activities = activities.filter(job__resource__site=site)
    return activities.order_by("started_at", "id")


def late_jobs(*, now: datetime, site: Site | None = None) -> QuerySet[Job]:
    """Running jobs (status Started) whose first start plus planned minutes is past."""
    jobs = (
        Job.objects.annotate(due_at=_due_at())
        .filter(_late_job(now))
        .select_related("order__item", "resource")
    )
    if site is not None:
        jobs = jobs.filter(resource__site=site)
    return jobs.order_by("due_at", "id")


QUANTITY = DecimalField(max_digits=QUANTITY_DIGITS, decimal_places=QUANTITY_PLACES)
# Orders not started yet: late once their scheduled start passed.
NOT_STARTED_STATUSES = (OrderStatus.CREATED, OrderStatus.RELEASED)


def late_orders(*, now: datetime, site: Site | None = None) -> QuerySet[ProductionOrder]:
    """The one definition of a late order (the floor and the dashboard both show it): one
    that should have started (Created / Released past its scheduled start) or finished (In
    progress past its planned end: scheduled start + the planned minutes of its jobs).

    Annotated planned_minutes and due_at (the start or end that passed), the most late
    first; the planned end is computed in the database.
    """
    minutes = Coalesce(Sum("jobs__planned_minutes"), Value(Decimal(0)), output_field=QUANTITY)
    planned_end = ExpressionWrapper(
        F("scheduled_start")
        + ExpressionWrapper(minutes * Value(timedelta(minutes=1)), output_field=DurationField()),
        output_field=DateTimeField(),
    )
    orders = ProductionOrder.objects.filter(
        scheduled_start__lt=now, status__in=[*NOT_STARTED_STATUSES, OrderStatus.IN_PROGRESS]
    )
    if site is not None:
        orders = orders.filter(site=site)
    return (
        orders.annotate(planned_minutes=minutes)
        .annotate(
            due_at=Case(
                When(status=OrderStatus.IN_PROGRESS, then=planned_end),
                default=F("scheduled_start"),
                output_field=DateTimeField(),
            )
        )
        .filter(Q(status__in=NOT_STARTED_STATUSES) | Q(due_at__lt=now))
        .select_related("item")
        .order_by("due_at", "number")
    )


def _last(kinds, field: str = "kind", *, now: datetime):
    """The worker's last registration of these kinds up to now (canceled ones aside), as the
    registration service reads a worker's state (worker_timeline.worker_clocked_in...)."""
    return Subquery(
        RawRegistration.objects.filter(
            worker_id=OuterRef("pk"), kind__in=kinds, occurred_at__lte=now
        )
        .exclude(status=RegistrationStatus.CANCELED)
        .order_by("-occurred_at", "-id")
        .values(field)[:1]
    )


def workers_without_job(*, now: datetime, site: Site | None = None) -> QuerySet[Worker]:
    """Workers clocked in with no job open, with what they do: a break, an indirect activity
    (annotated break_since, indirect_code, indirect_since) or nothing registered.

    Clocked in: the last clock-in / clock-out is a clock-in. On a break / on an indirect
    activity: the last of its start, stop (or a clock-out) is a start.
    """
    breaks = (K.BREAK_START, K.BREAK_STOP, K.CLOCK_OUT)
    indirect = (K.INDIRECT_START, K.INDIRECT_STOP, K.CLOCK_OUT)
    workers = Worker.objects.filter(is_active=True)
    if site is not None:
        workers = workers.filter(site=site)
    on_job = JobActivity.objects.filter(worker_id=OuterRef("pk"), ended_at__isnull=True)
    workers = (
        workers.annotate(
            clock_kind=_last((K.CLOCK_IN, K.CLOCK_OUT), now=now),
            on_job=Exists(on_job),
        )
        .filter(clock_kind=K.CLOCK_IN, on_job=False)
        .annotate(
            clocked_in_at=_last((K.CLOCK_IN,), "occurred_at", now=now),
            break_kind=_last(breaks, now=now),
            break_at=_last(breaks, "occurred_at", now=now),
            indirect_kind=_last(indirect, now=now),
            indirect_at=_last(indirect, "occurred_at", now=now),
            indirect_code=_last(indirect, "indirect_activity__code", now=now),
            indirect_name=_last(indirect, "indirect_activity__description", now=now),
        )
        .annotate(
            # Idle people first (who needs a look), then breaks, then indirect work.
            state_rank=Case(
                When(break_kind=K.BREAK_START, then=Value(1)),
                When(indirect_kind=K.INDIRECT_START, then=Value(2)),
                default=Value(0),
                output_field=IntegerField(),
            )
        )
        .select_related("site")
    )
    return workers.order_by("state_rank", "clocked_in_at", "id")
