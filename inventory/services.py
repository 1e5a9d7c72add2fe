"""Every rule that changes stock: movements, reservations, adjustment journals.

Each public service is keyword-only and atomic and refuses with an ApplicationError subclass
carrying a machine-readable code, before anything is written. The invariant they keep:

    OnHand(item, lot, location).quantity == sum(ledger stock rows of that key)
    Reservation.quantity_open            == sum(ledger reservation rows of that reservation)

Lock order, everywhere (so two postings never wait on each other in a cycle): serial lot
rows, then on-hand rows (one query, ordered by pk), then reservation rows (by item, then
pk).
"""

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Protocol

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F, Q, Sum
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from .choices import (
    INCREASING_KINDS,
    ORDER_KINDS,
    RESERVATION_KINDS,
    STOCK_KINDS,
    JournalStatus,
    SourceType,
    Tracking,
    TransactionKind,
)
from .exceptions import (
    ApplicationError,
    InsufficientStock,
    InvalidMovement,
    JournalPosted,
    MissingMasterData,
)
from .fields import QUANTITY_DIGITS, QUANTITY_PLACES, ZERO, exact, show
from .models import (
    AdjustmentJournal,
    AdjustmentJournalLine,
    InventoryTransaction,
    Item,
    Location,
    Lot,
    OnHand,
    Reservation,
    Site,
    UnitOfMeasure,
    validate_quantity_for_unit,
)
from .signals import stock_posted

MAX_QUANTITY = Decimal(10) ** (QUANTITY_DIGITS - QUANTITY_PLACES)

Key = tuple[int, int | None, int]  # (item_id, lot_id, location_id)


# --- Who and what -------------------------------------------------------------------------


class Actor(Protocol):
    """Who causes a movement; orders.services.Actor fits, so does InventoryActor."""

    @property
    def user(self) -> AbstractBaseUser | None: ...

    @property
    def label(self) -> str: ...


@dataclass(frozen=True)
class InventoryActor:
    """A signed-in user or a named process, for callers inside inventory (admin, commands)."""

    user: AbstractBaseUser | None = None
    process: str = ""

    @property
    def label(self) -> str:
        if self.user is not None:
            return f"user:{self.user.get_username()}"
        return f"process:{self.process or 'inventory'}"


SYSTEM = InventoryActor(process="inventory")


@dataclass(frozen=True)
class Source:
    """The document a movement came from: a type (SourceType) and that document's id."""

    type: str
    id: str

    def __post_init__(self):
        if self.type not in SourceType.values:
            raise InvalidMovement(
                f"Unknown source type {self.type!r}.",
                code="source_type_unknown",
                fields={"source_type": self.type},
            )
        if not str(self.id).strip():
            raise InvalidMovement(
                "A movement must name the document it came from.",
                code="source_missing",
                fields={"source_id": "required"},
            )
        object.__setattr__(self, "id", str(self.id).strip())


# --- Input checks (no writes) -------------------------------------------------------------


def clean_quantity(
    value, *, unit: UnitOfMeasure, field_name: str = "quantity", signed: bool = False
) -> Decimal:
    """A non-zero Decimal within the unit's decimals; positive unless signed. Floats refused."""
    if isinstance(value, bool | float) or not isinstance(value, Decimal | int | str):
        raise InvalidMovement(
            f"{field_name} must be a Decimal, not {type(value).__name__}.",
            code="quantity_not_decimal",
            fields={field_name: repr(value)},
        )
    try:
        quantity = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except InvalidOperation:
        raise InvalidMovement(
            f"{value!r} is not a quantity.", code="quantity_invalid", fields={field_name: value}
        ) from None
    if not quantity.is_finite():
        raise InvalidMovement(
            f"{value!r} is not a quantity.",
            code="quantity_invalid",
            fields={field_name: str(value)},
        )
    if quantity == 0:
        raise InvalidMovement(
            f"{field_name} must not be zero.", code="quantity_zero", fields={field_name: "0"}
        )
    if quantity < 0 and not signed:
        raise InvalidMovement(
            f"{field_name} must be above zero (the movement's kind gives its direction).",
            code="quantity_not_positive",
            fields={field_name: str(quantity)},
        )
    if abs(quantity) >= MAX_QUANTITY:
        raise InvalidMovement(
            f"{quantity} is too large.", code="quantity_too_large", fields={field_name: str(value)}
        )
    try:
        validate_quantity_for_unit(quantity, unit, field_name)
    except ValidationError:
        raise InvalidMovement(
            f"{quantity} has more decimals than {unit.code} allows ({unit.decimal_places}).",
            code="quantity_precision",
            fields={field_name: str(quantity)},
        ) from None
    return quantity


