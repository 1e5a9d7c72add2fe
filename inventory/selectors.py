"""Reads shared by views, admin, API and higher apps: balances, WIP, shortages, genealogy."""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal

from django.db.models import Case, DecimalField, F, Q, QuerySet, Sum, Value, When

from .choices import TransactionKind
from .exceptions import InvalidMovement, MissingMasterData
from .fields import QUANTITY_DIGITS, QUANTITY_PLACES, ZERO, exact, show
from .models import (
    InventoryTransaction,
    Item,
    Location,
    Lot,
    OnHand,
    Reservation,
    Site,
    UnitConversion,
    UnitOfMeasure,
)

# --- Units --------------------------------------------------------------------------------


def unit_conversion_factor(*, item: Item, from_unit: UnitOfMeasure, to_unit: UnitOfMeasure):
    """1 from_unit = factor x to_unit: the item's own conversion first, then the generic
    one, each also read backwards. None when nothing converts."""
    if from_unit.pk == to_unit.pk:
        return Decimal(1)
    pairs = UnitConversion.objects.filter(
        Q(from_unit=from_unit, to_unit=to_unit) | Q(from_unit=to_unit, to_unit=from_unit),
        Q(item=item) | Q(item__isnull=True),
    ).values_list("from_unit_id", "item_id", "factor")
    # (forward?, item-specific?) -> factor
    found = {
        (from_id == from_unit.pk, item_id is not None): factor for from_id, item_id, factor in pairs
    }
    for specific in (True, False):
        if (True, specific) in found:
            return found[(True, specific)]
        if (False, specific) in found:
            return Decimal(1) / found[(False, specific)]
    return None


def quantity_to_item_unit(
    *, item: Item, quantity: Decimal, unit: UnitOfMeasure, round_up: bool = False
) -> Decimal:
    """quantity (in unit) expressed in the item's own unit, converted once at the edge.

    The result must fit the item unit's decimals: round_up rounds up to them (what a
    requirement needs), otherwise a quantity that does not fit is refused.
    """
    factor = unit_conversion_factor(item=item, from_unit=unit, to_unit=item.unit)
    if factor is None:
        raise MissingMasterData(
            f"No unit conversion from {unit.code} to {item.unit.code} for item {item.part_number}.",
            code="unit_conversion_missing",
            fields={"from_unit": unit.code, "to_unit": item.unit.code, "item": item.part_number},
        )
    converted = Decimal(quantity) * factor
    step = Decimal(1).scaleb(-item.unit.decimal_places)
    rounded = converted.quantize(step, rounding=ROUND_CEILING)
    if rounded != converted and not round_up:
        raise InvalidMovement(
            f"{quantity} {unit.code} is {show(converted)} {item.unit.code}, more decimals "
            f"than {item.unit.code} allows ({item.unit.decimal_places}).",
            code="quantity_precision",
            fields={"quantity": str(quantity)},
        )
    return rounded


# --- Balances -----------------------------------------------------------------------------


def on_hand_quantity(
    *,
    item: Item,
    location: Location | None = None,
    lot: Lot | None = None,
    site: Site | None = None,
) -> Decimal:
    """On-hand of an item, narrowed to a location, a lot and / or a site."""
    rows = OnHand.objects.filter(item=item)
    if location is not None:
        rows = rows.filter(location=location)
    if lot is not None:
        rows = rows.filter(lot=lot)
    if site is not None:
        rows = rows.filter(location__warehouse__site=site)
    return exact(rows.aggregate(total=Sum("quantity"))["total"])


def reserved_quantity(*, item: Item, site: Site) -> Decimal:
    """What open reservations hold of an item at a site."""
    return exact(
        Reservation.objects.filter(item=item, site=site, quantity_open__gt=0).aggregate(
            total=Sum("quantity_open")
        )["total"]
    )


def available_quantity(*, item: Item, site: Site) -> Decimal:
    """On-hand at the site minus open reservations there; below zero = a shortage."""
    return available_quantities(items=[item], site=site)[item.pk]


