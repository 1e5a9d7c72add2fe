"""on-hand == sum(ledger) is checked by a service and by `manage.py verify_inventory`."""

from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from inventory import services
from inventory.models import OnHand, Reservation
from inventory.services import Source

D = Decimal


def test_clean_inventory_verifies(item, lot_item, stock, stock2, receive, actor, capsys):
    receive(item, 10, stock)
    receive(lot_item, "2.5", stock, lot="L-1")
    services.inventory_transfer(
        item=item,
        quantity=D(4),
        from_location=stock,
        to_location=stock2,
        source=Source("manual", "t-1"),
        actor=actor,
    )
    report = services.inventory_verify()
    assert report.ok and report.on_hand_keys == 3
    call_command("verify_inventory")
    assert "3 on-hand keys" in capsys.readouterr().out


def test_drift_is_reported_with_its_key(item, stock, receive, capsys):
    receive(item, 10, stock)
    # Someone writes around the services: the on-hand table no longer matches the ledger.
    OnHand.objects.filter(item=item).update(quantity=D(12))
    report = services.inventory_verify()
    assert not report.ok
    [difference] = report.differences
    assert difference.key == {"item": item.pk, "lot": None, "location": stock.pk}
    assert (difference.recorded, difference.ledger) == (D(12), D(10))
    with pytest.raises(CommandError):
        call_command("verify_inventory")
    assert "recorded 12, ledger 10, difference 2" in capsys.readouterr().err


def test_on_hand_row_without_ledger_is_reported(item, stock, db):
    OnHand.objects.create(item=item, location=stock, quantity=D(1))
    assert [d.ledger for d in services.inventory_verify().differences] == [D(0)]


def test_reservation_drift_is_reported(item, site, actor):
    services.reservation_set(
        item=item,
        site=site,
        quantity=D(5),
        order_ref="WO-1",
        source=Source("order_material", "1"),
        actor=actor,
    )
    assert services.inventory_verify().ok
    Reservation.objects.update(quantity_open=D(4))
    report = services.inventory_verify()
    assert [d.balance for d in report.differences] == ["reservation"]
    assert report.problems  # reserved - consumed - freed != open


def test_command_exit_status(item, stock, receive):
    """CommandError is what manage.py turns into exit status 1."""
    receive(item, 1, stock)
    OnHand.objects.update(quantity=D(0))
    with pytest.raises(CommandError) as failed:
        call_command("verify_inventory")
    assert "1 differences" in str(failed.value)
    assert getattr(failed.value, "returncode", 1) == 1