def resolve_item(item: Item | str) -> Item:
    """The item itself, or the one with that part number; unknown -> MissingMasterData."""
    if isinstance(item, Item):
        if item.pk is None:
            raise MissingMasterData("The item is not saved.", code="item_unknown")
        return item
    if isinstance(item, str) and item.strip():
        found = Item.objects.select_related("unit").filter(part_number=item.strip()).first()
        if found is not None:
            return found
    raise MissingMasterData(
        f"Item {item!r} does not exist.", code="item_unknown", fields={"item": str(item)}
    )


def _check_location(location: Location | None, name: str = "location") -> Location:
    if not isinstance(location, Location) or location.pk is None:
        raise MissingMasterData(
            f"The {name.replace('_', ' ')} does not exist.",
            code="location_unknown",
            fields={name: getattr(location, "code", None) or "unknown"},
        )
    return location


def resolve_lot(
    item: Item,
    lot: Lot | str | None,
    *,
    create: bool = False,
    expiry_date: date | None = None,
    field_name: str = "lot",
) -> Lot | None:
    """The lot / serial a movement of item needs: required iff the item is tracked."""
    if item.tracking == Tracking.NONE:
        if lot not in (None, ""):
            raise InvalidMovement(
                f"Item {item.part_number} is not lot or serial tracked: no lot may be given.",
                code="lot_not_allowed",
                fields={field_name: str(lot)},
            )
        return None
    what = "serial number" if item.tracking == Tracking.SERIAL else "lot"
    if lot is None or (isinstance(lot, str) and not lot.strip()):
        raise InvalidMovement(
            f"Item {item.part_number} is {item.get_tracking_display().lower()}-tracked: "
            f"every movement needs a {what}.",
            code="lot_required",
            fields={field_name: "required"},
        )
    if isinstance(lot, Lot):
        if lot.pk is None:
            raise InvalidMovement("The lot is not saved.", code="lot_unknown")
        if lot.item_id != item.pk:
            raise InvalidMovement(
                f"{what.capitalize()} {lot.number} belongs to another item.",
                code="lot_item_mismatch",
                fields={field_name: lot.number},
            )
        return lot
    number = str(lot).strip()
    if create:
        found, _ = Lot.objects.get_or_create(
            item=item, number=number, defaults={"expiry_date": expiry_date}
        )
        return found
    found = Lot.objects.filter(item=item, number=number).first()
    if found is None:
        raise InvalidMovement(
            f"{what.capitalize()} {number} of item {item.part_number} does not exist.",
            code="lot_unknown",
            fields={field_name: number},
        )
    return found


def _check_serial_quantity(item: Item, quantity: Decimal) -> None:
    if item.tracking == Tracking.SERIAL and abs(quantity) != 1:
        raise InvalidMovement(
            f"Item {item.part_number} is serial-tracked: it moves one unit per serial number.",
            code="serial_quantity",
            fields={"quantity": str(quantity)},
        )


def _check_order_ref(order_ref: str, *, required: bool) -> str:
    order_ref = (order_ref or "").strip()
    if required and not order_ref:
        raise InvalidMovement(
            "The movement must name its production order.",
            code="order_ref_required",
            fields={"order_ref": "required"},
        )
    if len(order_ref) > 64:
        raise InvalidMovement("The order reference is too long.", code="order_ref_invalid")
    return order_ref


def negative_stock_allowed(item: Item, location: Location) -> bool:
    """Whether stock of the item may go below zero at the location (never for serials)."""
    if item.tracking == Tracking.SERIAL:
        return False
    return item.allow_negative_stock or location.allow_negative_stock


