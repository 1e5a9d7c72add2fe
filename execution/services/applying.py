"""Applying one registration, per kind: a start, progress, scrap or stop on a job, a report as
finished, a manual consumption (a correction: corrections.py). Each writes its journal lines
(route card, report as finished), job quantities and worker time, runs the flushing engine
through OrderWork, and adds a logbook line; it returns the text the processing log keeps.
Attendance registrations only get their logbook line here (attendance.py calculates the day).

Runs inside the processor's transaction for the registration (processing.py), with its order
locked first.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db.models import F, Sum

from inventory import services as inventory_services
from inventory.choices import SourceType
from inventory.fields import ZERO, show
from inventory.services import Source
from mesproject.actors import Actor
from mesproject.errors import ApplicationError
from mesproject.locks import lock_row
from orders.models import ProductionOrder

from .. import flushing
from ..choices import JobKind, JobStatus, LogbookKind, RegistrationKind, RegistrationStatus
from ..models import (
    Job,
    JobActivity,
    RawRegistration,
    ReportAsFinishedLine,
    RouteCardLine,
)
from .genealogy import genealogy_link, genealogy_take_back
from .jobs import lock_orders_waiting_at
from .order_work import OrderWork, Processed, _log
from .registration_checks import _check_order_running

K = RegistrationKind
MINUTE_PLACES = Decimal("0.01")


def _apply(registration: RawRegistration, actor: Actor) -> Processed:
    """What the registration becomes, and what that wrote (the processing log's text, its
    journal lines, the order's status moves)."""
    if registration.order_id is None:
        text = _attendance_text(registration)
        _log(registration, LogbookKind.INFO, text)
        return Processed(registration=registration, text=text)
    order = lock_row(
        ProductionOrder.objects.select_related("item__unit", "unit"),
        registration.order_id,
        of=("self",),
    )
    if registration.kind != K.CORRECTION:
        # Accepted while the order ran, processed after it was canceled or closed: the
        # supervisor decides (cancel it, or reopen the order and process it again).
        _check_order_running(order)
    work = OrderWork(order=order, registration=registration, actor=actor)
    work.done.text = _apply_to_order(work)
    return work.done


def _apply_to_order(work: OrderWork) -> str:
    kind = work.registration.kind
    if kind in (K.START_JOB, K.BUNDLE):
        return _start_job(work)
    if kind in (K.STOP_JOB, K.REPORT_PROGRESS, K.REPORT_SCRAP):
        return _job_feedback(work)
    if kind == K.REPORT_AS_FINISHED:
        return _report_as_finished(work)
    if kind == K.CONSUME_MATERIAL:
        return _consume_material(work)
    if kind == K.CORRECTION:
        # correction_reversals.py builds on this module (_save_job), so it is imported here.
        from .correction_reversals import correction_apply

        return correction_apply(work)
    raise ApplicationError(f"Nothing processes a {kind} registration.", code="kind_unknown")


def _attendance_text(registration: RawRegistration) -> str:
    worker = registration.worker.badge_id if registration.worker else "?"
    detail = ""
    if registration.indirect_activity_id:
        detail = f" {registration.indirect_activity.code}"
    elif registration.absence_code_id:
        detail = f" {registration.absence_code.code} {show(registration.absence_minutes)} min"
    return f"{worker}: {registration.get_kind_display().lower()}{detail}"


def _save_job(job: Job, fields: list[str]) -> None:
    # The journals are the job's history of quantities; its own history keeps plan changes.
    job.skip_history_when_saving = True
    try:
        job.save(update_fields=fields)
    finally:
        del job.skip_history_when_saving


def _lock_job(work: OrderWork) -> Job:
    job = lock_row(Job.objects.select_related("resource"), work.registration.job_id)
    job.order = work.order  # already locked and loaded: no second read for its number
    return job


def _start_job(work: OrderWork) -> str:
    registration = work.registration
    job = _lock_job(work)
    quantity = registration.quantity
    job.status = JobStatus.STARTED
    if job.started_at is None or registration.occurred_at < job.started_at:
        job.started_at = registration.occurred_at
    job.quantity_started += quantity
    _save_job(job, ["status", "started_at", "quantity_started"])
    if registration.worker_id:
        JobActivity.objects.create(
            worker_id=registration.worker_id,
            job=job,
            started_at=registration.occurred_at,
            start_registration=registration,
            bundle_uuid=registration.bundle_uuid,
        )
    if job.kind == JobKind.PROCESS and quantity > 0:
        work.flush(
            flushing.Start(
                started=work.to_parent(quantity),
                cumulative_started=work.to_parent(job.quantity_started),
                operation_number=job.operation_number,
            )
        )
    work.record()
    text = f"Job {job} started"
    if quantity:
        text += f" for {show(quantity)}"
    if registration.bundle_uuid and registration.bundle_size > 1:
        text += f" (bundle of {registration.bundle_size})"
    _log(registration, LogbookKind.INFO, text, order=work.order, job=job)
    return text


def _bundle_minutes(activity: JobActivity, ended_at: datetime) -> Decimal:
    """The share of a bundled activity's time: every stretch is split evenly over the bundle's
    jobs that were still running in it. Read from the registrations as posted (each job's
    first stop after the bundle start), so the split does not depend on processing order."""
    members = RawRegistration.objects.filter(
        bundle_uuid=activity.bundle_uuid, kind=K.BUNDLE
    ).exclude(status=RegistrationStatus.CANCELED)
    ends = []
    for member in members.values("job_id"):
        if member["job_id"] == activity.job_id:
            ends.append(ended_at)
            continue
        stop = (
            RawRegistration.objects.filter(
                worker_id=activity.worker_id,
                job_id=member["job_id"],
                stops_job=True,
                occurred_at__gte=activity.started_at,
            )
            .exclude(status=RegistrationStatus.CANCELED)
            .order_by("occurred_at")
            .values_list("occurred_at", flat=True)
            .first()
        )
        ends.append(stop or ended_at)
    seconds = Decimal(0)
    start = activity.started_at
    for point in sorted({e for e in ends if e <= ended_at}):
        if point <= start:
            continue
        running = sum(1 for e in ends if e >= point)
        seconds += Decimal((point - start).total_seconds()) / running
        start = point
    return (seconds / 60).quantize(MINUTE_PLACES)


def _close_activity(work: OrderWork, job: Job) -> tuple[datetime | None, Decimal, int]:
    """End the worker's open time on the job: (started at, minutes, bundle size)."""
    registration = work.registration
    activity = (
        JobActivity.objects.select_for_update()
        .select_related("start_registration")
        .filter(worker_id=registration.worker_id, job=job, ended_at__isnull=True)
        .order_by("-started_at")
        .first()
    )
    if activity is None:
        return None, ZERO, 1
    activity.ended_at = max(registration.occurred_at, activity.started_at)
    activity.save(update_fields=["ended_at"])
    if activity.bundle_uuid is not None:
        minutes = _bundle_minutes(activity, activity.ended_at)
    else:
        minutes = Decimal((activity.ended_at - activity.started_at).total_seconds()) / 60
    size = activity.start_registration.bundle_size
    return activity.started_at, minutes.quantize(MINUTE_PLACES), size


def _job_feedback(work: OrderWork) -> str:
    registration = work.registration
    job = _lock_job(work)
    good, scrap = registration.quantity_good, registration.quantity_scrap
    job.quantity_good += good
    job.quantity_scrapped += scrap
    started_at, minutes, bundle_size = None, ZERO, 1
    if registration.stops_job and registration.worker_id:
        started_at, minutes, bundle_size = _close_activity(work, job)
    if registration.completes_job:
        job.status = JobStatus.COMPLETED
        job.completed_at = registration.occurred_at
    elif registration.stops_job and not job.activities.filter(ended_at__isnull=True).exists():
        job.status = JobStatus.STOPPED
    _save_job(job, ["quantity_good", "quantity_scrapped", "status", "completed_at"])
    card = RouteCardLine.objects.create(
        registration=registration,
        order=work.order,
        job=job,
        operation_number=job.operation_number,
        job_kind=job.kind,
        resource=job.resource,
        worker_id=registration.worker_id,
        started_at=started_at,
        ended_at=registration.occurred_at,
        minutes=minutes,
        bundle_size=bundle_size,
        quantity_good=good,
        quantity_scrap=scrap,
        reason_code_id=registration.reason_code_id,
    )
    work.done.route_card.append(card)
    if job.kind == JobKind.PROCESS and good + scrap > 0:
        work.flush(
            flushing.OperationFeedback(
                operation_number=job.operation_number,
                good=work.to_parent(good),
                scrap=work.to_parent(scrap),
                cumulative_output=work.to_parent(job.quantity_good + job.quantity_scrapped),
                consumption_setting=job.resource.consumption_setting,
            )
        )
    if scrap > 0:
        work.record(scrap=scrap)
    parts = [f"Job {job}:"]
    if good or scrap:
        parts.append(f"{show(good)} good, {show(scrap)} scrap")
    if minutes:
        parts.append(f"{show(minutes)} min")
    if registration.completes_job:
        parts.append("completed")
    elif registration.stops_job:
        parts.append("stopped")
    text = " ".join(parts)
    _log(registration, LogbookKind.QUANTITY, text, order=work.order, job=job)
    return text


def _report_as_finished(work: OrderWork) -> str:
    registration = work.registration
    order = work.order
    good, scrap = registration.quantity_good, registration.quantity_scrap
    receipt = None
    if good > 0 and settings.MES_POST_INVENTORY:
        # Landing at another resource's input: the orders waiting there, before on-hand.
        lock_orders_waiting_at(location_id=registration.location_id, item_id=order.item_id)
        receipt = inventory_services.inventory_receive_finished(
            item=order.item,
            quantity=work.to_parent(good),
            location=registration.location,
            lot=registration.lot_number or None,
            order_ref=work.reference,
            source=Source(SourceType.REGISTRATION, str(registration.uuid)),
            actor=work.actor,
            reason="report as finished",
            occurred_at=registration.occurred_at,
        )
    finished_lot = receipt.lot if receipt is not None else None
    before = (
        ReportAsFinishedLine.objects.filter(order=order).aggregate(
            total=Sum(F("quantity_good") + F("quantity_scrap"))
        )["total"]
        or ZERO
    )
    terminal = registration.terminal
    consume = registration.consume and (terminal is None or terminal.report_as_finished_consumes)
    resource = registration.resource
    work.flush(
        flushing.ReportAsFinished(
            good=work.to_parent(good),
            scrap=work.to_parent(scrap),
            cumulative_output=work.to_parent(before + good + scrap),
            consumption_setting=resource.consumption_setting if resource else None,
            consume=consume,
        ),
        parent_lot=finished_lot,
    )
    finished = ReportAsFinishedLine.objects.create(
        registration=registration,
        order=order,
        item=order.item,
        quantity_good=good,
        quantity_scrap=scrap,
        lot=finished_lot,
        location=registration.location if good > 0 else None,
        inventory_transaction=receipt,
    )
    work.done.finished.append(finished)
    if finished_lot is not None:
        genealogy_link(
            order=order,
            registration=registration,
            finished_lot=finished_lot,
            output=work.to_parent(good),
            lines=work.material_lines(),
        )
    work.record(good=good, scrap=scrap)
    text = f"Order {order.number}: {show(good)} reported as finished"
    if scrap:
        text += f", {show(scrap)} scrapped"
    if finished_lot is not None:
        text += f" ({finished_lot.number})"
    if not consume:
        text += ", without consumption"
    _log(registration, LogbookKind.QUANTITY, text, order=order)
    return text


def _consume_material(work: OrderWork) -> str:
    registration = work.registration
    lines = work.flush(
        flushing.ManualConsumption(line_id=registration.material_id, quantity=registration.quantity)
    )
    if registration.quantity < 0:
        genealogy_take_back(order=work.order, registration=registration)
    verb = "consumed" if registration.quantity > 0 else "returned"
    component = lines[0].component.part_number if lines else "material"
    text = f"Order {work.order.number}: {show(abs(registration.quantity))} {component} {verb}"
    _log(registration, LogbookKind.CONSUMPTION, text, order=work.order)
    return text
