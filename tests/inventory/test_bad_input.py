"""Bad input: a clear error with a machine-readable code, and nothing written."""

from decimal import Decimal

import pytest

from inventory import services
from inventory.choices import SourceType
from inventory.exceptions import ApplicationError, InvalidMovement, MissingMasterData
from inventory.models import InventoryTransaction, Lot, OnHand, Reservation
from inventory.services import Source

D = Decimal
REG = Source(SourceType.REGISTRATION, "reg-1")


def assert_nothing_written():
    assert not InventoryTransaction.objects.exists()
    assert not OnHand.objects.exists()
    assert not Reservation.objects.exists()


def receive(actor, **kwargs):
    kwargs.setdefault("source", REG)
    return services.inventory_receive(actor=actor, **kwargs)


def test_unknown_item(stock, actor, db):
    with pytest.raises(MissingMasterData) as refused:
        receive(actor, item="NO-SUCH-PART", quantity=D(1), location=stock)
    assert refused.value.code == "item_unknown"
    assert refused.value.http_status == 422
    assert "NO-SUCH-PART" in refused.value.message
    assert_nothing_written()


def test_item_by_part_number_works(item, stock, actor):
    entry = receive(actor, item="BOLT", quantity=D(1), location=stock)
    assert entry.item_id == item.pk


def test_missing_lot_on_lot_tracked_item(lot_item, stock, actor):
    for lot in (None, "", "  "):
        with pytest.raises(InvalidMovement) as refused:
            receive(actor, item=lot_item, quantity=D(1), location=stock, lot=lot)
        assert refused.value.code == "lot_required"
        assert refused.value.http_status == 400
    assert_nothing_written()
    assert not Lot.objects.exists()


def test_lot_on_untracked_item(item, stock, actor):
    with pytest.raises(InvalidMovement) as refused:
        receive(actor, item=item, quantity=D(1), location=stock, lot="L-1")
    assert refused.value.code == "lot_not_allowed"
    assert_nothing_written()


def test_issue_of_unknown_lot(lot_item, stock, actor):
    with pytest.raises(InvalidMovement) as refused:
        services.inventory_issue(
            item=lot_item,
            quantity=D(1),
            location=stock,
            lot="NOPE",
            order_ref="WO-1",
            source=REG,
            actor=actor,
        )
    assert refused.value.code == "lot_unknown"
    assert_nothing_written()


@pytest.mark.parametrize(
    ("quantity", "code"),
    [
        (D("1.5"), "quantity_precision"),  # pieces carry no decimals
        (D("0.0000001"), "quantity_precision"),
        ("2.50", "quantity_precision"),
        (D(0), "quantity_zero"),
        (0, "quantity_zero"),
        (D(-3), "quantity_not_positive"),
        (-1, "quantity_not_positive"),
        (1.0, "quantity_not_decimal"),
        (True, "quantity_not_decimal"),
        (None, "quantity_not_decimal"),
        ("abc", "quantity_invalid"),
        (D("NaN"), "quantity_invalid"),
        (D("Infinity"), "quantity_invalid"),
        (D("1E+15"), "quantity_too_large"),
    ],
)
def test_bad_quantities(item, stock, actor, quantity, code):
    with pytest.raises(InvalidMovement) as refused:
        receive(actor, item=item, quantity=quantity, location=stock)
    assert refused.value.code == code
    assert refused.value.message
    assert_nothing_written()


def test_kilograms_refuse_a_fourth_decimal(steel, stock, actor):
    with pytest.raises(InvalidMovement) as refused:
        receive(actor, item=steel, quantity=D("1.0005"), location=stock)
    assert refused.value.code == "quantity_precision"
    assert refused.value.fields == {"quantity": "1.0005"}
    receive(actor, item=steel, quantity=D("1.0050"), location=stock)  # trailing zeros fine


def test_bad_quantity_on_issue_and_transfer(item, stock, stock2, actor):
    receive(actor, item=item, quantity=D(5), location=stock)
    count = InventoryTransaction.objects.count()
    with pytest.raises(InvalidMovement):
        services.inventory_issue(
            item=item, quantity=D("-1"), location=stock, order_ref="WO-1", source=REG, actor=actor
        )
    with pytest.raises(InvalidMovement):
        services.inventory_transfer(
            item=item,
            quantity=D("0.5"),
            from_location=stock,
            to_location=stock2,
            source=REG,
            actor=actor,
        )
    assert InventoryTransaction.objects.count() == count


def test_unknown_source_type_and_missing_source(db):
    with pytest.raises(InvalidMovement) as refused:
        Source("carrier_pigeon", "1")
    assert refused.value.code == "source_type_unknown"
    with pytest.raises(InvalidMovement) as refused:
        Source(SourceType.ERP_MESSAGE, " ")
    assert refused.value.code == "source_missing"


def test_unsaved_location(item, actor, db):
    from inventory.models import Location

    with pytest.raises(MissingMasterData) as refused:
        receive(actor, item=item, quantity=D(1), location=Location(code="X"))
    assert refused.value.code == "location_unknown"
    assert_nothing_written()


def test_errors_are_application_errors(item, stock, actor):
    """Every refusal maps to the one API error body (code, message, fields)."""
    with pytest.raises(ApplicationError):
        receive(actor, item=item, quantity=D("0.5"), location=stock)
