"""The ledger posting core: who posts (mesproject.actors.Actor), from what (Source), and
_post_stock, which locks and updates on-hand, writes the ledger rows, relieves an order's
reservations on issue and sends inventory.signals.stock_posted.

Lock order, everywhere (so two postings never wait on each other in a cycle): serial lot
rows, then on-hand rows (one query, ordered by pk), then reservation rows (by item, then
pk).
"""

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import connection
from django.db.models import F, Q, Sum
from django.utils import timezone

from mesproject.actors import Actor

from ..choices import SourceType, Tracking, TransactionKind
from ..exceptions import InsufficientStock, InvalidMovement
from ..fields import ZERO, exact, show
from ..models import InventoryTransaction, Item, Location, Lot, OnHand, Reservation
from ..signals import stock_posted
from .checks import negative_stock_allowed

Key = tuple[int, int | None, int]  # (item_id, lot_id, location_id)


# --- Who and what -------------------------------------------------------------------------


SYSTEM = Actor(process="inventory")


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