def _increment(field_name: str, current: Decimal, delta: Decimal):
    """The new value of a balance whose row this transaction has locked.

    PostgreSQL adds in the database (F(), exact NUMERIC). SQLite stores decimals as binary
    floats, so F() arithmetic there would drift (0.3 - 0.1 - 0.2 < 0 breaks the CHECK); its
    writers are serialized by the database lock anyway, so the exact Decimal is written.
    """
    if connection.vendor == "postgresql":
        return F(field_name) + delta
    return current + delta


# --- The posting core ---------------------------------------------------------------------


@dataclass
class _Move:
    kind: str
    item: Item
    lot: Lot | None
    location: Location
    quantity: Decimal  # signed delta to on-hand
    order_ref: str = ""
    parent_lot: Lot | None = None
    reason: str = ""

    @property
    def key(self) -> Key:
        return (self.item.pk, self.lot.pk if self.lot else None, self.location.pk)


def _keys_q(keys: Iterable[Key]) -> Q:
    q = Q()
    for item_id, lot_id, location_id in keys:
        lot_q = Q(lot__isnull=True) if lot_id is None else Q(lot_id=lot_id)
        q |= Q(item_id=item_id, location_id=location_id) & lot_q
    return q


@dataclass
class _Row:
    pk: int
    quantity: Decimal


def _lock_rows(keys: Iterable[Key]) -> dict[Key, _Row]:
    rows = (
        OnHand.objects.select_for_update()
        .filter(_keys_q(keys))
        .order_by("pk")
        .values_list("pk", "item_id", "lot_id", "location_id", "quantity")
    )
    return {(item, lot, location): _Row(pk, qty) for pk, item, lot, location, qty in rows}


def _insufficient(move: _Move, on_hand: Decimal, net: Decimal) -> InsufficientStock:
    lot = f" lot {move.lot.number}" if move.lot else ""
    return InsufficientStock(
        f"Not enough {move.item.part_number}{lot} at {move.location.code}: "
        f"{show(on_hand)} on hand, {show(-net)} asked.",
        fields={
            "item": move.item.part_number,
            "location": move.location.code,
            "lot": move.lot.number if move.lot else None,
            "on_hand": str(on_hand),
            "requested": str(-net),
        },
    )


def _lock_on_hand(nets: dict[Key, Decimal], moves: dict[Key, _Move]) -> dict[Key, _Row]:
    """Lock the on-hand rows of every key (creating missing ones), in pk order."""
    rows = _lock_rows(nets)
    missing = [key for key in nets if key not in rows]
    if missing:
        for key in missing:
            move = moves[key]
            if nets[key] < 0 and not negative_stock_allowed(move.item, move.location):
                raise _insufficient(move, ZERO, nets[key])
        # ON CONFLICT DO NOTHING: a concurrent posting may create the same row first.
        OnHand.objects.bulk_create(
            [
                OnHand(
                    item=moves[key].item,
                    lot=moves[key].lot,
                    location=moves[key].location,
                    quantity=ZERO,
                    allow_negative=negative_stock_allowed(moves[key].item, moves[key].location),
                    is_serial=moves[key].item.tracking == Tracking.SERIAL,
                )
                for key in missing
            ],
            ignore_conflicts=True,
        )
        rows.update(_lock_rows(missing))
    return rows


def _check_serials(moves: Sequence[_Move]) -> None:
    """A serial number is in stock at most once, anywhere (its lot row is the lock)."""
    nets: dict[int, Decimal] = defaultdict(Decimal)
    numbers: dict[int, str] = {}
    for move in moves:
        if move.item.tracking == Tracking.SERIAL and move.lot is not None:
            nets[move.lot.pk] += move.quantity
            numbers[move.lot.pk] = move.lot.number
    if not nets:
        return
    list(Lot.objects.select_for_update().filter(pk__in=nets).order_by("pk").values_list("pk"))
    totals = dict(
        OnHand.objects.filter(lot_id__in=nets)
        .values_list("lot_id")
        .annotate(total=Sum("quantity"))
        .order_by()
    )
    for lot_id, net in nets.items():
        if exact(totals.get(lot_id)) + net > 1:
            raise InvalidMovement(
                f"Serial number {numbers[lot_id]} is already in stock.",
                code="serial_in_stock",
                fields={"lot": numbers[lot_id]},
            )


