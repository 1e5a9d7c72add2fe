"""Reads of the supervisors' dashboard: every figure aggregated in the database.

Each reader runs one query (two for the scrap Pareto), whatever the number of orders or
journal lines, and returns plain data the view turns into charts (.charts).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

from django.db.models import (
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    Sum,
)
from django.db.models.functions import TruncHour
from django.utils import timezone

from inventory.fields import QUANTITY_DIGITS, QUANTITY_PLACES, ZERO, exact
from orders.choices import OrderStatus
from orders.models import ProductionOrder

from ...choices import JobKind
from ...models import ReportAsFinishedLine, RouteCardLine
from ...selectors import floor as floor_selectors

QUANTITY = DecimalField(max_digits=QUANTITY_DIGITS, decimal_places=QUANTITY_PLACES)
OPEN_STATUSES = (OrderStatus.RELEASED, OrderStatus.IN_PROGRESS)
NO_REASON = "(none)"


# --- The period -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """A half-open window [start, end) of whole hours in the current time zone."""

    start: datetime
    end: datetime
    label: str

    def hours(self) -> list[datetime]:
        """The start of every hour of the period, in local time (23 or 25 on DST days)."""
        step = timedelta(hours=1)
        # Stepping in UTC keeps every hour exactly once across a DST change.
        current = self.start.astimezone(UTC)
        hours = []
        while current < self.end:
            hours.append(timezone.localtime(current))
            current += step
        return hours


def period_for(day=None, *, now: datetime | None = None) -> Period:
    """The chosen day (local midnight to midnight), or the last 24 hours up to this hour's end."""
    if day is not None:
        start = timezone.make_aware(datetime.combine(day, time.min))
        end = timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))
        return Period(start, end, day.strftime("%A %d %B %Y"))
    now = timezone.localtime(now or timezone.now())
    end = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    start = end - timedelta(hours=24)
    return Period(start, end, f"Last 24 hours (since {timezone.localtime(start):%d %b %H:%M})")


# --- Work in progress by order ----------------------------------------------------------------


@dataclass(frozen=True)
class WipRow:
    pk: int
    number: str
    part_number: str
    status: str
    quantity: Decimal
    completed: Decimal
    scrapped: Decimal
    in_progress: Decimal

    @property
    def remaining(self) -> Decimal:
        """What is still to make: ordered - completed - scrapped, never below zero."""
        return max(ZERO, self.quantity - self.completed - self.scrapped)

    @property
    def not_started(self) -> Decimal:
        """The part of the remaining quantity that is not on the floor yet."""
        return max(ZERO, self.remaining - self.in_progress)

    @property
    def status_label(self) -> str:
        return OrderStatus(self.status).label


@dataclass(frozen=True)
class WipSummary:
    open_orders: int
    in_progress: Decimal
    rows: list[WipRow]


def wip_by_order(*, limit: int = 15) -> WipSummary:
    """Released and in-progress orders with the most work on the floor (then the most left)."""
    open_orders = ProductionOrder.objects.filter(status__in=OPEN_STATUSES)
    totals = open_orders.aggregate(orders=Count("id"), wip=Sum("quantity_in_progress"))
    rows = (
        open_orders.annotate(
            remaining=ExpressionWrapper(
                F("quantity") - F("quantity_completed") - F("quantity_scrapped"),
                output_field=QUANTITY,
            )
        )
        .order_by("-quantity_in_progress", "-remaining", "number")
        .values_list(
            "pk",
            "number",
            "item__part_number",
            "status",
            "quantity",
            "quantity_completed",
            "quantity_scrapped",
            "quantity_in_progress",
        )[:limit]
    )
    return WipSummary(
        open_orders=totals["orders"],
        in_progress=exact(totals["wip"]),
        rows=[WipRow(*row) for row in rows],
    )


# --- Output per hour per resource -------------------------------------------------------------


@dataclass
class ResourceOutput:
    code: str
    name: str
    good: Decimal = ZERO
    scrap: Decimal = ZERO
    # local hour start -> good quantity reported in that hour
    by_hour: dict[datetime, Decimal] = field(default_factory=dict)


