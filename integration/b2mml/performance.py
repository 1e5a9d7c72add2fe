"""An order's actuals out, as a B2MML OperationsPerformance (V0700) that validates against the
official schema (integration/b2mml/schemas/), so it is built element by element in the order
of the schema's sequences. No HTTP here.
"""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from itertools import groupby
from xml.etree import ElementTree as ET

from django.db.models import Sum
from django.utils import timezone

from execution.choices import JobKind, JobStatus
from execution.models import PickingListLine, ReportAsFinishedLine, RouteCardLine
from integration.b2mml import NAMESPACE
from inventory.fields import exact, show
from orders.choices import OrderStatus
from orders.models import ProductionOrder, Route

RESPONSE_STATE = {
    OrderStatus.CREATED: "Waiting",
    OrderStatus.RELEASED: "Ready",
    OrderStatus.IN_PROGRESS: "Running",
    OrderStatus.COMPLETED: "Completed",
    OrderStatus.CLOSED: "Closed",
    OrderStatus.CANCELED: "Aborted",
}
SEGMENT_STATE = {
    JobStatus.NOT_STARTED: "Waiting",
    JobStatus.STARTED: "Running",
    JobStatus.STOPPED: "Paused",
    JobStatus.COMPLETED: "Completed",
}
CONSUMED, PRODUCED = "Consumed", "Produced"
MINUTES = "min"


@dataclass
class _Material:
    use: str
    part_number: str
    lot: str
    quantity: Decimal
    unit: str


@dataclass
class _Segment:
    """One route operation of the order, with what was reported on it."""

    operation_number: int | None
    name: str
    resource: str = ""
    state: str = "Waiting"
    started_at: datetime | None = None
    ended_at: datetime | None = None
    good: Decimal = Decimal(0)
    scrap: Decimal = Decimal(0)
    minutes: Decimal = Decimal(0)
    materials: list[_Material] = field(default_factory=list)


def operations_performance(order: ProductionOrder) -> bytes:
    """The order's actuals as a B2MML V0700 OperationsPerformance document (UTF-8)."""
    segments = _segments(order)
    root = ET.Element(_q("OperationsPerformance"))
    _add(root, "ID", order.number)
    _add(root, "Description", f"Actuals of work order {order.number}")
    _add(root, "PublishedDate", timezone.now().isoformat())
    _add(root, "OperationsType", "Production")
    _add(root, "PerformanceState", RESPONSE_STATE[order.status])
    _response(_add(root, "OperationsResponse"), order, segments)
    ET.indent(root)  # people read these too
    return ET.tostring(root, encoding="utf-8", xml_declaration=True, default_namespace=NAMESPACE)


def _q(name: str) -> str:
    return f"{{{NAMESPACE}}}{name}"


def _add(parent: ET.Element, name: str, text: str | None = None) -> ET.Element:
    element = ET.SubElement(parent, _q(name))
    element.text = text
    return element


def _response(response: ET.Element, order: ProductionOrder, segments: list[_Segment]) -> None:
    _add(response, "ID", order.number)
    _add(response, "Description", f"{order.item.part_number} rev {order.revision}")
    starts = [s.started_at for s in segments if s.started_at]
    ends = [s.ended_at for s in segments]
    if starts:
        _add(response, "StartTime", min(starts).isoformat())
    if all(ends):
        _add(response, "EndTime", max(ends).isoformat())
    _hierarchy_scope(response, order.site.code)
    _add(response, "OperationsType", "Production")
    _add(response, "OperationsRequestID", order.number)
    _add(response, "ResponseState", RESPONSE_STATE[order.status])
    for segment in segments:
        _segment(_add(response, "SegmentResponse"), order, segment)


def _hierarchy_scope(parent: ET.Element, site_code: str) -> None:
    scope = _add(parent, "HierarchyScope")
    _add(scope, "EquipmentID", site_code)
    _add(scope, "EquipmentLevel", "Site")


def _segment(element: ET.Element, order: ProductionOrder, segment: _Segment) -> None:
    number = segment.operation_number
    segment_id = order.number if number is None else str(number)
    _add(element, "ID", segment_id)
    _add(element, "Description", segment.name)
    if segment.started_at:
        _add(element, "ActualStartTime", segment.started_at.isoformat())
    if segment.ended_at:
        _add(element, "ActualEndTime", segment.ended_at.isoformat())
    _add(element, "OperationsType", "Production")
    _add(element, "OperationsRequestID", order.number)
    _add(element, "SegmentState", segment.state)
    _segment_data(element, "QuantityGood", segment.good, order.unit.code)
    _segment_data(element, "QuantityScrap", segment.scrap, order.unit.code)
    _segment_data(element, "LaborMinutes", segment.minutes, MINUTES)
    if segment.resource:
        equipment = _add(element, "EquipmentActual")
        _add(equipment, "ID", segment.resource)
        _add(equipment, "EquipmentID", segment.resource)
    for index, material in enumerate(segment.materials, start=1):
        _material_actual(_add(element, "MaterialActual"), f"{segment_id}.{index}", material)


