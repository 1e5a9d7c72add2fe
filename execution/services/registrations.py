"""Accepting shop-floor registrations, the door: lock what the checks read, check
(registration_checks.py), store, answer at once. The processor (processing.py) does the rest.

State is read from the registrations already accepted (not only the processed ones): a
terminal posts "start" and "progress" seconds apart, long before the processor runs. What is
checked is locked first (_lock_flow), so concurrent posts cannot both pass. Who may post what
is senders.py's, checked before. A UUID seen before is a replay: it returns what was stored
the first time.
"""

from __future__ import annotations

import uuid as uuid_module
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.module_loading import import_string

from inventory.fields import ZERO
from inventory.models import Location
from mesproject.deployment import is_scale_unit
from mesproject.locks import lock_row, lock_rows
from orders.models import ProductionOrder, ProductionOrderMaterial, ReasonCode, Resource
from orders.services import lock_order

from ..choices import RegistrationKind
from ..models import (
    AbsenceCode,
    IndirectActivity,
    Job,
    RawRegistration,
    Terminal,
    Worker,
)
from . import limits
from .nudge import processor_nudge
from .registration_checks import registration_check
from .worker_timeline import worker_open_job_ids

K = RegistrationKind
# Namespace of the registration UUIDs derived from a posted one (bundle members, the jobs a
# clock-out stops): the same post always derives the same UUIDs.
DERIVED_NAMESPACE = uuid_module.UUID("5b0c3f4e-8d7a-4d0e-9a57-6a1c2b1f0e11")


@dataclass
class RegistrationInput:
    """One registration as posted, references already looked up by the serializer."""

    uuid: uuid_module.UUID
    kind: str
    occurred_at: datetime
    worker: Worker | None = None
    terminal: Terminal | None = None
    resource: Resource | None = None
    order: ProductionOrder | None = None
    job: Job | None = None
    jobs: list[Job] = field(default_factory=list)
    quantity: Decimal | None = None
    quantity_good: Decimal = ZERO
    quantity_scrap: Decimal = ZERO
    reason_code: ReasonCode | None = None
    stops_job: bool = False
    completes_job: bool = False
    absence_code: AbsenceCode | None = None
    absence_minutes: Decimal = ZERO
    indirect_activity: IndirectActivity | None = None
    lot_number: str = ""
    location: Location | None = None
    material: ProductionOrderMaterial | None = None
    consume: bool = True
    note: str = ""
    # A bundle's start quantity per job, filled in by the checks.
    start_quantities: dict[int, Decimal] = field(default_factory=dict)
    # Whether the door checks stock (not for what a scale unit's floor already did).
    check_stock: bool = True


@dataclass
class Accepted:
    """What the endpoint answers: the stored rows, and whether this post was a replay."""

    registrations: list[RawRegistration]
    replayed: bool


def lock_worker(worker_id: int) -> Worker | None:
    """The worker row, locked until the end of the transaction: one registration per worker
    at a time (mesproject.locks); None when there is no such worker."""
    try:
        return lock_row(Worker, worker_id)
    except Worker.DoesNotExist:
        return None


def _lock_flow(data: RegistrationInput) -> None:
    """Lock what the quantity limits read, after the worker (the product's lock order:
    worker, order, jobs by id): the jobs started or reported on; for report as finished the
    order's last operation, whose output it takes; for a consumption the order."""
    job_ids = [job.pk for job in data.jobs] or ([data.job.pk] if data.job else [])
    if data.kind == K.CONSUME_MATERIAL and data.order is not None:
        lock_order(data.order.pk)
    if data.kind == K.REPORT_AS_FINISHED and data.order is not None:
        last = limits.process_jobs(data.order)[-1:]
        job_ids = [job.pk for job in last]
    lock_rows(Job, job_ids)


def derived_uuid(parent: uuid_module.UUID, part: str) -> uuid_module.UUID:
    return uuid_module.uuid5(DERIVED_NAMESPACE, f"{parent}:{part}")


def lane_of(*, order_id: int | None, worker_id: int | None) -> str:
    if order_id is not None:
        return f"order:{order_id}"
    return f"worker:{worker_id}"


