"""Stock movements: every posting writes its ledger rows and on-hand in one step."""

from decimal import Decimal

import pytest

from inventory import selectors, services
from inventory.choices import SourceType, TransactionKind
from inventory.exceptions import InsufficientStock, InvalidMovement
from inventory.models import InventoryTransaction, Lot, OnHand
from inventory.services import Source
from inventory.signals import stock_posted

from .factories import LocationFactory

D = Decimal
REG = Source(SourceType.REGISTRATION, "reg-1")


def on_hand(item, location, lot=None):
    return selectors.on_hand_quantity(item=item, location=location, lot=lot)


def test_receipt_writes_one_row_and_on_hand(item, stock, receive, actor):
    entry = receive(item, "12", stock)
    assert entry.kind == TransactionKind.RECEIPT
    assert entry.quantity == D(12)
    assert entry.unit_id == item.unit_id
    assert (entry.source_type, entry.source_id) == (SourceType.ERP_MESSAGE, "receipt")
    assert entry.actor == "process:tests"
    assert on_hand(item, stock) == D(12)
    assert services.inventory_verify().ok


def test_issue_takes_stock_and_names_the_order(item, stock, receive, actor):
    receive(item, 10, stock)
    entry = services.inventory_issue(
        item=item, quantity=D(4), location=stock, order_ref="WO-1", source=REG, actor=actor
    )
    assert entry.quantity == D(-4)
    assert entry.order_ref == "WO-1"
    assert on_hand(item, stock) == D(6)


def test_issue_refused_beyond_on_hand_leaves_no_trace(item, stock, receive, actor):
    receive(item, 3, stock)
    before = InventoryTransaction.objects.count()
    with pytest.raises(InsufficientStock) as refused:
        services.inventory_issue(
            item=item, quantity=D(4), location=stock, order_ref="WO-1", source=REG, actor=actor
        )
    assert refused.value.code == "insufficient_stock"
    assert D(refused.value.fields["on_hand"]) == 3
    assert InventoryTransaction.objects.count() == before
    assert on_hand(item, stock) == D(3)


def test_issue_from_empty_location_creates_no_on_hand_row(item, stock, actor):
    with pytest.raises(InsufficientStock):
        services.inventory_issue(
            item=item, quantity=D(1), location=stock, order_ref="WO-1", source=REG, actor=actor
        )
    assert not OnHand.objects.exists()
    assert not InventoryTransaction.objects.exists()


def test_negative_stock_only_where_allowed(item, warehouse, actor):
    floor = LocationFactory(warehouse=warehouse, code="FLOOR", allow_negative_stock=True)
    services.inventory_issue(
        item=item, quantity=D(5), location=floor, order_ref="WO-1", source=REG, actor=actor
    )
    assert on_hand(item, floor) == D(-5)
    row = OnHand.objects.get(item=item, location=floor)
    assert row.allow_negative
    services.inventory_receive(item=item, quantity=D(7), location=floor, source=REG, actor=actor)
    assert on_hand(item, floor) == D(2)
    assert services.inventory_verify().ok


def test_item_that_allows_negative_stock(item, stock, actor):
    item.allow_negative_stock = True
    item.save()
    services.inventory_scrap(
        item=item, quantity=D(2), location=stock, reason="dropped", source=REG, actor=actor
    )
    assert on_hand(item, stock) == D(-2)


def test_transfer_moves_between_locations_as_one_posting(item, stock, stock2, receive, actor):
    receive(item, 10, stock)
    out, into = services.inventory_transfer(
        item=item, quantity=D(6), from_location=stock, to_location=stock2, source=REG, actor=actor
    )
    assert (out.kind, out.quantity, into.kind, into.quantity) == (
        TransactionKind.TRANSFER_OUT,
        D(-6),
        TransactionKind.TRANSFER_IN,
        D(6),
    )
    assert out.posting_id == into.posting_id
    assert on_hand(item, stock) == D(4)
    assert on_hand(item, stock2) == D(6)


def test_transfer_refused_when_short_moves_nothing(item, stock, stock2, receive, actor):
    receive(item, 2, stock)
    with pytest.raises(InsufficientStock):
        services.inventory_transfer(
            item=item,
            quantity=D(3),
            from_location=stock,
            to_location=stock2,
            source=REG,
            actor=actor,
        )
    assert on_hand(item, stock) == D(2)
    assert not OnHand.objects.filter(location=stock2).exists()
    assert InventoryTransaction.objects.count() == 1


def test_transfer_to_same_location_refused(item, stock, receive, actor):
    receive(item, 2, stock)
    with pytest.raises(InvalidMovement) as refused:
        services.inventory_transfer(
            item=item,
            quantity=D(1),
            from_location=stock,
            to_location=stock,
            source=REG,
            actor=actor,
        )
    assert refused.value.code == "same_location"


