"""Jobs of released orders: created from the route on release, removed on unrelease."""

from decimal import Decimal

from django.db import transaction
from django.db.models import Max

from mesproject.actors import SYSTEM, Actor
from mesproject.errors import NotAllowed
from mesproject.locks import lock_row, lock_rows
from orders.choices import OrderStatus
from orders.models import ProductionOrder, Resource

from ..choices import JobKind, JobStatus
from ..models import Job, PickingListLine, RawRegistration


def lock_job(job_id: int) -> Job:
    """The job row, locked until the end of the transaction (mesproject.locks)."""
    return lock_row(Job, job_id)


def jobs_waiting_at(*, location_id: int, item_id: int):
    """The open process jobs that take an item arriving at an input location (Available at
    location): on a resource whose input location it is, not held, of a released or running
    order with a line of that item."""
    return Job.objects.filter(
        resource__input_location_id=location_id,
        kind=JobKind.PROCESS,
        on_hold=False,
        order__status__in=(OrderStatus.RELEASED, OrderStatus.IN_PROGRESS),
        order__materials__component_id=item_id,
    ).exclude(status=JobStatus.COMPLETED)


def lock_orders(order_ids) -> None:
    """Lock several orders in one query, by id, until the end of the transaction (FOR NO KEY
    UPDATE, as orders.services.lock_order; a no-op on SQLite)."""
    lock_rows(ProductionOrder, order_ids)


def lock_orders_waiting_at(*, location_id: int, item_id: int) -> None:
    """Before stock of an item arrives at a location: lock the orders that will consume it
    there (inventory.signals.stock_posted), before the posting locks on-hand. The product's
    lock order (docs/execution.md, "An order's life") takes orders before on-hand; taking
    them in the posting's receiver, after on-hand, deadlocked with the processor."""
    waiting = jobs_waiting_at(location_id=location_id, item_id=item_id)
    lock_orders(waiting.values_list("order_id", flat=True))


def _next_sequence(resource_id: int) -> int:
    last = Job.objects.filter(resource_id=resource_id).aggregate(last=Max("sequence"))["last"]
    return (last or 0) + 10


@transaction.atomic
def order_create_jobs(*, order: ProductionOrder, actor: Actor = SYSTEM) -> list[Job]:
    """Release effect: one setup job (when the operation has setup time) and one process job
    per route operation, each at the end of its resource's operational plan. Idempotent."""
    if order.route_id is None or order.jobs.exists():
        return list(order.jobs.all())
    jobs = []
    sequences: dict[int, int] = {}
    for operation in order.route.operations.select_related("resource").order_by("operation_number"):
        resource_id = operation.resource_id
        if resource_id not in sequences:
            sequences[resource_id] = _next_sequence(resource_id)
        run_minutes = operation.run_time_minutes_per_unit * order.quantity
        planned = [(JobKind.PROCESS, run_minutes)]
        if operation.setup_time_minutes > 0:
            planned.insert(0, (JobKind.SETUP, operation.setup_time_minutes))
        for kind, minutes in planned:
            jobs.append(
                Job(
                    order=order,
                    operation_number=operation.operation_number,
                    operation_name=operation.name,
                    kind=kind,
                    resource_id=resource_id,
                    sequence=sequences[resource_id],
                    planned_quantity=order.quantity if kind == JobKind.PROCESS else Decimal(0),
                    planned_minutes=Decimal(minutes).quantize(Decimal("0.01")),
                )
            )
            sequences[resource_id] += 10
    return Job.objects.bulk_create(jobs)


def order_unrelease_blockers(*, order: ProductionOrder) -> list[str]:
    """Unrelease guard: nothing may have been registered for the order (canceled ones aside
    do not count either: they are kept as a record and still point at the jobs)."""
    count = RawRegistration.objects.filter(order_id=order.pk).count()
    if count:
        return [f"{count} shop-floor registration(s) exist for the order"]
    # Material consumed on release (staged at an input location) stays consumed.
    if PickingListLine.objects.filter(order_id=order.pk).exists():
        return ["material has been consumed for the order"]
    return []


@transaction.atomic
def order_remove_jobs(*, order: ProductionOrder) -> int:
    """Unrelease effect: the jobs go; the guard made sure nothing refers to them."""
    deleted, _detail = Job.objects.filter(order_id=order.pk).delete()
    return deleted


@transaction.atomic
def job_plan_change(
    *,
    job: Job,
    sequence: int | None = None,
    resource: Resource | None = None,
    on_hold: bool | None = None,
    actor: Actor = SYSTEM,
) -> Job:
    """Adjust the operational plan: a job's position, its resource, or hold."""
    job = lock_job(job.pk)
    if job.status == JobStatus.COMPLETED:
        raise NotAllowed(f"Job {job} is completed.", code="job_completed")
    if resource is not None and resource.pk != job.resource_id:
        if job.status != JobStatus.NOT_STARTED:
            raise NotAllowed(
                f"Job {job} has started: it cannot move to another resource.",
                code="job_started",
            )
        job.resource = resource
        if sequence is None:
            sequence = _next_sequence(resource.pk)
    if sequence is not None:
        job.sequence = sequence
    if on_hold is not None:
        job.on_hold = on_hold
    job._change_reason = f"plan changed by {actor.label}"
    job.save()
    return job


PLAN_UP, PLAN_DOWN = "up", "down"


@transaction.atomic
def job_plan_move(*, job: Job, direction: str, actor: Actor = SYSTEM) -> Job:
    """Move a job one place up or down in its resource's operational plan.

    The plan is the resource's jobs not completed yet (completed ones are history), in
    sequence order. The job and its neighbour swap sequences through job_plan_change, so its
    refusals apply; equal sequences (possible: nothing forbids them) renumber the plan.
    """
    if direction not in (PLAN_UP, PLAN_DOWN):
        raise NotAllowed(f"Unknown direction {direction!r}.", code="invalid_direction")
    resource_id = Job.objects.filter(pk=job.pk).values_list("resource_id", flat=True).get()
    # Lock the whole plan in pk order, so two supervisors reordering one resource queue
    # instead of deadlocking.
    plan = list(
        Job.objects.select_for_update(no_key=True)
        .select_related("order", "resource")
        .filter(resource_id=resource_id)
        .exclude(status=JobStatus.COMPLETED)
        .order_by("pk")
    )
    plan.sort(key=lambda j: (j.sequence, j.pk))
    position = next((i for i, j in enumerate(plan) if j.pk == job.pk), None)
    if position is None:
        # Completed (or moved to another resource) meanwhile: the usual refusal.
        return job_plan_change(job=job, actor=actor)
    other = position - 1 if direction == PLAN_UP else position + 1
    moved = plan[position]
    if not 0 <= other < len(plan):
        where = "first" if direction == PLAN_UP else "last"
        raise NotAllowed(
            f"Job {moved} is {where} in the plan of {moved.resource.code} already.",
            code="job_plan_edge",
        )
    neighbour = plan[other]
    if moved.sequence != neighbour.sequence:
        job_plan_change(job=neighbour, sequence=moved.sequence, actor=actor)
        return job_plan_change(job=moved, sequence=neighbour.sequence, actor=actor)
    plan[position], plan[other] = neighbour, moved
    base = plan[0].sequence
    for index, each in enumerate(plan):
        if each.sequence != base + index * 10:
            job_plan_change(job=each, sequence=base + index * 10, actor=actor)
    return Job.objects.get(pk=job.pk)