def _post_stock(
    moves: Sequence[_Move],
    *,
    source: Source,
    actor: Actor,
    occurred_at: datetime | None = None,
    posting_id: uuid.UUID | None = None,
) -> list[InventoryTransaction]:
    """Apply stock movements to on-hand and write their ledger rows; all or nothing."""
    now = timezone.now()
    posting_id = posting_id or uuid.uuid4()
    _check_serials(moves)
    nets: dict[Key, Decimal] = defaultdict(Decimal)
    by_key: dict[Key, _Move] = {}
    for move in moves:
        nets[move.key] += move.quantity
        by_key.setdefault(move.key, move)
    rows = _lock_on_hand(nets, by_key)
    updates = []
    for key, net in nets.items():
        move, row = by_key[key], rows[key]
        new = row.quantity + net
        allowed = negative_stock_allowed(move.item, move.location)
        if net < 0 and new < 0 and not allowed:
            raise _insufficient(move, row.quantity, net)
        if net != 0:
            updates.append((row, net, allowed or new < 0))
    # Every check passed: from here on, only writes.
    for row, net, allow_negative in updates:
        OnHand.objects.filter(pk=row.pk).update(
            quantity=_increment("quantity", row.quantity, net),
            allow_negative=allow_negative,
            updated_at=now,
        )
    entries = [
        InventoryTransaction(
            kind=move.kind,
            item=move.item,
            lot=move.lot,
            location=move.location,
            quantity=move.quantity,
            unit_id=move.item.unit_id,
            order_ref=move.order_ref,
            parent_lot=move.parent_lot,
            source_type=source.type,
            source_id=source.id,
            posting_id=posting_id,
            reason=move.reason[:200],
            user=actor.user,
            actor=actor.label[:64],
            occurred_at=occurred_at or now,
            recorded_at=now,
        )
        for move in moves
    ]
    if len(entries) == 1:
        entries[0].save(force_insert=True)
    else:
        InventoryTransaction.objects.bulk_create(entries)
    # Reservations are locked by (item, id) everywhere, so two postings never cross.
    for entry in sorted(entries, key=lambda e: e.item_id):
        if entry.kind == TransactionKind.ISSUE:
            _relieve_reservations(entry, actor=actor, now=now)
    stock_posted.send(sender=InventoryTransaction, entries=entries)
    return entries


def _relieve_reservations(entry: InventoryTransaction, *, actor: Actor, now: datetime) -> None:
    """An issue to an order consumes that order's open reservations of the item, oldest first."""
    remaining = -entry.quantity
    reservations = (
        Reservation.objects.select_for_update()
        .filter(order_ref=entry.order_ref, item_id=entry.item_id, quantity_open__gt=0)
        .order_by("pk")
    )
    rows = []
    for reservation in reservations:
        take = min(reservation.quantity_open, remaining)
        if take <= 0:
            break
        Reservation.objects.filter(pk=reservation.pk).update(
            quantity_open=_increment("quantity_open", reservation.quantity_open, -take),
            quantity_consumed=_increment("quantity_consumed", reservation.quantity_consumed, take),
            quantity_short=max(
                ZERO, min(reservation.quantity_short, reservation.quantity_open - take)
            ),
            updated_at=now,
        )
        rows.append(
            _reservation_row(
                reservation,
                -take,
                unit_id=entry.unit_id,
                source=Source(entry.source_type, entry.source_id),
                actor=actor,
                reason=f"consumed by issue #{entry.pk}",
                posting_id=entry.posting_id,
                now=now,
            )
        )
        remaining -= take
    if rows:
        InventoryTransaction.objects.bulk_create(rows)


def _reservation_row(
    reservation: Reservation,
    delta: Decimal,
    *,
    unit_id: int,
    source: Source,
    actor: Actor,
    reason: str,
    posting_id: uuid.UUID,
    now: datetime,
) -> InventoryTransaction:
    return InventoryTransaction(
        kind=TransactionKind.RESERVE if delta > 0 else TransactionKind.UNRESERVE,
        item_id=reservation.item_id,
        reservation=reservation,
        quantity=delta,
        unit_id=unit_id,
        order_ref=reservation.order_ref,
        source_type=source.type,
        source_id=source.id,
        posting_id=posting_id,
        reason=reason[:200],
        user=actor.user,
        actor=actor.label[:64],
        occurred_at=now,
        recorded_at=now,
    )


