"""Stock movements: receipts, issues and returns to orders, finished-goods receipts and
their reversal, scrap, transfers, and batches of issues. Each checks its input, then posts
through posting._post_stock.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.db import transaction

from ..choices import INCREASING_KINDS, ORDER_KINDS, TransactionKind
from ..exceptions import InvalidMovement
from ..fields import show
from ..models import InventoryTransaction, Item, Location, Lot
from .checks import (
    _check_location,
    _check_order_ref,
    _check_serial_quantity,
    clean_quantity,
    resolve_item,
    resolve_lot,
)
from .posting import Actor, Source, _Move, _post_stock


def _single(
    kind: str,
    *,
    item: Item | str,
    quantity,
    location: Location,
    lot: Lot | str | None,
    source: Source,
    actor: Actor,
    order_ref: str = "",
    parent_lot: Lot | None = None,
    reason: str = "",
    occurred_at: datetime | None = None,
    create_lot: bool = False,
    expiry_date: date | None = None,
) -> InventoryTransaction:
    item = resolve_item(item)
    location = _check_location(location)
    quantity = clean_quantity(quantity, unit=item.unit)
    _check_serial_quantity(item, quantity)
    order_ref = _check_order_ref(order_ref, required=kind in ORDER_KINDS)
    if parent_lot is not None and (not isinstance(parent_lot, Lot) or parent_lot.pk is None):
        raise InvalidMovement("The parent lot does not exist.", code="lot_unknown")
    lot = resolve_lot(item, lot, create=create_lot, expiry_date=expiry_date)
    sign = 1 if kind in INCREASING_KINDS else -1
    move = _Move(
        kind=kind,
        item=item,
        lot=lot,
        location=location,
        quantity=sign * quantity,
        order_ref=order_ref,
        parent_lot=parent_lot,
        reason=reason,
    )
    return _post_stock([move], source=source, actor=actor, occurred_at=occurred_at)[0]


@transaction.atomic
def inventory_receive(
    *,
    item: Item | str,
    quantity: Decimal,
    location: Location,
    source: Source,
    actor: Actor,
    lot: Lot | str | None = None,
    expiry_date: date | None = None,
    reason: str = "",
    occurred_at: datetime | None = None,
) -> InventoryTransaction:
    """Stock arrives (purchase, ERP transfer): + on-hand; a new lot number creates the lot."""
    return _single(
        TransactionKind.RECEIPT,
        item=item,
        quantity=quantity,
        location=location,
        lot=lot,
        source=source,
        actor=actor,
        reason=reason,
        occurred_at=occurred_at,
        create_lot=True,
        expiry_date=expiry_date,
    )


@transaction.atomic
def inventory_issue(
    *,
    item: Item | str,
    quantity: Decimal,
    location: Location,
    order_ref: str,
    source: Source,
    actor: Actor,
    lot: Lot | str | None = None,
    parent_lot: Lot | None = None,
    reason: str = "",
    occurred_at: datetime | None = None,
) -> InventoryTransaction:
    """Material consumed by (issued to) an order: - on-hand, + the order's WIP.

    Relieves the order's open reservations of the item. parent_lot records genealogy: the
    finished lot or serial the component went into.
    """
    return _single(
        TransactionKind.ISSUE,
        item=item,
        quantity=quantity,
        location=location,
        lot=lot,
        source=source,
        actor=actor,
        order_ref=order_ref,
        parent_lot=parent_lot,
        reason=reason,
        occurred_at=occurred_at,
    )


@transaction.atomic
def inventory_return(
    *,
    item: Item | str,
    quantity: Decimal,
    location: Location,
    order_ref: str,
    source: Source,
    actor: Actor,
    lot: Lot | str | None = None,
    reason: str = "",
    occurred_at: datetime | None = None,
) -> InventoryTransaction:
    """Material comes back from an order: + on-hand, - the order's WIP."""
    return _single(
        TransactionKind.RETURN,
        item=item,
        quantity=quantity,
        location=location,
        lot=lot,
        source=source,
        actor=actor,
        order_ref=order_ref,
        reason=reason,
        occurred_at=occurred_at,
    )


@transaction.atomic
def inventory_receive_finished(
    *,
    item: Item | str,
    quantity: Decimal,
    location: Location,
    order_ref: str,
    source: Source,
    actor: Actor,
    lot: Lot | str | None = None,
    expiry_date: date | None = None,
    reason: str = "",
    occurred_at: datetime | None = None,
) -> InventoryTransaction:
    """Finished (or semi-finished) goods reported by an order: + on-hand at the location."""
    return _single(
        TransactionKind.FINISHED_RECEIPT,
        item=item,
        quantity=quantity,
        location=location,
        lot=lot,
        source=source,
        actor=actor,
        order_ref=order_ref,
        reason=reason,
        occurred_at=occurred_at,
        create_lot=True,
        expiry_date=expiry_date,
    )


