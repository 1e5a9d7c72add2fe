"""Adjustment journals: stock corrections with a reason, kept as drafts while they are
edited and posted into the ledger all at once; a posted journal never changes.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django_fsm import can_proceed
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from ..choices import JournalStatus, SourceType, Tracking, TransactionKind
from ..exceptions import ApplicationError, JournalPosted
from ..models import AdjustmentJournal, AdjustmentJournalLine, Item, Location, Lot
from .checks import (
    _check_location,
    _check_order_ref,
    _check_serial_quantity,
    clean_quantity,
    resolve_item,
    resolve_lot,
)
from .posting import Actor, Source, _Move, _post_stock


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
    if not can_proceed(journal.post):
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
    journal.post(user=actor.user, label=actor.label[:64], at=timezone.now(), posting_id=posting_id)
    journal._change_reason = "posted"
    journal.save()
    return journal