# --- Stock movements ----------------------------------------------------------------------


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


# --- Reservations -------------------------------------------------------------------------


def _site_cover(item_id: int, site_id: int, exclude_pk: int | None) -> Decimal:
    """On-hand at the site minus what other open reservations already hold there."""
    on_hand = (
        OnHand.objects.filter(item_id=item_id, location__warehouse__site_id=site_id).aggregate(
            total=Sum("quantity")
        )["total"]
        or ZERO
    )
    others = (
        Reservation.objects.filter(item_id=item_id, site_id=site_id, quantity_open__gt=0)
        .exclude(pk=exclude_pk)
        .aggregate(total=Sum("quantity_open"))["total"]
        or ZERO
    )
    return on_hand - others


@transaction.atomic
def reservation_set(
    *,
    item: Item | str,
    site: Site,
    quantity: Decimal,
    order_ref: str,
    source: Source,
    actor: Actor,
    allow_shortage: bool = True,
    less_consumed: bool = False,
    reason: str = "",
) -> Reservation:
    """Make the open reservation of one source line exactly `quantity` (0 frees it all).

    Reserves or frees the difference (a ledger row of kind reserve / unreserve), so calling
    it twice with the same quantity changes nothing. With less_consumed, quantity is the
    line's whole requirement and what issues already consumed is deducted (read under the
    reservation's lock). A quantity above what is available at the site is reserved anyway
    and recorded as a shortage (quantity_short), unless allow_shortage is False: then
    InsufficientStock.
    """
    item = resolve_item(item)
    if not isinstance(site, Site) or site.pk is None:
        raise MissingMasterData("The site does not exist.", code="site_unknown")
    zero = isinstance(quantity, Decimal | int) and not isinstance(quantity, bool) and quantity == 0
    target = ZERO if zero else clean_quantity(quantity, unit=item.unit)
    order_ref = _check_order_ref(order_ref, required=True)
    Reservation.objects.get_or_create(
        source_type=source.type,
        source_id=source.id,
        defaults={"item": item, "site": site, "order_ref": order_ref},
    )
    reservation = Reservation.objects.select_for_update().get(
        source_type=source.type, source_id=source.id
    )
    if (reservation.item_id, reservation.site_id, reservation.order_ref) != (
        item.pk,
        site.pk,
        order_ref,
    ):
        raise InvalidMovement(
            f"Source {source.type} {source.id} is already reserved for another item, site "
            "or order.",
            code="reservation_mismatch",
        )
    if less_consumed:
        target = max(ZERO, target - reservation.quantity_consumed)
    delta = target - reservation.quantity_open
    if delta == 0:
        return reservation
    cover = _site_cover(item.pk, site.pk, reservation.pk)
    short = target - max(ZERO, min(target, cover))
    if delta > 0 and short > 0 and not allow_shortage:
        raise InsufficientStock(
            f"Only {show(max(ZERO, cover))} {item.part_number} available at {site.code}; "
            f"{show(target)} asked.",
            code="insufficient_available",
            fields={"available": str(cover), "requested": str(target)},
        )
    now = timezone.now()
    Reservation.objects.filter(pk=reservation.pk).update(
        quantity_open=target,
        quantity_reserved=_increment(
            "quantity_reserved", reservation.quantity_reserved, max(delta, ZERO)
        ),
        quantity_freed=_increment("quantity_freed", reservation.quantity_freed, max(-delta, ZERO)),
        quantity_short=short,
        updated_at=now,
    )
    _reservation_row(
        reservation,
        delta,
        unit_id=item.unit_id,
        source=source,
        actor=actor,
        reason=reason or ("reserved" if delta > 0 else "freed"),
        posting_id=uuid.uuid4(),
        now=now,
    ).save(force_insert=True)
    reservation.refresh_from_db()
    return reservation


