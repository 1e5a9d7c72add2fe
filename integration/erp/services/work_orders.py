"""What the ERP asks of work orders: create (or update while Created), change, close.

A work order is a production order whose number is the ERP's wo_id. The rules are the
seed's recap table (docs/integration.md): a duplicate wo_id is an idempotent update while
Created and refused otherwise; missing master data refuses the order naming what is
missing; a change to an order running on the floor waits for a supervisor.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.urls import reverse
from django.utils import timezone
from django_fsm import can_proceed

from execution.choices import JobKind, LogbookKind, RegistrationStatus
from execution.models import Job, LogbookEntry, RawRegistration, ReportAsFinishedLine
from execution.services import order_lifecycle
from execution.services.order_changes import order_change, order_change_quantity
from integration.choices import ChangeRequestStatus, CloseMode, NotificationKind
from integration.models import ChangeRequest, ForceCloseRequest
from integration.scale_units import services as scale_units
from integration.services.notifications import notify
from inventory.fields import show
from inventory.models import Item, Site
from mesproject.actors import Actor
from mesproject.errors import ApplicationError, MissingMasterData, NotAllowed
from mesproject.lanes import move
from mesproject.roles import SUPERVISOR
from orders import services as order_services
from orders.choices import OrderStatus, Transition
from orders.models import Bom, ProductionOrder, Route

# "Running on the floor": a change would disrupt the line, so a supervisor decides.
RUNNING = (OrderStatus.IN_PROGRESS, OrderStatus.COMPLETED)
# ERP field -> order field.
CHANGEABLE_FIELDS = {
    "qty_target": "quantity",
    "scheduled_start": "scheduled_start",
    "priority": "priority",
}


@dataclass(frozen=True)
class WorkOrderInput:
    wo_id: str
    part_number: str
    revision: str
    qty_target: Decimal
    scheduled_start: datetime | None = None
    priority: int = 5
    site_code: str = ""
    release: bool = False


def _master_data(data: WorkOrderInput) -> tuple[Item, Site]:
    """The item and site of a new work order; refuses naming everything that is missing."""
    missing: list[str] = []
    item = Item.objects.filter(part_number=data.part_number).first()
    if item is None:
        missing.append(f"part {data.part_number}")
    elif not item.is_active:
        missing.append(f"part {data.part_number} is not active")
    route = None
    if item is not None:
        bom = Bom.objects.filter(item=item, revision=data.revision).first()
        if bom is None:
            missing.append(f"BOM {data.part_number} rev {data.revision}")
        elif not bom.approved:
            missing.append(f"BOM {data.part_number} rev {data.revision} (not approved)")
        route = (
            Route.objects.filter(item=item, revision=data.revision)
            .prefetch_related("operations__resource__site")
            .first()
        )
        if route is None:
            missing.append(f"routing {data.part_number} rev {data.revision}")
        elif not route.approved:
            missing.append(f"routing {data.part_number} rev {data.revision} (not approved)")
        elif not route.operations.all():
            missing.append(f"routing {data.part_number} rev {data.revision} (no operations)")
    site = None
    if data.site_code:
        site = Site.objects.filter(code=data.site_code).first()
        if site is None:
            missing.append(f"site {data.site_code}")
    elif route is not None and route.operations.all():
        # The ERP plans no site: the order runs where its routing's first operation runs.
        site = route.operations.all()[0].resource.site
    if missing:
        raise MissingMasterData(
            f"Work order {data.wo_id} refused, master data missing: {'; '.join(missing)}.",
            fields={"missing": missing},
        )
    return item, site


def _refuse_existing(order: ProductionOrder) -> None:
    raise NotAllowed(
        f"Work order {order.number} already exists and is {order.get_status_display()}: "
        "it can only be updated by a new create while it is Created.",
        code="wo_exists",
        fields={"wo_id": order.number, "status": order.status},
    )


def _update_created(order: ProductionOrder, data: WorkOrderInput, actor: Actor):
    if order.status != OrderStatus.CREATED:
        _refuse_existing(order)
    item, site = _master_data(data)
    return order_change(
        order=order,
        actor=actor,
        reason="updated by the ERP (same wo_id)",
        item=item,
        revision=data.revision,
        unit=item.unit,
        site=site,
        quantity=data.qty_target,
        scheduled_start=data.scheduled_start,
        priority=data.priority,
    )


@transaction.atomic
def work_order_create(*, data: WorkOrderInput, actor: Actor) -> tuple[ProductionOrder, bool]:
    """Create the work order, or update it while it is Created; then release it when the ERP
    asks (data.release), all or nothing; (order, created)."""
    order, created = _create_or_update(data, actor)
    if data.release:
        order = work_order_release(order=order, actor=actor)
    return order, created


def _create_or_update(data: WorkOrderInput, actor: Actor) -> tuple[ProductionOrder, bool]:
    wo_id = (data.wo_id or "").strip()
    if not wo_id:
        raise ApplicationError("wo_id is required.", code="invalid", fields={"wo_id": "required"})
    existing = ProductionOrder.objects.select_for_update(no_key=True).filter(number=wo_id).first()
    if existing is not None:
        return _update_created(existing, data, actor), False
    item, site = _master_data(data)
    try:
        with transaction.atomic():
            order = order_services.production_order_create(
                number=wo_id,
                item=item,
                revision=data.revision,
                quantity=data.qty_target,
                site=site,
                scheduled_start=data.scheduled_start,
                priority=data.priority,
                actor=actor,
            )
    except (IntegrityError, NotAllowed) as exc:
        if isinstance(exc, NotAllowed) and exc.code != "order_exists":
            raise
        # The same wo_id created at this very moment under another key: committed before
        # our create looked (order_exists), or only at our insert (the unique index). The
        # rules for an existing wo_id apply.
        existing = ProductionOrder.objects.select_for_update(no_key=True).get(number=wo_id)
        return _update_created(existing, data, actor), False
    return order, True


@transaction.atomic
def work_order_release(*, order: ProductionOrder, actor: Actor) -> ProductionOrder:
    """Release the order as the planner does (orders' release transition with execution's
    effects: materials reserved, jobs created, the package for its scale unit). Master data
    missing is the create's 422 (`master_data_missing`, named); any other refusal is the
    transition's own (409 `release_refused` with the status and reasons)."""
    order = order_services.lock_order(order.pk)
    if order.status == OrderStatus.CREATED:
        missing = order_services.find_release_master_data(order)[2]
        if missing:
            raise MissingMasterData(
                f"Work order {order.number} cannot be released, master data missing: "
                f"{'; '.join(missing)}.",
                fields={"missing": missing},
            )
    return order_lifecycle.order_release(order=order, actor=actor, reason="released by the ERP")


