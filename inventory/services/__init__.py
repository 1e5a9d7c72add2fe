"""Every rule that changes stock: movements, reservations, adjustment journals.

Each public service is keyword-only and atomic and refuses with an ApplicationError subclass
carrying a machine-readable code, before anything is written. The invariant they keep:

    OnHand(item, lot, location).quantity == sum(ledger stock rows of that key)
    Reservation.quantity_open            == sum(ledger reservation rows of that reservation)

Lock order, everywhere (so two postings never wait on each other in a cycle): serial lot
rows, then on-hand rows (one query, ordered by pk), then reservation rows (by item, then
pk).

One module per subject: checks (input checks), posting (the ledger posting core, actors and
sources), movements, reservations, journals (adjustment journals), verification. Callers
import from the package: `from inventory.services import X`.
"""

from .checks import MAX_QUANTITY, clean_quantity, negative_stock_allowed, resolve_item, resolve_lot
from .journals import (
    JournalLineInput,
    adjustment_journal_create,
    adjustment_journal_delete,
    adjustment_journal_line_add,
    adjustment_journal_line_check,
    adjustment_journal_line_delete,
    adjustment_journal_line_save,
    adjustment_journal_post,
    adjustment_journal_save,
)
from .movements import (
    MovementInput,
    inventory_issue,
    inventory_issue_many,
    inventory_receive,
    inventory_receive_finished,
    inventory_return,
    inventory_reverse_finished,
    inventory_scrap,
    inventory_transfer,
)
from .posting import SYSTEM, Key, Source
from .reservations import reservation_free_for_order, reservation_set
from .verification import Difference, VerificationReport, inventory_verify

__all__ = [
    "MAX_QUANTITY",
    "SYSTEM",
    "Difference",
    "JournalLineInput",
    "Key",
    "MovementInput",
    "Source",
    "VerificationReport",
    "adjustment_journal_create",
    "adjustment_journal_delete",
    "adjustment_journal_line_add",
    "adjustment_journal_line_check",
    "adjustment_journal_line_delete",
    "adjustment_journal_line_save",
    "adjustment_journal_post",
    "adjustment_journal_save",
    "clean_quantity",
    "inventory_issue",
    "inventory_issue_many",
    "inventory_receive",
    "inventory_receive_finished",
    "inventory_return",
    "inventory_reverse_finished",
    "inventory_scrap",
    "inventory_transfer",
    "inventory_verify",
    "negative_stock_allowed",
    "reservation_free_for_order",
    "reservation_set",
    "resolve_item",
    "resolve_lot",
]