@transaction.atomic
def inventory_reverse_finished(
    *,
    receipt: InventoryTransaction,
    quantity: Decimal,
    source: Source,
    actor: Actor,
    reason: str = "",
    occurred_at: datetime | None = None,
) -> InventoryTransaction:
    """Take back (part of) a finished-goods receipt: - on-hand at its item, lot and location.

    Refused (insufficient_stock) when that stock has meanwhile been moved or consumed, unless
    the location allows negative stock.
    """
    if receipt.kind != TransactionKind.FINISHED_RECEIPT:
        raise InvalidMovement(
            "Only a finished-goods receipt can be reversed this way.",
            code="not_a_finished_receipt",
            fields={"kind": receipt.kind},
        )
    quantity = clean_quantity(quantity, unit=receipt.item.unit)
    if quantity > receipt.quantity:
        raise InvalidMovement(
            f"Cannot take back {show(quantity)}: the receipt was {show(receipt.quantity)}.",
            code="reversal_exceeds_receipt",
            fields={"quantity": str(quantity)},
        )
    move = _Move(
        kind=TransactionKind.FINISHED_REVERSAL,
        item=receipt.item,
        lot=receipt.lot,
        location=receipt.location,
        quantity=-quantity,
        order_ref=receipt.order_ref,
        reason=reason,
    )
    return _post_stock([move], source=source, actor=actor, occurred_at=occurred_at)[0]


@transaction.atomic
def inventory_scrap(
    *,
    item: Item | str,
    quantity: Decimal,
    location: Location,
    reason: str,
    source: Source,
    actor: Actor,
    lot: Lot | str | None = None,
    order_ref: str = "",
    occurred_at: datetime | None = None,
) -> InventoryTransaction:
    """Stock written off (reason required): - on-hand."""
    if not (reason or "").strip():
        raise InvalidMovement(
            "A scrap write-off needs a reason.",
            code="reason_required",
            fields={"reason": "required"},
        )
    return _single(
        TransactionKind.SCRAP,
        item=item,
        quantity=quantity,
        location=location,
        lot=lot,
        source=source,
        actor=actor,
        order_ref=order_ref,
        reason=reason,
        occurred_at=occurred_at,
    )


@transaction.atomic
def inventory_transfer(
    *,
    item: Item | str,
    quantity: Decimal,
    from_location: Location,
    to_location: Location,
    source: Source,
    actor: Actor,
    lot: Lot | str | None = None,
    reason: str = "",
    occurred_at: datetime | None = None,
) -> tuple[InventoryTransaction, InventoryTransaction]:
    """Move stock between locations: two rows (out, in) of one posting.

    Putting material at a production input location is this movement; stock_posted
    (inventory.signals) lets execution consume "Available at location" lines on it.
    """
    item = resolve_item(item)
    from_location = _check_location(from_location, "from_location")
    to_location = _check_location(to_location, "to_location")
    if from_location.pk == to_location.pk:
        raise InvalidMovement(
            "A transfer needs two different locations.",
            code="same_location",
            fields={"to_location": to_location.code},
        )
    quantity = clean_quantity(quantity, unit=item.unit)
    _check_serial_quantity(item, quantity)
    lot = resolve_lot(item, lot)
    moves = [
        _Move(TransactionKind.TRANSFER_OUT, item, lot, from_location, -quantity, reason=reason),
        _Move(TransactionKind.TRANSFER_IN, item, lot, to_location, quantity, reason=reason),
    ]
    out, into = _post_stock(moves, source=source, actor=actor, occurred_at=occurred_at)
    return out, into


@dataclass(frozen=True)
class MovementInput:
    """One line of a batch of issues (a picking list journal, a backflush)."""

    item: Item | str
    quantity: Decimal
    location: Location
    lot: Lot | str | None = None
    parent_lot: Lot | None = None
    reason: str = ""


@transaction.atomic
def inventory_issue_many(
    *,
    lines: Sequence[MovementInput],
    order_ref: str,
    source: Source,
    actor: Actor,
    occurred_at: datetime | None = None,
) -> list[InventoryTransaction]:
    """Several issues to one order in one posting: all are written, or none."""
    order_ref = _check_order_ref(order_ref, required=True)
    moves = []
    for line in lines:
        item = resolve_item(line.item)
        location = _check_location(line.location)
        quantity = clean_quantity(line.quantity, unit=item.unit)
        _check_serial_quantity(item, quantity)
        lot = resolve_lot(item, line.lot)
        moves.append(
            _Move(
                TransactionKind.ISSUE,
                item,
                lot,
                location,
                -quantity,
                order_ref=order_ref,
                parent_lot=line.parent_lot,
                reason=line.reason,
            )
        )
    if not moves:
        raise InvalidMovement("Nothing to issue.", code="lines_missing")
    return _post_stock(moves, source=source, actor=actor, occurred_at=occurred_at)