def _model_changes(changes: dict) -> dict:
    unknown = sorted(set(changes) - set(CHANGEABLE_FIELDS))
    if unknown:
        raise ApplicationError(
            f"These fields cannot be changed: {', '.join(unknown)}.",
            code="field_not_editable",
            fields={name: "read-only" for name in unknown},
        )
    if not changes:
        raise ApplicationError("Nothing to change.", code="nothing_to_change")
    return {CHANGEABLE_FIELDS[name]: value for name, value in changes.items()}


@transaction.atomic
def work_order_change(
    *, order: ProductionOrder, changes: dict, actor: Actor
) -> tuple[ProductionOrder, ChangeRequest | None]:
    """Apply the ERP's change, or, when the order runs on the floor, file it for a
    supervisor; (order, change request or None)."""
    order = order_services.lock_order(order.pk)
    model_changes = _model_changes(changes)
    # Refused now whatever the status: below produced, frozen, canceled, bad values.
    order_services.production_order_check_changes(order=order, changes=model_changes)
    if order.status not in RUNNING:
        order = order_change(order=order, actor=actor, reason="changed by the ERP", **model_changes)
        return order, None
    now = timezone.now()
    order.change_requests.filter(status=ChangeRequestStatus.PENDING).update(
        status=ChangeRequestStatus.SUPERSEDED, decided_at=now, decision_note="superseded"
    )
    request = ChangeRequest.objects.create(
        order=order,
        changes={name: _jsonable(value) for name, value in changes.items()},
        requested_by=actor.user,
        requested_by_actor=actor.label,
        requested_at=now,
    )
    notify(
        kind=NotificationKind.CHANGE_REQUEST,
        roles=[SUPERVISOR],
        title=f"The ERP asks to change running order {order.number}",
        text=", ".join(f"{k} -> {v}" for k, v in request.changes.items()),
        link=reverse("change_requests:list"),
    )
    return order, request