@transaction.atomic
def reservation_free_for_order(
    *, order_ref: str, actor: Actor, reason: str = "", source: Source | None = None
) -> Decimal:
    """Give everything still reserved for an order back to general inventory (seed 001,
    "Work Order Close"); returns the quantity freed. Nothing reserved: nothing written."""
    order_ref = _check_order_ref(order_ref, required=True)
    source = source or Source(SourceType.PRODUCTION_ORDER, order_ref)
    reservations = list(
        Reservation.objects.select_for_update(of=("self",))
        .filter(order_ref=order_ref, quantity_open__gt=0)
        .select_related("item")
        .order_by("item_id", "pk")
    )
    now = timezone.now()
    posting_id = uuid.uuid4()
    rows, total = [], ZERO
    for reservation in reservations:
        amount = reservation.quantity_open
        Reservation.objects.filter(pk=reservation.pk).update(
            quantity_open=ZERO,
            quantity_freed=_increment("quantity_freed", reservation.quantity_freed, amount),
            quantity_short=ZERO,
            updated_at=now,
        )
        rows.append(
            _reservation_row(
                reservation,
                -amount,
                unit_id=reservation.item.unit_id,
                source=source,
                actor=actor,
                reason=reason or "freed",
                posting_id=posting_id,
                now=now,
            )
        )
        total += amount
    if rows:
        InventoryTransaction.objects.bulk_create(rows)
    return total


# --- Adjustment journals ------------------------------------------------------------------


@dataclass(frozen=True)
class JournalLineInput:
    """One line for adjustment_journal_create."""

    item: Item | str
    location: Location
    quantity: Decimal
    lot: Lot | str | None = None
    order_ref: str = ""
    note: str = ""


def _require_draft(journal: AdjustmentJournal) -> None:
    if (
        journal.pk
        and AdjustmentJournal.objects.filter(pk=journal.pk, status=JournalStatus.POSTED).exists()
    ):
        raise JournalPosted(f"Adjustment journal {journal} is posted and cannot change.")


def adjustment_journal_line_check(
    *,
    item: Item | str,
    location: Location,
    quantity,
    lot: Lot | str | None = None,
    order_ref: str = "",
) -> tuple[Item, Lot | None, Decimal]:
    """Refuse a line that could not be posted (shape, lot, decimals); writes nothing.

    A positive line may name a lot number not seen before (stock found): it is created
    when the line is saved.
    """
    item = resolve_item(item)
    _check_location(location)
    quantity = clean_quantity(quantity, unit=item.unit, signed=True)
    _check_serial_quantity(item, quantity)
    _check_order_ref(order_ref, required=False)
    if isinstance(lot, str) and lot.strip() and quantity > 0 and item.tracking != Tracking.NONE:
        found = Lot.objects.filter(item=item, number=lot.strip()).first()
        return item, found, quantity
    return item, resolve_lot(item, lot), quantity


@transaction.atomic
def adjustment_journal_save(*, journal: AdjustmentJournal, actor: Actor) -> AdjustmentJournal:
    """Create or change a draft journal's header (reason required)."""
    _require_draft(journal)
    if not (journal.reason or "").strip():
        raise ApplicationError(
            "An adjustment journal needs a reason.",
            code="reason_required",
            fields={"reason": "required"},
        )
    journal.status = JournalStatus.DRAFT
    if journal.pk is None:
        journal.created_by = actor.user
        journal.created_by_actor = actor.label[:64]
    journal.save()
    return journal


@transaction.atomic
def adjustment_journal_line_save(
    *, line: AdjustmentJournalLine, lot_number: str = ""
) -> AdjustmentJournalLine:
    """Add or change a line of a draft journal (lot_number: a lot found, created if new)."""
    journal = AdjustmentJournal.objects.select_for_update().get(pk=line.journal_id)
    _require_draft(journal)
    lot_input = line.lot if line.lot_id else (lot_number or None)
    item, lot, quantity = adjustment_journal_line_check(
        item=line.item,
        location=line.location,
        quantity=line.quantity,
        lot=lot_input,
        order_ref=line.order_ref,
    )
    if lot is None and item.tracking != Tracking.NONE:
        lot = resolve_lot(item, lot_input, create=True)
    line.item, line.lot, line.quantity = item, lot, quantity
    line.order_ref = (line.order_ref or "").strip()
    if not line.line_number:
        last = journal.lines.order_by("-line_number").values_list("line_number", flat=True)
        line.line_number = (last.first() or 0) + 10
    line.save()
    return line