def available_quantities(
    *,
    items: Iterable[Item | int],
    site: Site,
    exclude_order_ref: str = "",
    exclude_reservation: int | None = None,
) -> dict[int, Decimal]:
    """available_quantity of several items at once (two queries), by item id.

    exclude_order_ref leaves that order's own reservations out: what the others leave it,
    the stock its release may count on; exclude_reservation leaves one reservation out (the
    one being set: what it may cover).
    """
    ids = {getattr(item, "pk", item) for item in items}
    on_hand = dict(
        OnHand.objects.filter(item_id__in=ids, location__warehouse__site=site)
        .values_list("item_id")
        .annotate(total=Sum("quantity"))
        .order_by()
    )
    reservations = Reservation.objects.filter(item_id__in=ids, site=site, quantity_open__gt=0)
    if exclude_order_ref:
        reservations = reservations.exclude(order_ref=exclude_order_ref)
    if exclude_reservation is not None:
        reservations = reservations.exclude(pk=exclude_reservation)
    reserved = dict(
        reservations.values_list("item_id").annotate(total=Sum("quantity_open")).order_by()
    )
    return {pk: exact(on_hand.get(pk)) - exact(reserved.get(pk)) for pk in ids}


def on_hand_list(
    *,
    item: Item | None = None,
    location: Location | None = None,
    lot: Lot | None = None,
    site: Site | None = None,
    include_zero: bool = False,
) -> QuerySet[OnHand]:
    """On-hand rows with everything a list page shows, in one query."""
    rows = OnHand.objects.select_related("item__unit", "lot", "location__warehouse__site")
    if not include_zero:
        rows = rows.exclude(quantity=0)
    if item is not None:
        rows = rows.filter(item=item)
    if location is not None:
        rows = rows.filter(location=location)
    if lot is not None:
        rows = rows.filter(lot=lot)
    if site is not None:
        rows = rows.filter(location__warehouse__site=site)
    return rows.order_by("item__part_number", "location_id", "lot_id")


# --- Ledger -------------------------------------------------------------------------------


def ledger_list() -> QuerySet[InventoryTransaction]:
    return InventoryTransaction.objects.select_related(
        "item", "unit", "lot", "location__warehouse__site", "reservation", "parent_lot", "user"
    )


def order_reservations(*, order_ref: str) -> QuerySet[Reservation]:
    return (
        Reservation.objects.filter(order_ref=order_ref)
        .select_related("item__unit", "site")
        .order_by("pk")
    )


# --- WIP ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class WipBalance:
    """What an order holds of a component: issued - returned (+ WIP adjustments)."""

    order_ref: str
    item_id: int
    part_number: str
    issued: Decimal
    returned: Decimal
    adjusted: Decimal

    @property
    def balance(self) -> Decimal:
        return self.issued - self.returned + self.adjusted


def _wip_sum(kind: str, sign: int):
    return Sum(
        Case(
            When(kind=kind, then=F("quantity") * sign),
            default=Value(ZERO),
            output_field=DecimalField(max_digits=QUANTITY_DIGITS, decimal_places=QUANTITY_PLACES),
        )
    )


WIP_KINDS = (TransactionKind.ISSUE, TransactionKind.RETURN, TransactionKind.ADJUSTMENT)


def wip_balances(*, order_refs: Iterable[str] | QuerySet | None = None) -> list[WipBalance]:
    """WIP per production order and component, from the ledger (so it cannot drift).

    Issued to the order minus what came back; an adjustment line that names an order counts
    too (stock found missing and booked to the order). This is what the nightly
    reconciliation compares with the ERP. order_refs may be a query of order numbers (it
    runs as a subquery, however many orders it names).
    """
    rows = InventoryTransaction.objects.filter(kind__in=WIP_KINDS).exclude(order_ref="")
    if order_refs is not None:
        rows = rows.filter(order_ref__in=order_refs)
    grouped = (
        rows.values("order_ref", "item_id", "item__part_number")
        .annotate(
            issued=_wip_sum(TransactionKind.ISSUE, -1),
            returned=_wip_sum(TransactionKind.RETURN, 1),
            adjusted=_wip_sum(TransactionKind.ADJUSTMENT, -1),
        )
        .order_by("order_ref", "item__part_number")
    )
    return [
        WipBalance(
            order_ref=row["order_ref"],
            item_id=row["item_id"],
            part_number=row["item__part_number"],
            issued=exact(row["issued"]),
            returned=exact(row["returned"]),
            adjusted=exact(row["adjusted"]),
        )
        for row in grouped.iterator(chunk_size=5000)
    ]


# --- Shortages ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Shortage:
    """Part of an open reservation that stock at the site does not cover (oldest first)."""

    reservation_id: int
    order_ref: str
    item_id: int
    part_number: str
    site_id: int
    quantity_open: Decimal
    quantity_short: Decimal