def test_scrap_needs_a_reason(item, stock, receive, actor):
    receive(item, 2, stock)
    with pytest.raises(InvalidMovement) as refused:
        services.inventory_scrap(
            item=item, quantity=D(1), location=stock, reason=" ", source=REG, actor=actor
        )
    assert refused.value.code == "reason_required"
    entry = services.inventory_scrap(
        item=item, quantity=D(1), location=stock, reason="SCR-01 bent", source=REG, actor=actor
    )
    assert entry.kind == TransactionKind.SCRAP and entry.quantity == D(-1)


def test_kilograms_keep_their_decimals(steel, stock, receive, actor):
    receive(steel, "10.125", stock)
    services.inventory_issue(
        item=steel, quantity=D("0.1"), location=stock, order_ref="WO-1", source=REG, actor=actor
    )
    services.inventory_issue(
        item=steel, quantity=D("0.2"), location=stock, order_ref="WO-1", source=REG, actor=actor
    )
    services.inventory_issue(
        item=steel, quantity=D("9.825"), location=stock, order_ref="WO-1", source=REG, actor=actor
    )
    assert on_hand(steel, stock) == D(0)
    assert services.inventory_verify().ok


# --- Lots and serials ---------------------------------------------------------------------


def test_lot_tracked_receipt_creates_the_lot_and_keys_on_hand_by_lot(lot_item, stock, receive):
    receive(lot_item, "5.5", stock, lot="L-1")
    receive(lot_item, "2", stock, lot="L-2")
    lot1 = Lot.objects.get(item=lot_item, number="L-1")
    assert on_hand(lot_item, stock, lot1) == D("5.5")
    assert on_hand(lot_item, stock) == D("7.5")
    assert OnHand.objects.filter(item=lot_item).count() == 2


def test_lot_of_another_item_refused(lot_item, kg, stock, receive, actor):
    from inventory.choices import Tracking

    from .factories import ItemFactory

    other = ItemFactory(part_number="GLUE", unit=kg, tracking=Tracking.LOT)
    receive(other, 1, stock, lot="G-1")
    with pytest.raises(InvalidMovement) as refused:
        receive(lot_item, 1, stock, lot=Lot.objects.get(number="G-1"))
    assert refused.value.code == "lot_item_mismatch"


def test_serial_moves_one_unit_per_serial(serial_item, stock, stock2, receive, actor):
    receive(serial_item, 1, stock, lot="SN-1")
    with pytest.raises(InvalidMovement) as refused:
        receive(serial_item, 2, stock, lot="SN-2")
    assert refused.value.code == "serial_quantity"
    with pytest.raises(InvalidMovement) as refused:
        receive(serial_item, 1, stock2, lot="SN-1")
    assert refused.value.code == "serial_in_stock"
    services.inventory_transfer(
        item=serial_item,
        quantity=D(1),
        from_location=stock,
        to_location=stock2,
        lot="SN-1",
        source=REG,
        actor=actor,
    )
    assert on_hand(serial_item, stock2) == D(1)
    assert on_hand(serial_item, stock) == D(0)


def test_serial_never_goes_negative_even_where_allowed(serial_item, warehouse, actor):
    floor = LocationFactory(warehouse=warehouse, code="FLOOR", allow_negative_stock=True)
    Lot.objects.create(item=serial_item, number="SN-9")
    with pytest.raises(InsufficientStock):
        services.inventory_issue(
            item=serial_item,
            quantity=D(1),
            location=floor,
            lot="SN-9",
            order_ref="WO-1",
            source=REG,
            actor=actor,
        )


# --- Orders: WIP, returns, finished goods, genealogy -------------------------------------


def test_wip_is_issued_minus_returned(item, steel, stock, receive, actor):
    receive(item, 10, stock)
    receive(steel, 10, stock)
    for quantity in (3, 2):
        services.inventory_issue(
            item=item,
            quantity=D(quantity),
            location=stock,
            order_ref="WO-1",
            source=REG,
            actor=actor,
        )
    services.inventory_return(
        item=item, quantity=D(1), location=stock, order_ref="WO-1", source=REG, actor=actor
    )
    services.inventory_issue(
        item=steel, quantity=D("1.5"), location=stock, order_ref="WO-2", source=REG, actor=actor
    )
    balances = {(b.order_ref, b.part_number): b for b in selectors.wip_balances()}
    bolt = balances[("WO-1", "BOLT")]
    assert (bolt.issued, bolt.returned, bolt.balance) == (D(5), D(1), D(4))
    assert balances[("WO-2", "STEEL")].balance == D("1.5")
    assert [b.order_ref for b in selectors.wip_balances(order_refs=["WO-2"])] == ["WO-2"]
    assert on_hand(item, stock) == D(6)