def output_by_resource_hour(period: Period) -> list[ResourceOutput]:
    """Good (and scrap) quantity reported per resource and hour of the period, busiest first.

    Read from the route card journal, not the report-as-finished one: a route card line names
    the resource that did the work and ended_at is when it was reported on the floor, while
    a report-as-finished line is per order (no resource) and stamped when processed. Process
    jobs only: a setup job makes no parts.
    """
    rows = (
        RouteCardLine.objects.filter(
            ended_at__gte=period.start, ended_at__lt=period.end, job_kind=JobKind.PROCESS
        )
        .annotate(hour=TruncHour("ended_at"))
        .values("resource__code", "resource__name", "hour")
        .annotate(good=Sum("quantity_good"), scrap=Sum("quantity_scrap"))
        .order_by()
    )
    resources: dict[str, ResourceOutput] = {}
    for row in rows:
        resource = resources.setdefault(
            row["resource__code"], ResourceOutput(row["resource__code"], row["resource__name"])
        )
        good, scrap = exact(row["good"]), exact(row["scrap"])
        hour = timezone.localtime(row["hour"])
        resource.by_hour[hour] = resource.by_hour.get(hour, ZERO) + good
        resource.good += good
        resource.scrap += scrap
    return sorted(resources.values(), key=lambda r: (-r.good, r.code))


# --- Scrap by reason --------------------------------------------------------------------------


@dataclass(frozen=True)
class ScrapReason:
    code: str
    description: str
    quantity: Decimal


def scrap_by_reason(period: Period) -> list[ScrapReason]:
    """Scrap of the period per reason code, largest first (the Pareto's bars).

    Scrap is reported on operations (route card) and at report as finished; both count,
    each at the time it happened on the floor.
    """
    on_operations = (
        RouteCardLine.objects.filter(
            ended_at__gte=period.start, ended_at__lt=period.end, quantity_scrap__gt=0
        )
        .values_list("reason_code__code", "reason_code__description")
        .annotate(quantity=Sum("quantity_scrap"))
        .order_by()
    )
    at_finish = (
        ReportAsFinishedLine.objects.filter(
            registration__occurred_at__gte=period.start,
            registration__occurred_at__lt=period.end,
            quantity_scrap__gt=0,
        )
        .values_list("registration__reason_code__code", "registration__reason_code__description")
        .annotate(quantity=Sum("quantity_scrap"))
        .order_by()
    )
    totals: dict[str, ScrapReason] = {}
    for code, description, quantity in [*on_operations, *at_finish]:
        code = code or NO_REASON
        before = totals.get(code)
        quantity = exact(quantity) + (before.quantity if before else ZERO)
        totals[code] = ScrapReason(code, description or "No reason given", quantity)
    return sorted(totals.values(), key=lambda r: (-r.quantity, r.code))


# --- Orders by state --------------------------------------------------------------------------


@dataclass(frozen=True)
class StatusCount:
    status: str
    label: str
    count: int


def orders_by_status() -> list[StatusCount]:
    """How many orders are in each state, every state listed (zero included), in the order
    of an order's life (OrderStatus is declared so): the chart reads left to right."""
    counts = dict(ProductionOrder.objects.values_list("status").annotate(n=Count("id")).order_by())
    return [StatusCount(str(s), s.label, counts.get(s, 0)) for s in OrderStatus]


# --- Late orders ------------------------------------------------------------------------------


@dataclass(frozen=True)
class LateOrder:
    pk: int
    number: str
    part_number: str
    status: str
    scheduled_start: datetime
    planned_minutes: Decimal
    due_at: datetime
    late_by: timedelta

    @property
    def status_label(self) -> str:
        return OrderStatus(self.status).label

    @property
    def what(self) -> str:
        if self.status == OrderStatus.IN_PROGRESS:
            return "Planned end passed"
        return "Start passed"


@dataclass(frozen=True)
class LateOrders:
    count: int
    rows: list[LateOrder]


def late_orders(*, now: datetime | None = None, limit: int = 20) -> LateOrders:
    """The late orders (execution.selectors.floor.late_orders, the one definition), the most late
    first: their count and the first `limit` rows."""
    now = now or timezone.now()
    orders = floor_selectors.late_orders(now=now)
    count = orders.count()
    rows = orders.order_by("due_at", "number").values_list(
        "pk",
        "number",
        "item__part_number",
        "status",
        "scheduled_start",
        "planned_minutes",
        "due_at",
    )[:limit]
    return LateOrders(
        count=count,
        rows=[LateOrder(*row[:5], exact(row[5]), row[6], now - row[6]) for row in rows],
    )