def material_shortages(
    *, site: Site | None = None, order_ref: str | None = None, item: Item | None = None
) -> list[Shortage]:
    """Open reservations not covered by on-hand at their site, live (three queries).

    Stock at a site covers its open reservations oldest first; what is left uncovered is
    the shortage planners must see (seed 003, "Reduce material shortages").
    """
    wanted = Reservation.objects.filter(quantity_open__gt=0)
    if site is not None:
        wanted = wanted.filter(site=site)
    if order_ref is not None:
        wanted = wanted.filter(order_ref=order_ref)
    if item is not None:
        wanted = wanted.filter(item=item)
    pairs = set(wanted.values_list("item_id", "site_id"))
    if not pairs:
        return []
    pair_q = Q()
    for item_id, site_id in pairs:
        pair_q |= Q(item_id=item_id, site_id=site_id)
    reservations = (
        Reservation.objects.filter(pair_q, quantity_open__gt=0)
        .select_related("item")
        .order_by("created_at", "pk")
    )
    stock_q = Q()
    for item_id, site_id in pairs:
        stock_q |= Q(item_id=item_id, location__warehouse__site_id=site_id)
    stock = {
        (item_id, site_id): exact(total)
        for item_id, site_id, total in OnHand.objects.filter(stock_q)
        .values_list("item_id", "location__warehouse__site_id")
        .annotate(total=Sum("quantity"))
        .order_by()
    }
    wanted_ids = set(wanted.values_list("pk", flat=True))
    reserved_so_far: dict[tuple[int, int], Decimal] = defaultdict(Decimal)
    result = []
    for reservation in reservations:
        pair = (reservation.item_id, reservation.site_id)
        before = reserved_so_far[pair]
        reserved_so_far[pair] += reservation.quantity_open
        cover = max(ZERO, (stock.get(pair) or ZERO) - before)
        short = max(ZERO, reservation.quantity_open - cover)
        if short > 0 and reservation.pk in wanted_ids:
            result.append(
                Shortage(
                    reservation_id=reservation.pk,
                    order_ref=reservation.order_ref,
                    item_id=reservation.item_id,
                    part_number=reservation.item.part_number,
                    site_id=reservation.site_id,
                    quantity_open=reservation.quantity_open,
                    quantity_short=short,
                )
            )
    return result


# --- Genealogy ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ComponentUse:
    """A component lot (or an untracked component) consumed by an order."""

    item_id: int
    part_number: str
    lot_id: int | None
    lot_number: str
    parent_lot_id: int | None
    quantity: Decimal


@dataclass
class AsBuilt:
    """What an order produced and what went into it, from its ledger rows."""

    order_ref: str
    outputs: list[tuple[int, str, int | None, str, Decimal]] = field(default_factory=list)
    components: list[ComponentUse] = field(default_factory=list)

    def components_of(self, parent_lot_id: int) -> list[ComponentUse]:
        """Components recorded against that finished lot / serial, plus the order-level ones."""
        return [c for c in self.components if c.parent_lot_id in (parent_lot_id, None)]


def order_as_built(*, order_ref: str) -> AsBuilt:
    """The as-built record of an order: finished lots / serials received, and the component
    lots consumed (net of returns), each against the finished lot it went into when the
    consumption named one."""
    record = AsBuilt(order_ref=order_ref)
    rows = InventoryTransaction.objects.filter(order_ref=order_ref)
    for item_id, part, lot_id, lot_number, total in (
        rows.filter(kind__in=[TransactionKind.FINISHED_RECEIPT, TransactionKind.FINISHED_REVERSAL])
        .values_list("item_id", "item__part_number", "lot_id", "lot__number")
        .annotate(total=Sum("quantity"))
        .order_by("item__part_number", "lot__number")
    ):
        if not exact(total):
            continue  # received, then taken back by a correction
        record.outputs.append((item_id, part, lot_id, lot_number or "", exact(total)))
    for item_id, part, lot_id, lot_number, parent_id, total in (
        rows.filter(kind__in=[TransactionKind.ISSUE, TransactionKind.RETURN])
        .values_list("item_id", "item__part_number", "lot_id", "lot__number", "parent_lot_id")
        .annotate(total=Sum("quantity"))
        .order_by("item__part_number", "lot__number")
    ):
        if exact(total):
            record.components.append(
                ComponentUse(item_id, part, lot_id, lot_number or "", parent_id, -exact(total))
            )
    return record


def lot_where_used(*, lot: Lot) -> list[tuple[str, int | None]]:
    """Where a component lot went: (order_ref, finished lot id or None for order-level)."""
    return list(
        InventoryTransaction.objects.filter(lot=lot, kind=TransactionKind.ISSUE)
        .values_list("order_ref", "parent_lot_id")
        .distinct()
        .order_by("order_ref")
    )
