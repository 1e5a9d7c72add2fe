"""The order a registration works on: OrderWork carries an order, locked by its caller,
through one event (a registration, material put at an input location, a correction), runs
the flushing engine and posts what it consumes (lots first-in first-out at the input
location), and records order quantities with their automatic transitions. _log writes the
logbook line of a processed registration.

The processor (applying.py), arrivals.py, corrections.py and the door's stock checks
(limits.py) all build on it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db.models import Sum

from inventory import selectors as inventory_selectors
from inventory import services as inventory_services
from inventory.choices import SourceType, Tracking
from inventory.exceptions import InsufficientStock
from inventory.fields import ZERO
from inventory.models import Location, Lot, OnHand
from inventory.services import MovementInput, Source
from mesproject.actors import Actor
from mesproject.errors import MissingMasterData
from orders.models import ProductionOrder, Resource

from .. import flushing
from ..choices import JobKind, LogbookKind, RegistrationKind
from ..models import (
    Job,
    LogbookEntry,
    MaterialLineState,
    PickingListLine,
    RawRegistration,
    ReportAsFinishedLine,
    RouteCardLine,
)
from .materials import order_parent_quantity, order_reference
from .order_quantities import order_record_quantities

K = RegistrationKind

# --- What processing a registration did -----------------------------------------------------


@dataclass
class Processed:
    """What processing one registration did: the processing log's text, the journal lines it
    wrote and the order's status moves. The processor hands it to integration
    (execution.signals.registration_processed), which writes the ERP's messages from it."""

    registration: RawRegistration
    text: str = ""
    route_card: list[RouteCardLine] = field(default_factory=list)
    picking_list: list[PickingListLine] = field(default_factory=list)
    finished: list[ReportAsFinishedLine] = field(default_factory=list)
    transitions: list[tuple[str, str]] = field(default_factory=list)  # (from, to)


# --- The order a registration works on -----------------------------------------------------


