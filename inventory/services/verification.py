"""inventory_verify: every balance compared with the sum of its ledger rows (read-only).

OnHand(item, lot, location).quantity == sum(ledger stock rows of that key)
Reservation.quantity_open            == sum(ledger reservation rows of that reservation)
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Sum

from ..choices import RESERVATION_KINDS, STOCK_KINDS
from ..fields import ZERO, exact, show
from ..models import InventoryTransaction, OnHand, Reservation


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