def test_order_kinds_need_an_order(item, stock, receive, actor):
    receive(item, 1, stock)
    with pytest.raises(InvalidMovement) as refused:
        services.inventory_issue(
            item=item, quantity=D(1), location=stock, order_ref="", source=REG, actor=actor
        )
    assert refused.value.code == "order_ref_required"


def test_genealogy_from_consumption_and_receipt(lot_item, serial_item, stock, receive, actor):
    product = serial_item
    receive(lot_item, 10, stock, lot="RESIN-A")
    receive(lot_item, 10, stock, lot="RESIN-B")
    sn1 = services.inventory_receive_finished(
        item=product,
        quantity=D(1),
        location=stock,
        lot="SN-100",
        order_ref="WO-7",
        source=REG,
        actor=actor,
    ).lot
    services.inventory_receive_finished(
        item=product,
        quantity=D(1),
        location=stock,
        lot="SN-101",
        order_ref="WO-7",
        source=REG,
        actor=actor,
    )
    services.inventory_issue(
        item=lot_item,
        quantity=D(2),
        location=stock,
        lot="RESIN-A",
        parent_lot=sn1,
        order_ref="WO-7",
        source=REG,
        actor=actor,
    )
    services.inventory_issue(
        item=lot_item,
        quantity=D(3),
        location=stock,
        lot="RESIN-B",
        order_ref="WO-7",
        source=REG,
        actor=actor,
    )
    record = selectors.order_as_built(order_ref="WO-7")
    assert [(o[1], o[3], o[4]) for o in record.outputs] == [
        ("MOTOR", "SN-100", D(1)),
        ("MOTOR", "SN-101", D(1)),
    ]
    into_sn1 = {(c.lot_number, c.quantity) for c in record.components_of(sn1.pk)}
    assert into_sn1 == {("RESIN-A", D(2)), ("RESIN-B", D(3))}
    resin_a = Lot.objects.get(number="RESIN-A")
    assert selectors.lot_where_used(lot=resin_a) == [("WO-7", sn1.pk)]


# --- stock_posted: where "Available at location" and the ERP's consumption hook in ---------


def test_stock_posted_is_sent_once_per_posting(item, stock, line_in, receive, actor):
    seen = []

    def receiver(sender, *, entries, **_):
        seen.append([(e.kind, e.location_id, e.quantity) for e in entries])

    stock_posted.connect(receiver, dispatch_uid="test.stock_posted.seen")
    try:
        receive(item, 5, stock)
        services.inventory_transfer(
            item=item,
            quantity=D(2),
            from_location=stock,
            to_location=line_in,
            source=REG,
            actor=actor,
        )
    finally:
        stock_posted.disconnect(dispatch_uid="test.stock_posted.seen")
    assert seen == [
        [(TransactionKind.RECEIPT, stock.pk, D(5))],
        [
            (TransactionKind.TRANSFER_OUT, stock.pk, D(-2)),
            (TransactionKind.TRANSFER_IN, line_in.pk, D(2)),
        ],
    ]


def test_a_failing_receiver_undoes_the_movement(item, stock, line_in, receive, actor):
    def receiver(sender, *, entries, **_):
        if any(e.location_id == line_in.pk for e in entries):
            raise InvalidMovement("nothing to consume", code="flush_failed")

    receive(item, 5, stock)
    stock_posted.connect(receiver, dispatch_uid="test.stock_posted.fails")
    try:
        with pytest.raises(InvalidMovement):
            services.inventory_transfer(
                item=item,
                quantity=D(2),
                from_location=stock,
                to_location=line_in,
                source=REG,
                actor=actor,
            )
    finally:
        stock_posted.disconnect(dispatch_uid="test.stock_posted.fails")
    assert on_hand(item, stock) == D(5)
    assert InventoryTransaction.objects.count() == 1


def test_issue_many_is_all_or_nothing(item, steel, stock, receive, actor):
    receive(item, 5, stock)
    receive(steel, 1, stock)
    lines = [
        services.MovementInput(item=item, quantity=D(2), location=stock),
        services.MovementInput(item=steel, quantity=D(2), location=stock),
    ]
    with pytest.raises(InsufficientStock):
        services.inventory_issue_many(lines=lines, order_ref="WO-1", source=REG, actor=actor)
    assert on_hand(item, stock) == D(5)
    lines[1] = services.MovementInput(item=steel, quantity=D("0.5"), location=stock)
    entries = services.inventory_issue_many(lines=lines, order_ref="WO-1", source=REG, actor=actor)
    assert len({e.posting_id for e in entries}) == 1
    assert on_hand(steel, stock) == D("0.5")