@transaction.atomic
def adjustment_journal_line_add(
    *,
    journal: AdjustmentJournal,
    item: Item | str,
    location: Location,
    quantity: Decimal,
    lot: Lot | str | None = None,
    order_ref: str = "",
    note: str = "",
) -> AdjustmentJournalLine:
    """Append a line to a draft journal."""
    item = resolve_item(item)
    line = AdjustmentJournalLine(
        journal=journal,
        item=item,
        location=location,
        quantity=quantity,
        order_ref=order_ref,
        note=note,
        lot=lot if isinstance(lot, Lot) else None,
    )
    return adjustment_journal_line_save(line=line, lot_number=lot if isinstance(lot, str) else "")


@transaction.atomic
def adjustment_journal_line_delete(*, line: AdjustmentJournalLine) -> None:
    """Remove a line from a draft journal."""
    journal = AdjustmentJournal.objects.select_for_update().get(pk=line.journal_id)
    _require_draft(journal)
    line.delete()


@transaction.atomic
def adjustment_journal_delete(*, journal: AdjustmentJournal) -> None:
    """Delete a draft journal (a posted one stays forever)."""
    journal = AdjustmentJournal.objects.select_for_update().get(pk=journal.pk)
    _require_draft(journal)
    journal.delete()


@transaction.atomic
def adjustment_journal_create(
    *,
    reason: str,
    lines: Sequence[JournalLineInput],
    actor: Actor,
    reason_code: str = "",
    description: str = "",
    audit_flag: bool = False,
    source: Source | None = None,
) -> AdjustmentJournal:
    """A draft journal with its lines (post it with adjustment_journal_post)."""
    journal = adjustment_journal_save(
        journal=AdjustmentJournal(
            reason=reason,
            reason_code=reason_code,
            description=description,
            audit_flag=audit_flag,
            source_type=source.type if source else "",
            source_id=source.id if source else "",
        ),
        actor=actor,
    )
    # Checked one by one, written at once: the nightly reconciliation books thousands of
    # lines into one journal, which is new, so nobody else numbers its lines meanwhile.
    rows = []
    for number, line in enumerate(lines, start=1):
        item, lot, quantity = adjustment_journal_line_check(
            item=line.item,
            location=line.location,
            quantity=line.quantity,
            lot=line.lot,
            order_ref=line.order_ref,
        )
        if lot is None and item.tracking != Tracking.NONE:
            lot = resolve_lot(item, line.lot, create=True)
        rows.append(
            AdjustmentJournalLine(
                journal=journal,
                line_number=number * 10,
                item=item,
                lot=lot,
                location=line.location,
                quantity=quantity,
                order_ref=(line.order_ref or "").strip(),
                note=line.note,
            )
        )
    bulk_create_with_history(rows, AdjustmentJournalLine)
    return journal


@transaction.atomic
def adjustment_journal_post(*, journal: AdjustmentJournal, actor: Actor) -> AdjustmentJournal:
    """Post every line into the ledger at once; the journal is immutable afterwards."""
    journal = AdjustmentJournal.objects.select_for_update().get(pk=journal.pk)
    if journal.status == JournalStatus.POSTED:
        raise JournalPosted(f"Adjustment journal {journal} is already posted.")
    lines = list(
        journal.lines.select_related("item__unit", "lot", "location").order_by(
            "item_id", "lot_id", "location_id", "line_number"
        )
    )
    if not lines:
        raise ApplicationError(f"Adjustment journal {journal} has no lines.", code="journal_empty")
    moves = []
    for line in lines:
        item, lot, quantity = adjustment_journal_line_check(
            item=line.item,
            location=line.location,
            quantity=line.quantity,
            lot=line.lot,
            order_ref=line.order_ref,
        )
        reason = " ".join(part for part in (journal.reason_code, journal.reason, line.note) if part)
        moves.append(
            _Move(
                TransactionKind.ADJUSTMENT,
                item,
                lot,
                line.location,
                quantity,
                order_ref=line.order_ref,
                reason=reason,
            )
        )
    posting_id = uuid.uuid4()
    entries = _post_stock(
        moves,
        source=Source(SourceType.ADJUSTMENT_JOURNAL, str(journal.pk)),
        actor=actor,
        posting_id=posting_id,
    )
    for line, entry in zip(lines, entries, strict=True):
        line.ledger_entry = entry
    bulk_update_with_history(lines, AdjustmentJournalLine, ["ledger_entry"])
    journal.status = JournalStatus.POSTED
    journal.posted_at = timezone.now()
    journal.posted_by = actor.user
    journal.posted_by_actor = actor.label[:64]
    journal.posting_id = posting_id
    journal._posting = True
    journal._change_reason = "posted"
    journal.save()
    return journal


