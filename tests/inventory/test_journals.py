"""Adjustment journals: a header with lines, posted atomically with a reason and an audit
flag; posted journals never change."""

from decimal import Decimal

import pytest

from inventory import selectors, services
from inventory.choices import JournalStatus, SourceType, TransactionKind
from inventory.exceptions import ApplicationError, InsufficientStock, JournalPosted
from inventory.models import AdjustmentJournal, AdjustmentJournalLine, InventoryTransaction, Lot
from inventory.services import JournalLineInput, Source

D = Decimal


@pytest.fixture
def journal(item, lot_item, stock, stock2, receive, actor):
    receive(item, 10, stock)
    return services.adjustment_journal_create(
        reason="cycle count",
        reason_code="CC",
        audit_flag=True,
        actor=actor,
        lines=[
            JournalLineInput(item=item, location=stock, quantity=D(-3), note="3 missing"),
            JournalLineInput(item=item, location=stock2, quantity=D(2)),
            JournalLineInput(item=lot_item, location=stock, quantity=D("1.25"), lot="FOUND-1"),
        ],
    )


def test_create_draft_with_lines(journal):
    assert journal.status == JournalStatus.DRAFT
    assert journal.audit_flag
    assert list(journal.lines.values_list("line_number", flat=True)) == [10, 20, 30]
    assert Lot.objects.filter(number="FOUND-1").exists()
    assert InventoryTransaction.objects.filter(kind=TransactionKind.ADJUSTMENT).count() == 0


def test_post_writes_every_line_at_once(journal, item, lot_item, stock, stock2, actor):
    posted = services.adjustment_journal_post(journal=journal, actor=actor)
    assert posted.status == JournalStatus.POSTED and posted.posted_at
    assert posted.posted_by_actor == "process:tests"
    rows = InventoryTransaction.objects.filter(kind=TransactionKind.ADJUSTMENT)
    assert rows.count() == 3
    assert {r.posting_id for r in rows} == {posted.posting_id}
    assert {(r.source_type, r.source_id) for r in rows} == {
        (SourceType.ADJUSTMENT_JOURNAL, str(journal.pk))
    }
    assert all(r.reason.startswith("CC cycle count") for r in rows)
    assert all(line.ledger_entry_id for line in journal.lines.all())
    assert selectors.on_hand_quantity(item=item, location=stock) == D(7)
    assert selectors.on_hand_quantity(item=item, location=stock2) == D(2)
    assert selectors.on_hand_quantity(item=lot_item) == D("1.25")
    assert services.inventory_verify().ok


def test_post_is_all_or_nothing(item, stock, stock2, receive, actor):
    receive(item, 1, stock)
    journal = services.adjustment_journal_create(
        reason="count",
        actor=actor,
        lines=[
            JournalLineInput(item=item, location=stock2, quantity=D(5)),
            JournalLineInput(item=item, location=stock, quantity=D(-2)),
        ],
    )
    with pytest.raises(InsufficientStock):
        services.adjustment_journal_post(journal=journal, actor=actor)
    journal.refresh_from_db()
    assert journal.status == JournalStatus.DRAFT
    assert InventoryTransaction.objects.count() == 1
    assert selectors.on_hand_quantity(item=item, location=stock2) == 0


def test_lines_netting_to_zero_on_a_key_post(item, stock, actor):
    journal = services.adjustment_journal_create(
        reason="typo fixed",
        actor=actor,
        lines=[
            JournalLineInput(item=item, location=stock, quantity=D(4)),
            JournalLineInput(item=item, location=stock, quantity=D(-4)),
        ],
    )
    services.adjustment_journal_post(journal=journal, actor=actor)
    assert selectors.on_hand_quantity(item=item, location=stock) == 0
    assert services.inventory_verify().ok


def test_wip_adjustment_names_the_order(item, stock, receive, actor):
    receive(item, 10, stock)
    journal = services.adjustment_journal_create(
        reason="reconciliation: consumed more than reported",
        audit_flag=True,
        actor=actor,
        lines=[JournalLineInput(item=item, location=stock, quantity=D(-5), order_ref="WO-3")],
    )
    services.adjustment_journal_post(journal=journal, actor=actor)
    [balance] = selectors.wip_balances(order_refs=["WO-3"])
    assert (balance.adjusted, balance.balance) == (D(5), D(5))


def test_journal_needs_a_reason_and_lines(item, stock, actor):
    with pytest.raises(ApplicationError) as refused:
        services.adjustment_journal_create(reason=" ", actor=actor, lines=[])
    assert refused.value.code == "reason_required"
    empty = services.adjustment_journal_create(reason="x", actor=actor, lines=[])
    with pytest.raises(ApplicationError) as refused:
        services.adjustment_journal_post(journal=empty, actor=actor)
    assert refused.value.code == "journal_empty"