# --- Storing ----------------------------------------------------------------------------------


def _row(data: RegistrationInput, *, source: str, **overrides) -> RawRegistration:
    values = dict(
        uuid=data.uuid,
        kind=data.kind,
        occurred_at=data.occurred_at,
        worker=data.worker,
        terminal=data.terminal,
        resource=data.resource,
        order=data.order,
        job=data.job,
        quantity=data.quantity or ZERO,
        quantity_good=data.quantity_good or ZERO,
        quantity_scrap=data.quantity_scrap or ZERO,
        reason_code=data.reason_code,
        stops_job=data.stops_job or data.completes_job or data.kind == K.STOP_JOB,
        completes_job=data.completes_job,
        absence_code=data.absence_code,
        absence_minutes=data.absence_minutes or ZERO,
        indirect_activity=data.indirect_activity,
        lot_number=data.lot_number.strip(),
        location=data.location,
        material=data.material,
        consume=data.consume,
        note=data.note,
        source=source,
    )
    values.update(overrides)
    order = values["order"]
    worker = values["worker"]
    values["lane"] = lane_of(
        order_id=order.pk if order else None, worker_id=worker.pk if worker else None
    )
    return RawRegistration(**values)


def _rows_for(data: RegistrationInput, source: str) -> list[RawRegistration]:
    if data.kind == K.BUNDLE:
        # One stored registration per job, each in its order's lane, sharing the bundle's
        # UUID: the time is split over them when they stop.
        return [
            _row(
                data,
                source=source,
                uuid=derived_uuid(data.uuid, f"job:{job.pk}"),
                job=job,
                order=job.order,
                quantity=data.start_quantities[job.pk],
                bundle_uuid=data.uuid,
                bundle_size=len(data.jobs),
            )
            for job in data.jobs
        ]
    rows = [_row(data, source=source)]
    if data.kind == K.CLOCK_OUT:
        # Clocking out stops the jobs the worker still has running, at the same time.
        for job in Job.objects.filter(
            pk__in=worker_open_job_ids(data.worker, data.occurred_at)
        ).select_related("order"):
            rows.append(
                _row(
                    data,
                    source=source,
                    uuid=derived_uuid(data.uuid, f"stop:{job.pk}"),
                    kind=K.STOP_JOB,
                    job=job,
                    order=job.order,
                    stops_job=True,
                    bundle_uuid=data.uuid,
                    note="stopped by clock-out",
                )
            )
    return rows


def _existing(uuid: uuid_module.UUID) -> list[RawRegistration]:
    rows = list(RawRegistration.objects.filter(Q(uuid=uuid) | Q(bundle_uuid=uuid)))
    # A clock-out's derived stops share its UUID as bundle_uuid; the clock-out comes first.
    return sorted(rows, key=lambda r: (r.uuid != uuid, r.pk))


def registration_accept(*, data: RegistrationInput, source: str = "terminal") -> Accepted:
    """Store a registration (a bundle: one per job) after checking it; a UUID seen before
    returns what was stored the first time and changes nothing."""
    existing = _existing(data.uuid)
    if existing:
        return Accepted(existing, replayed=True)
    try:
        with transaction.atomic():
            if data.worker is not None:
                # One registration per worker at a time: its state is read, then extended.
                lock_worker(data.worker.pk)
                # The same UUID may have been stored while this one waited for the lock.
                existing = _existing(data.uuid)
                if existing:
                    return Accepted(existing, replayed=True)
            _lock_flow(data)
            registration_check(data, source=source)
            rows = RawRegistration.objects.bulk_create(_rows_for(data, source))
            if is_scale_unit():
                # Queued for the hub in the same transaction: stored and queued, or neither.
                # A setting, not an import: execution may not import integration.
                import_string(settings.MES_SCALE_UNIT_FORWARDER)(data=data, rows=rows)
    except IntegrityError:
        # The same UUID posted twice at once: the other one won; answer what it stored.
        existing = _existing(data.uuid)
        if existing:
            return Accepted(existing, replayed=True)
        raise
    transaction.on_commit(processor_nudge)
    return Accepted(rows, replayed=False)