def _segment_data(parent: ET.Element, name: str, value: Decimal, unit: str) -> None:
    data = _add(parent, "SegmentData")
    _add(data, "ID", name)
    element = _add(data, "Value")
    _add(element, "ValueString", show(value))
    _add(element, "DataType", "decimal")
    _add(element, "UnitOfMeasure", unit)


def _material_actual(element: ET.Element, actual_id: str, material: _Material) -> None:
    _add(element, "ID", actual_id)
    _add(element, "MaterialDefinitionID", material.part_number)
    if material.lot:
        _add(element, "MaterialLotID", material.lot)
    _add(element, "MaterialUse", material.use)
    quantity = _add(element, "Quantity")
    _add(quantity, "QuantityString", show(material.quantity))
    _add(quantity, "DataType", "decimal")
    _add(quantity, "UnitOfMeasure", material.unit)


# --- What the export reports (a constant number of queries) ---------------------------------


def _segments(order: ProductionOrder) -> list[_Segment]:
    """One segment per operation, with its route card totals; consumed material in the
    segment of its operation and produced material in the last one, where the order's
    output comes off. An order with no operation at all gets one segment for itself."""
    segments = _operation_segments(order) or [_Segment(None, order.item.part_number)]
    by_number = {segment.operation_number: segment for segment in segments}
    for total in _route_card_totals(order):
        segment = by_number.get(total["operation_number"], segments[-1])
        segment.good += exact(total["good"])
        segment.scrap += exact(total["scrap"])
        segment.minutes += exact(total["minutes"])
    for operation_number, material in _consumed(order):
        by_number.get(operation_number, segments[-1]).materials.append(material)
    segments[-1].materials.extend(_produced_materials(order))
    return segments


def _operation_segments(order: ProductionOrder) -> list[_Segment]:
    """A released order's own jobs; before release, the operations of its routing."""
    jobs = list(order.jobs.select_related("resource").order_by("operation_number", "kind"))
    if jobs:
        return [
            _job_segment(list(group))
            for _, group in groupby(jobs, key=lambda job: job.operation_number)
        ]
    route = order.route or Route.objects.filter(item=order.item, revision=order.revision).first()
    if route is None:
        return []
    return [
        _Segment(operation.operation_number, operation.name, operation.resource.code)
        for operation in route.operations.select_related("resource")
    ]


def _job_segment(jobs: list) -> _Segment:
    """An operation's setup and process jobs: the process job tells the state; the times
    span both."""
    process = next((job for job in jobs if job.kind == JobKind.PROCESS), jobs[0])
    starts = [job.started_at for job in jobs if job.started_at]
    ends = [job.completed_at for job in jobs]
    return _Segment(
        operation_number=process.operation_number,
        name=process.operation_name,
        resource=process.resource.code,
        state="Held" if process.on_hold else SEGMENT_STATE[process.status],
        started_at=min(starts, default=None),
        ended_at=max(ends) if all(ends) else None,
    )


def _route_card_totals(order: ProductionOrder):
    return (
        RouteCardLine.objects.filter(order=order)
        .values("operation_number")
        .annotate(good=Sum("quantity_good"), scrap=Sum("quantity_scrap"), minutes=Sum("minutes"))
        .order_by("operation_number")
    )


def _consumed(order: ProductionOrder) -> list[tuple[int | None, _Material]]:
    """Picking list lines net per operation, component and lot (returns deducted)."""
    rows = (
        PickingListLine.objects.filter(order=order)
        .values(
            "operation_number", "component__part_number", "component__unit__code", "lot__number"
        )
        .annotate(quantity=Sum("quantity"))
        .order_by("operation_number", "component__part_number", "lot__number")
    )
    return [
        (
            row["operation_number"],
            _Material(
                CONSUMED,
                row["component__part_number"],
                row["lot__number"] or "",
                exact(row["quantity"]),
                row["component__unit__code"],
            ),
        )
        for row in rows
        if exact(row["quantity"])
    ]


def _produced_materials(order: ProductionOrder) -> list[_Material]:
    """Good output reported as finished, per item and lot or serial."""
    rows = (
        ReportAsFinishedLine.objects.filter(order=order)
        .values("item__part_number", "item__unit__code", "lot__number")
        .annotate(quantity=Sum("quantity_good"))
        .order_by("item__part_number", "lot__number")
    )
    return [
        _Material(
            PRODUCED,
            row["item__part_number"],
            row["lot__number"] or "",
            exact(row["quantity"]),
            row["item__unit__code"],
        )
        for row in rows
        if exact(row["quantity"])
    ]