def test_bad_line_refused_before_anything_is_saved(item, stock, actor):
    journal = services.adjustment_journal_create(reason="x", actor=actor, lines=[])
    for quantity, code in ((D("0.5"), "quantity_precision"), (D(0), "quantity_zero")):
        with pytest.raises(ApplicationError) as refused:
            services.adjustment_journal_line_add(
                journal=journal, item=item, location=stock, quantity=quantity
            )
        assert refused.value.code == code
    with pytest.raises(ApplicationError) as refused:
        services.adjustment_journal_line_add(
            journal=journal, item="NOPE", location=stock, quantity=D(1)
        )
    assert refused.value.code == "item_unknown"
    assert not journal.lines.exists()


def test_posted_journal_is_immutable_through_services(journal, item, stock, actor):
    services.adjustment_journal_post(journal=journal, actor=actor)
    with pytest.raises(JournalPosted):
        services.adjustment_journal_post(journal=journal, actor=actor)
    with pytest.raises(JournalPosted):
        services.adjustment_journal_line_add(
            journal=journal, item=item, location=stock, quantity=D(1)
        )
    line = journal.lines.first()
    line.quantity = D(-4)
    with pytest.raises(JournalPosted):
        services.adjustment_journal_line_save(line=line)
    with pytest.raises(JournalPosted):
        services.adjustment_journal_line_delete(line=line)
    with pytest.raises(JournalPosted):
        services.adjustment_journal_delete(journal=journal)
    journal.reason = "rewritten"
    with pytest.raises(JournalPosted):
        services.adjustment_journal_save(journal=journal, actor=actor)


def test_posted_journal_is_immutable_through_the_orm(journal, actor):
    services.adjustment_journal_post(journal=journal, actor=actor)
    journal = AdjustmentJournal.objects.get(pk=journal.pk)
    journal.reason = "rewritten"
    with pytest.raises(JournalPosted):
        journal.save()
    with pytest.raises(JournalPosted):
        journal.delete()
    with pytest.raises(JournalPosted):
        AdjustmentJournal.objects.filter(pk=journal.pk).update(reason="x")
    with pytest.raises(JournalPosted):
        AdjustmentJournal.objects.all().delete()
    line = AdjustmentJournalLine.objects.filter(journal=journal).first()
    line.note = "edited"
    with pytest.raises(JournalPosted):
        line.save()
    with pytest.raises(JournalPosted):
        line.delete()
    with pytest.raises(JournalPosted):
        AdjustmentJournalLine.objects.filter(journal=journal).update(note="x")
    with pytest.raises(JournalPosted):
        AdjustmentJournalLine.objects.filter(journal=journal).delete()
    journal.refresh_from_db()
    assert journal.reason == "cycle count"


def test_status_posted_is_only_set_by_the_service(item, stock, actor):
    journal = services.adjustment_journal_create(reason="x", actor=actor, lines=[])
    journal.status = JournalStatus.POSTED
    with pytest.raises(JournalPosted):
        journal.save()


def test_draft_journal_can_be_deleted(journal):
    services.adjustment_journal_delete(journal=journal)
    assert not AdjustmentJournal.objects.exists()
    assert not AdjustmentJournalLine.objects.exists()


def test_journal_source_is_kept(item, stock, actor):
    journal = services.adjustment_journal_create(
        reason="nightly WIP reconciliation",
        actor=actor,
        source=Source(SourceType.ERP_MESSAGE, "wip-2026-11-22"),
        lines=[JournalLineInput(item=item, location=stock, quantity=D(1))],
    )
    assert (journal.source_type, journal.source_id) == ("erp_message", "wip-2026-11-22")


def test_a_long_journal_costs_a_bounded_number_of_statements_per_line(item, stock, receive, actor):
    """The nightly reconciliation books thousands of lines into one journal: each line was
    two savepoints, a journal lock, a numbering query, an INSERT and a history INSERT to
    create, and an UPDATE and another history INSERT to post (bench/reconciliation.py)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    receive(item, 1000, stock)

    def create_and_post(count: int) -> int:
        with CaptureQueriesContext(connection) as queries:
            journal = services.adjustment_journal_create(
                reason="reconciliation",
                actor=actor,
                lines=[
                    JournalLineInput(item=item, location=stock, quantity=D(-1))
                    for _ in range(count)
                ],
            )
            services.adjustment_journal_post(journal=journal, actor=actor)
        return len(queries)

    few, many = create_and_post(5), create_and_post(45)
    per_line = (many - few) / 40
    assert per_line <= 4, f"{per_line:.1f} statements per journal line"
    for journal in AdjustmentJournal.objects.filter(reason="reconciliation"):
        numbers = list(journal.lines.order_by("line_number").values_list("line_number", flat=True))
        assert numbers == [10 * n for n in range(1, len(numbers) + 1)]
        assert journal.lines.filter(ledger_entry__isnull=True).count() == 0
        assert journal.lines.model.history.filter(journal_id=journal.pk).count() == 2 * len(numbers)
    assert services.inventory_verify().ok