# --- Verification -------------------------------------------------------------------------


@dataclass(frozen=True)
class Difference:
    """A balance that does not equal the sum of its ledger rows."""

    balance: str  # "on_hand" or "reservation"
    key: dict
    recorded: Decimal
    ledger: Decimal

    def __str__(self) -> str:
        key = ", ".join(f"{k}={v}" for k, v in self.key.items())
        return (
            f"{self.balance} [{key}]: recorded {show(self.recorded)}, "
            f"ledger {show(self.ledger)}, difference "
            f"{show(self.recorded - self.ledger)}"
        )


@dataclass
class VerificationReport:
    """What inventory_verify found."""

    on_hand_keys: int = 0
    reservations: int = 0
    differences: list[Difference] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differences and not self.problems


def _verify() -> VerificationReport:
    report = VerificationReport()
    ledger = {
        (item_id, lot_id, location_id): exact(total)
        for item_id, lot_id, location_id, total in InventoryTransaction.objects.filter(
            kind__in=[str(k) for k in STOCK_KINDS]
        )
        .values_list("item_id", "lot_id", "location_id")
        .annotate(total=Sum("quantity"))
        .order_by()
    }
    recorded = {}
    for item_id, lot_id, location_id, quantity, allow_negative in OnHand.objects.values_list(
        "item_id", "lot_id", "location_id", "quantity", "allow_negative"
    ).order_by():
        key = (item_id, lot_id, location_id)
        recorded[key] = quantity
        if quantity < 0 and not allow_negative:
            report.problems.append(f"on-hand {key} is negative ({show(quantity)})")
    for key in sorted(set(ledger) | set(recorded), key=lambda k: (k[0], k[1] or 0, k[2])):
        have, want = recorded.get(key, ZERO), ledger.get(key, ZERO)
        if have != want:
            report.differences.append(
                Difference(
                    "on_hand",
                    {"item": key[0], "lot": key[1], "location": key[2]},
                    have,
                    want,
                )
            )
    report.on_hand_keys = len(recorded)
    reserved = {
        pk: exact(total)
        for pk, total in InventoryTransaction.objects.filter(
            kind__in=[str(k) for k in RESERVATION_KINDS]
        )
        .values_list("reservation_id")
        .annotate(total=Sum("quantity"))
        .order_by()
    }
    for pk, open_qty, reserved_qty, consumed, freed in Reservation.objects.values_list(
        "pk", "quantity_open", "quantity_reserved", "quantity_consumed", "quantity_freed"
    ).order_by("pk"):
        report.reservations += 1
        want = reserved.pop(pk, ZERO)
        if open_qty != want:
            report.differences.append(Difference("reservation", {"id": pk}, open_qty, want))
        if open_qty < 0:
            report.problems.append(f"reservation {pk} is negative ({show(open_qty)})")
        if reserved_qty - consumed - freed != open_qty:
            report.problems.append(
                f"reservation {pk}: reserved {show(reserved_qty)} - consumed "
                f"{show(consumed)} - freed {show(freed)} != open "
                f"{show(open_qty)}"
            )
    for pk, total in reserved.items():
        report.differences.append(Difference("reservation", {"id": pk}, ZERO, total))
    return report


def inventory_verify() -> VerificationReport:
    """Compare every balance with the sum of its ledger rows (read-only).

    On PostgreSQL it reads one snapshot (REPEATABLE READ), so postings running meanwhile
    cannot show up as false differences.
    """
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            return _verify()
    return _verify()