@dataclass
class OrderWork:
    """An order locked for one event (a registration, or material put at an input location),
    with what the flushing engine needs of it."""

    order: ProductionOrder
    actor: Actor
    registration: RawRegistration | None = None
    source: Source | None = None
    occurred_at: datetime | None = None
    resource: Resource | None = None
    lot_number: str = ""
    # Where material is taken from when the event says so (a manual consumption, an arrival).
    take_from: Location | None = None
    _jobs: dict[int, Job] | None = None
    _materials: dict | None = None
    done: Processed | None = None  # what a registration's processing wrote, as it goes

    def __post_init__(self) -> None:
        registration = self.registration
        if registration is None:
            return
        self.done = Processed(registration=registration)
        self.source = self.source or Source(SourceType.REGISTRATION, str(registration.uuid))
        self.occurred_at = self.occurred_at or registration.occurred_at
        if registration.kind != K.REPORT_AS_FINISHED:
            # A report as finished names the finished lot, never a component's.
            self.lot_number = self.lot_number or registration.lot_number
        if registration.kind == K.CONSUME_MATERIAL and registration.location_id:
            self.take_from = registration.location

    @property
    def reference(self) -> str:
        return order_reference(self.order)

    @property
    def process_jobs(self) -> dict[int, Job]:
        """The order's process job per operation number."""
        if self._jobs is None:
            self._jobs = {
                job.operation_number: job
                for job in self.order.jobs.filter(kind=JobKind.PROCESS).select_related(
                    "resource__input_location"
                )
            }
        return self._jobs

    @property
    def first_operation(self) -> int | None:
        return min(self.process_jobs, default=None)

    def to_parent(self, quantity: Decimal) -> Decimal:
        """An order-unit quantity in the product's unit (what BOM ratios are per)."""
        if not quantity or self.order.unit_id == self.order.item.unit_id:
            return quantity
        return inventory_selectors.quantity_to_item_unit(
            item=self.order.item, quantity=quantity, unit=self.order.unit, round_up=False
        )

    def _load_materials(self) -> dict:
        if self._materials is None:
            materials = list(
                self.order.materials.select_related(
                    "component__unit", "consumption_state"
                ).order_by("line_number")
            )
            lines = [
                flushing.MaterialLine(
                    line_id=m.pk,
                    component=m.component_id,
                    quantity_per=m.quantity_per,
                    scrap_allowance_pct=m.scrap_allowance_pct,
                    flushing_principle=m.flushing_principle,
                    item_default_principle=m.component.default_flushing_principle,
                    operation_number=m.operation_number,
                    decimal_places=m.component.unit.decimal_places,
                )
                for m in materials
            ]
            states = {}
            for m in materials:
                state = getattr(m, "consumption_state", None)
                if state is not None:
                    states[m.pk] = flushing.LineState(
                        covered_output=state.covered_output,
                        consumed=state.consumed,
                        manual_consumed=state.manual_consumed,
                    )
            self._materials = {
                "by_id": {m.pk: m for m in materials},
                "lines": lines,
                "states": states,
                "context": flushing.OrderContext(
                    order_quantity=order_parent_quantity(self.order),
                    operation_numbers=tuple(sorted(self.process_jobs)),
                ),
            }
        return self._materials

    def material_lines(self) -> list[flushing.MaterialLine]:
        """The order's material lines, as the flushing engine reads them."""
        return self._load_materials()["lines"]

    def flush(self, event, *, parent_lot: Lot | None = None) -> list[PickingListLine]:
        """Run the flushing engine for one event and post what it consumes."""
        lines = self._flush(event, parent_lot)[0]
        if self.done is not None:
            self.done.picking_list.extend(lines)
        return lines

    def flush_put(self, event: flushing.PutAtInputLocation) -> Decimal:
        """Material put at the input location: consume what lines take; returns the rest."""
        return self._flush(event, None)[1]

    def _flush(self, event, parent_lot: Lot | None) -> tuple[list[PickingListLine], Decimal]:
        if not settings.MES_POST_INVENTORY:
            # A scale unit: the hub consumes, when this registration reaches it.
            return [], getattr(event, "quantity", ZERO)
        data = self._load_materials()
        if not data["lines"]:
            return [], getattr(event, "quantity", ZERO)
        result = flushing.flush(
            order=data["context"], lines=data["lines"], states=data["states"], event=event
        )
        lines = self._post(result.consumptions, data["by_id"], parent_lot)
        for line_id in result.changed_line_ids:
            state = result.states[line_id]
            values = {
                "covered_output": state.covered_output,
                "consumed": state.consumed,
                "manual_consumed": state.manual_consumed,
            }
            # The order is locked: nobody else writes its lines' states meanwhile.
            if line_id in data["states"]:
                MaterialLineState.objects.filter(material_id=line_id).update(**values)
            else:
                MaterialLineState.objects.create(material_id=line_id, **values)
        data["states"] = dict(result.states)
        return lines, result.not_consumed if result.not_consumed is not None else ZERO

    def consumption_location(self, material) -> Location:
        """Where a line's component is taken from: the input location of its operation's
        resource; for a production finish line, the reporting resource's, else the last
        operation's."""
        if self.take_from is not None:
            return self.take_from
        jobs = self.process_jobs
        operation = material.operation_number
        if material.effective_flushing_principle != "production_finish":
            operation = operation or self.first_operation
        resources = []
        if operation in jobs:
            resources.append(jobs[operation].resource)
        reporting = self.resource
        if reporting is None and self.registration is not None and self.registration.resource_id:
            reporting = self.registration.resource  # read only when something is consumed
        if reporting is not None:
            resources.append(reporting)
        if jobs:
            resources.append(jobs[max(jobs)].resource)
        for resource in resources:
            if resource.input_location_id:
                return resource.input_location
        raise MissingMasterData(
            f"No input location to take {material.component.part_number} from: give the "
            "resource of its operation an input location.",
            code="input_location_missing",
            fields={"component": material.component.part_number},
        )

    def _lots_for(self, material, location: Location, quantity: Decimal, lot_number: str):
        """Split an issue over lots: the named one, else first-in first-out at the location."""
        component = material.component
        if component.tracking == Tracking.NONE:
            return [(None, quantity)]
        if lot_number:
            return [(lot_number, quantity)]
        rows = (
            OnHand.objects.filter(
                item=component, location=location, lot__isnull=False, quantity__gt=0
            )
            .select_related("lot")
            .order_by("lot__created_at", "lot_id")
        )
        picks, left = [], quantity
        for row in rows:
            take = min(left, row.quantity)
            picks.append((row.lot, take))
            left -= take
            if not left:
                return picks
        available = quantity - left
        raise InsufficientStock(
            f"{component.part_number} needs {quantity} from {location} but only {available} "
            "is there in lots.",
            fields={"item": component.part_number, "location": str(location)},
        )

    def _post(self, consumptions, by_id, parent_lot) -> list[PickingListLine]:
        source = self.source
        issues, planned = [], []
        for consumption in consumptions:
            material = by_id[consumption.line_id]
            location = self.consumption_location(material)
            if consumption.quantity < 0:
                lot = self.lot_number or self._last_lot(material)
                txn = inventory_services.inventory_return(
                    item=material.component,
                    quantity=-consumption.quantity,
                    location=location,
                    lot=lot,
                    order_ref=self.reference,
                    source=source,
                    actor=self.actor,
                    reason="returned from the order",
                    occurred_at=self.occurred_at,
                )
                planned.append((consumption, material, location, txn.lot, consumption.quantity))
                issues.append(txn)
                continue
            for lot, quantity in self._lots_for(
                material, location, consumption.quantity, self.lot_number
            ):
                planned.append((consumption, material, location, lot, quantity))
        movements = [
            MovementInput(
                item=material.component,
                quantity=quantity,
                location=location,
                lot=lot,
                parent_lot=parent_lot,
                reason=f"{consumption.event} {consumption.principle}",
            )
            for consumption, material, location, lot, quantity in planned
            if quantity > 0
        ]
        posted = iter(
            inventory_services.inventory_issue_many(
                lines=movements,
                order_ref=self.reference,
                source=source,
                actor=self.actor,
                occurred_at=self.occurred_at,
            )
            if movements
            else []
        )
        returns = iter(issues)
        lines = []
        # One flush per registration: its lines are numbered from 1.
        for number, (consumption, material, location, _lot, quantity) in enumerate(
            planned, start=1
        ):
            txn = next(posted) if quantity > 0 else next(returns)
            lines.append(
                PickingListLine(
                    registration=self.registration,
                    line_number=number,
                    order=self.order,
                    material=material,
                    component=material.component,
                    lot=txn.lot,
                    location=location,
                    quantity=quantity,
                    principle=consumption.principle,
                    event=consumption.event,
                    operation_number=consumption.operation_number,
                    covered_from=consumption.covered_from,
                    covered_to=consumption.covered_to,
                    inventory_transaction=txn,
                )
            )
        return PickingListLine.objects.bulk_create(lines)

    def _last_lot(self, material) -> Lot | None:
        line = (
            PickingListLine.objects.filter(material=material, quantity__gt=0, lot__isnull=False)
            .select_related("lot")
            .order_by("-pk")
            .first()
        )
        return line.lot if line else None

    def record(self, *, good: Decimal = ZERO, scrap: Decimal = ZERO) -> None:
        """Order quantities and the automatic transitions, with a logbook line if it moved.

        In progress is recomputed from totals, not stepped: what the first operation started
        less what was completed or scrapped, never below zero. So the result does not depend
        on the order registrations arrive in (a robot's report may beat the terminals')."""
        order = self.order
        started = (
            Job.objects.filter(
                order_id=order.pk, kind=JobKind.PROCESS, operation_number=self.first_operation
            ).aggregate(total=Sum("quantity_started"))["total"]
            or ZERO
        )
        in_progress = max(
            ZERO,
            started - (order.quantity_completed + good) - (order.quantity_scrapped + scrap),
        )
        before = order.status
        self.order = order_record_quantities(
            order=order,
            actor=self.actor,
            reason=f"{self.source.type} {self.source.id}",
            good=good,
            scrap=scrap,
            in_progress=in_progress - order.quantity_in_progress,
            work_started=True,
        )
        if self.order.status != before and self.done is not None:
            self.done.transitions.append((before, self.order.status))
        if self.order.status != before and self.registration is not None:
            _log(
                self.registration,
                LogbookKind.TRANSITION,
                f"Order {self.order.number}: {before} -> {self.order.status}",
                order=self.order,
            )


def _log(registration, kind, text, *, order=None, job=None) -> None:
    LogbookEntry.objects.create(
        at=registration.occurred_at,
        kind=kind,
        order=order if order is not None else registration.order,
        job=job if job is not None else registration.job,
        worker_id=registration.worker_id,
        registration=registration,
        text=text[:300],
    )
