"""Checks that refuse a correction: what a processed registration may have reversed now.

Refused (nothing stored) when later work depends on what would be reversed: good output of
operation N that operation N+1 has started (or, at the last operation, that was reported as
finished); finished goods no longer on hand at their lot and location; a
return whose material is gone again. The check runs at the door (corrections.py) and again
when processed (correction_reversals.py).
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import F, Sum

from inventory import services as inventory_services
from inventory.choices import SourceType
from inventory.exceptions import InsufficientStock
from inventory.fields import ZERO, show
from inventory.services import MovementInput, Source
from mesproject.actors import SYSTEM
from mesproject.errors import NotAllowed
from orders.choices import OrderStatus
from orders.models import ProductionOrder

from ..choices import JOB_START_KINDS, JobKind, RegistrationKind, RegistrationStatus
from ..models import Job, PickingListLine, RawRegistration, ReportAsFinishedLine
from .materials import order_reference

K = RegistrationKind
CORRECTABLE_KINDS = (
    K.REPORT_PROGRESS,
    K.REPORT_SCRAP,
    K.REPORT_AS_FINISHED,
    K.CONSUME_MATERIAL,
)
PENDING = (RegistrationStatus.NEW, RegistrationStatus.FAILED)


def _refuse(message: str, code: str, **fields) -> NotAllowed:
    shown = {k: show(v) if isinstance(v, Decimal) else str(v) for k, v in fields.items()}
    return NotAllowed(message, code=code, fields=shown)


def _what(registration: RawRegistration) -> str:
    return f"{registration.get_kind_display().lower()} {registration.uuid}"


def _pending_sum(queryset, expression) -> Decimal:
    return queryset.aggregate(total=Sum(expression))["total"] or ZERO


def _pending_corrections(exclude_pk: int | None):
    """Corrections accepted and not processed yet: what they take back is already spoken for."""
    return RawRegistration.objects.filter(kind=K.CORRECTION, status__in=PENDING).exclude(
        pk=exclude_pk
    )


def _check_job_output(registration: RawRegistration, exclude_pk: int | None) -> None:
    """Good output of operation N is reversible only while operation N+1 has not started it
    (the last operation: while it was not reported as finished)."""
    good = registration.quantity_good
    job = registration.job
    if not good or job.kind != JobKind.PROCESS:
        return
    corrections = _pending_corrections(exclude_pk)
    output = job.quantity_good - _pending_sum(
        corrections.filter(corrects__job=job), "corrects__quantity_good"
    )
    following = (
        Job.objects.filter(
            order_id=job.order_id, kind=JobKind.PROCESS, operation_number__gt=job.operation_number
        )
        .order_by("operation_number")
        .first()
    )
    if following is not None:
        used = following.quantity_started + _pending_sum(
            RawRegistration.objects.filter(
                job=following, kind__in=JOB_START_KINDS, status__in=PENDING
            ),
            "quantity",
        )
        later = f"operation {following.operation_number} has started"
    else:
        finished = ReportAsFinishedLine.objects.filter(order_id=job.order_id)
        pending = RawRegistration.objects.filter(
            order_id=job.order_id, kind=K.REPORT_AS_FINISHED, status__in=PENDING
        )
        undone = corrections.filter(order_id=job.order_id, corrects__kind=K.REPORT_AS_FINISHED)
        used = (
            _pending_sum(finished, F("quantity_good") + F("quantity_scrap"))
            + _pending_sum(pending, F("quantity_good") + F("quantity_scrap"))
            - _pending_sum(undone, F("corrects__quantity_good") + F("corrects__quantity_scrap"))
        )
        later = "was reported as finished"
    reversible = max(ZERO, output - used)
    if good > reversible:
        raise _refuse(
            f"Cannot reverse {show(good)} good of operation {job.operation_number}: "
            f"{show(used)} of its output {later}, so only {show(reversible)} can be "
            "reversed. Correct the later work first.",
            "used_by_later_work",
            operation=job.operation_number,
            reversible=reversible,
            requested=good,
        )


def _check_finished_goods(registration: RawRegistration, order: ProductionOrder) -> None:
    """Finished goods are taken back only while they are still where they were received."""
    good = registration.quantity_good
    if not good:
        return
    line = (
        ReportAsFinishedLine.objects.select_related(
            "inventory_transaction__item__unit",
            "inventory_transaction__lot",
            "inventory_transaction__location",
        )
        .filter(registration=registration)
        .first()
    )
    receipt = line.inventory_transaction if line is not None else None
    if receipt is None or not settings.MES_POST_INVENTORY:
        return
    short = _would_refuse(
        lambda: inventory_services.inventory_reverse_finished(
            receipt=receipt,
            quantity=receipt.quantity,
            source=Source(SourceType.REGISTRATION, str(registration.uuid)),
            actor=SYSTEM,
        )
    )
    if short is not None:
        raise _refuse(
            f"Cannot take back {show(receipt.quantity)} {receipt.item.part_number} from "
            f"{receipt.location}: it is no longer all there (moved, delivered or consumed "
            f"since). {short.message}",
            "finished_goods_used",
            **short.fields,
        )


class _DryRun(Exception):
    """Rolls a trial posting back."""


def _would_refuse(post) -> InsufficientStock | None:
    """Run a posting in a savepoint and roll it back: inventory's own stock rule (negative
    stock allowed or not) decides, not a copy of it."""
    try:
        with transaction.atomic():
            post()
            raise _DryRun
    except _DryRun:
        return None
    except InsufficientStock as exc:
        return exc


def _check_returned_material(registration: RawRegistration, order: ProductionOrder) -> None:
    """Reversing a return issues the material again: it must still be there."""
    if not settings.MES_POST_INVENTORY:
        return
    returns = list(
        PickingListLine.objects.filter(registration=registration, quantity__lt=0).select_related(
            "component__unit", "lot", "location"
        )
    )
    if not returns:
        return
    short = _would_refuse(
        lambda: inventory_services.inventory_issue_many(
            lines=[
                MovementInput(
                    item=line.component,
                    quantity=-line.quantity,
                    location=line.location,
                    lot=line.lot,
                )
                for line in returns
            ],
            order_ref=order_reference(order),
            source=Source(SourceType.REGISTRATION, str(registration.uuid)),
            actor=SYSTEM,
        )
    )
    if short is not None:
        raise _refuse(
            f"Cannot reverse the return: the material returned is no longer all there. "
            f"{short.message}",
            "insufficient_stock",
            **short.fields,
        )


def correction_refusal_check(
    *, registration: RawRegistration, order: ProductionOrder, exclude_pk: int | None = None
) -> None:
    """Raise (with a code) when the registration cannot be reversed now; exclude_pk: the
    correction being processed, not counted as pending."""
    if registration.kind not in CORRECTABLE_KINDS:
        raise _refuse(
            f"A {registration.get_kind_display().lower()} registration cannot be corrected: "
            "only progress, scrap, report as finished and manual consumption can.",
            "kind_not_correctable",
            kind=registration.kind,
        )
    if registration.status != RegistrationStatus.PROCESSED:
        raise _refuse(
            f"Registration {registration.uuid} is {registration.get_status_display().lower()}:"
            " only a processed one can be corrected (cancel a new or failed one instead).",
            "registration_not_processed",
            status=registration.status,
        )
    if order.status == OrderStatus.CLOSED:
        raise _refuse(
            f"Order {order.number} is closed: reopen it before correcting its registrations.",
            "order_closed",
            status=order.status,
        )
    if order.status not in (OrderStatus.RELEASED, OrderStatus.IN_PROGRESS, OrderStatus.COMPLETED):
        raise _refuse(
            f"Order {order.number} is {order.get_status_display()}: its registrations can no "
            "longer be corrected.",
            "order_not_running",
            status=order.status,
        )
    if registration.kind in (K.REPORT_PROGRESS, K.REPORT_SCRAP):
        _check_job_output(registration, exclude_pk)
    elif registration.kind == K.REPORT_AS_FINISHED:
        _check_finished_goods(registration, order)
    else:
        _check_returned_material(registration, order)