def _jsonable(value):
    if isinstance(value, Decimal):
        return show(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _lock_pending(request: ChangeRequest) -> ChangeRequest:
    request = ChangeRequest.objects.select_for_update().get(pk=request.pk)
    if not can_proceed(request.approve):  # approved, rejected or superseded
        raise _decided(request)
    return request


def _decided(request: ChangeRequest) -> NotAllowed:
    return NotAllowed(
        f"This change request is {request.get_status_display()} already.",
        code="change_request_decided",
        fields={"status": request.status},
    )


@transaction.atomic
def change_request_approve(
    *, request: ChangeRequest, actor: Actor, note: str = ""
) -> ChangeRequest:
    """Apply the change now (checked again: more may have been produced meanwhile)."""
    request = _lock_pending(request)
    changes = _model_changes(request.changes)
    if changes.get("scheduled_start"):
        changes["scheduled_start"] = datetime.fromisoformat(changes["scheduled_start"])
    # Through execution's change use case: reservations and job plans follow the change.
    order_change(
        order=request.order,
        actor=actor,
        reason=f"ERP change request {request.pk} approved",
        **changes,
    )
    move(request, "approve", lambda: _decided(request), actor, timezone.now(), note)
    request.save()
    return request


@transaction.atomic
def change_request_reject(*, request: ChangeRequest, actor: Actor, note: str = "") -> ChangeRequest:
    request = _lock_pending(request)
    move(request, "reject", lambda: _decided(request), actor, timezone.now(), note)
    request.save()
    return request


# --- Close ---------------------------------------------------------------------------------


def _close_with_what_was_produced(order: ProductionOrder, actor: Actor, reason: str):
    """Short close: the order quantity becomes what was completed, then Closed; with nothing
    produced, the order is canceled. Either way its reservations go back to general stock."""
    if order.quantity_completed <= 0:
        return order_lifecycle.order_transition(
            order=order, transition=Transition.CANCEL, actor=actor, reason=reason
        )
    if order.quantity_completed < order.quantity:
        order = order_change_quantity(
            order=order, quantity=order.quantity_completed, actor=actor, reason=reason
        )
    return order_lifecycle.order_transition(
        order=order, transition=Transition.CLOSE, actor=actor, reason=reason
    )


@transaction.atomic
def work_order_close(
    *, order: ProductionOrder, mode: str, actor: Actor
) -> tuple[ProductionOrder, bool]:
    """Close as the ERP asks; (order, waiting) — waiting when a force close lets the units on
    the floor finish their operation first."""
    order = order_services.lock_order(order.pk)
    if mode not in CloseMode.values:
        raise ApplicationError(
            f"mode must be one of {', '.join(CloseMode.values)}.",
            code="invalid",
            fields={"mode": mode},
        )
    if order.status in (OrderStatus.CLOSED, OrderStatus.CANCELED):
        raise NotAllowed(
            f"Work order {order.number} is {order.get_status_display()} already.",
            code="wo_finished",
            fields={"status": order.status},
        )
    reason = f"{CloseMode(mode).label} by the ERP"
    if mode == CloseMode.CANCEL:
        order = order_lifecycle.order_transition(
            order=order, transition=Transition.CANCEL, actor=actor, reason=reason
        )
        return order, False
    if mode == CloseMode.SHORT_CLOSE:
        if order.quantity_in_progress > 0:
            raise NotAllowed(
                f"{show(order.quantity_in_progress)} of work order {order.number} are "
                "still in progress: use mode force to let them finish first, or cancel.",
                code="work_in_progress",
                fields={"quantity_in_progress": str(order.quantity_in_progress)},
            )
        return _close_with_what_was_produced(order, actor, reason), False
    if not _force_close_waits(order):
        return _force_close_finish(order, actor), False
    request = _force_close_request_open(order, actor)
    # The floor's start check reads it on the order: nothing new starts from now on.
    _set_closing_since(order, request.requested_at)
    # A scale unit running the order gets it with the order and refuses new starts too.
    scale_units.order_package_effect(order=order, transition="force close")
    notify(
        kind=NotificationKind.FORCE_CLOSE,
        roles=[SUPERVISOR],
        title=f"The ERP force-closes order {order.number}",
        text="The units at an operation finish it (those done at the last operation are "
        "reported as finished); nothing new starts; then the order closes by itself.",
        dedup_key=f"force-close:{order.pk}",
    )
    return order, True


# --- Force close ---------------------------------------------------------------------------
# The rule (docs/integration.md, "Force close"): the units at an operation (a job's started
# less its good and scrap) finish that operation, and what the last operation made is
# reported as finished; nothing new starts. Then the order closes by itself, short-closed
# to what was completed. Units that finished an earlier operation are left unfinished: not
# completed, named in the close's reason, the logbook and the genealogy message.


def unfinished_quantity(order: ProductionOrder) -> Decimal:
    """Units started at the order's first operation and neither completed nor scrapped."""
    started = (
        Job.objects.filter(order_id=order.pk, kind=JobKind.PROCESS)
        .order_by("operation_number")
        .values_list("quantity_started", flat=True)
        .first()
    ) or Decimal(0)
    return max(Decimal(0), started - order.quantity_completed - order.quantity_scrapped)


def _force_close_waits(order: ProductionOrder, *, processing=None) -> list[str]:
    """What a force-closed order still waits for (empty: it closes now). `processing` is the
    registration being processed, which counts as done."""
    waits = []
    unsettled = RawRegistration.objects.filter(
        lane=f"order:{order.pk}",
        status__in=(RegistrationStatus.NEW, RegistrationStatus.FAILED),
    )
    if processing is not None:
        unsettled = unsettled.exclude(pk=processing.pk)
    if unsettled.exists():
        # Its registrations go first: closing now would fail them.
        waits.append("registrations not processed yet")
    jobs = list(order.jobs.filter(kind=JobKind.PROCESS).order_by("operation_number"))
    for job in jobs:
        running = job.quantity_started - job.quantity_good - job.quantity_scrapped
        if running > 0:
            waits.append(f"{show(running)} at operation {job.operation_number}")
    if jobs:
        # Made at the last operation: real goods, so their report as finished is awaited.
        reported = ReportAsFinishedLine.objects.filter(order_id=order.pk).aggregate(
            total=Sum(F("quantity_good") + F("quantity_scrap"))
        )["total"] or Decimal(0)
        waiting = jobs[-1].quantity_good - reported
        if waiting > 0:
            waits.append(f"{show(waiting)} to report as finished")
    return waits


def _force_close_request_open(order: ProductionOrder, actor: Actor) -> ForceCloseRequest:
    """The order's waiting force close: the open one, or a new wait (one row per order: a
    force close after a reopen starts waiting again)."""
    request = ForceCloseRequest.objects.filter(order=order).first()
    if request is not None and request.closed_at is None:
        return request
    request = request or ForceCloseRequest(order=order)
    fields = actor.stamp(request, "requested_by")
    request.requested_at = timezone.now()
    request.closed_at = None
    if request.pk is None:
        request.save()
    else:
        request.save(update_fields=[*fields, "requested_at", "closed_at"])
    return request


def force_close_withdraw(*, order: ProductionOrder) -> None:
    """A canceled or closed order waits for nothing more: its force close ends with it, so
    the floor may start again if the order is brought back."""
    _set_closing_since(order, None)
    ForceCloseRequest.objects.filter(order=order, closed_at__isnull=True).update(
        closed_at=timezone.now()
    )


def _set_closing_since(order: ProductionOrder, since: datetime | None) -> None:
    if order.closing_since != since:
        order.closing_since = since
        order.save(update_fields=["closing_since", "updated_at"])


def _force_close_finish(order: ProductionOrder, actor: Actor, *, registration=None):
    """Close the order with what was completed, naming the units left unfinished."""
    # Before the close, so the close's package tells a scale unit too.
    _set_closing_since(order, None)
    unfinished = unfinished_quantity(order)
    reason = "Force close by the ERP"
    if unfinished > 0:
        reason += f": {show(unfinished)} started left unfinished"
    if order.quantity_completed > 0 and order.quantity_in_progress > 0:
        # Closed means nothing in progress; the jobs keep what they started.
        order = order_lifecycle.order_record_quantities(
            order=order, in_progress=-order.quantity_in_progress, actor=actor, reason=reason
        )
    order = _close_with_what_was_produced(order, actor, reason)
    outcome = (
        f"closed at {show(order.quantity_completed)} completed"
        if order.status == OrderStatus.CLOSED
        else "canceled, nothing completed"
    )
    text = f"Order {order.number} force closed by the ERP: {outcome}"
    if unfinished > 0:
        text += f"; {show(unfinished)} started left unfinished (neither completed nor scrapped)"
    LogbookEntry.objects.create(
        at=registration.occurred_at if registration is not None else timezone.now(),
        kind=LogbookKind.TRANSITION,
        order=order,
        registration=registration,
        text=text[:300],
    )
    ForceCloseRequest.objects.filter(order=order, closed_at__isnull=True).update(
        closed_at=timezone.now()
    )
    return order


def force_close_effect(*, registration) -> None:
    """On each processed registration (integration.receivers): a force-closed order closes,
    in the transaction that processed the registration, once it waits for nothing more."""
    lane = registration.lane or ""
    if not lane.startswith("order:"):
        return
    request = ForceCloseRequest.objects.filter(
        order_id=int(lane.split(":", 1)[1]), closed_at__isnull=True
    ).first()
    if request is None:
        return
    order = order_services.lock_order(request.order_id)
    if order.status not in (OrderStatus.RELEASED, *RUNNING):
        return
    if _force_close_waits(order, processing=registration):
        return
    _force_close_finish(order, Actor(process="erp-force-close"), registration=registration)
