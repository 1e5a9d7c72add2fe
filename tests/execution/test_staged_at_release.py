"""Available at location on release: what already lies at an operation's input location when
the order is released is consumed then (source 002's matrix), through the same path as an
arrival: picking list, inventory issue, the ERP material issue."""

from decimal import Decimal as D

import pytest
from django.db.models import Sum

from execution.models import MaterialLineState, PickingListLine
from execution.services import order_lifecycle
from execution.services.jobs import job_plan_change
from integration.models import MaterialIssueBatch
from inventory.choices import TransactionKind
from inventory.models import InventoryTransaction, OnHand, Reservation
from tests.execution.floor import make_floor

LINES = [("CHAIN", "available_at_location", 20, "1"), ("BELL", "manual", 30, "1")]


def _taken(floor):
    chain = floor.components["CHAIN"]
    return dict(
        PickingListLine.objects.filter(component=chain)
        .values_list("order__number")
        .annotate(total=Sum("quantity"))
    )


@pytest.mark.django_db
def test_stock_staged_before_release_is_consumed_on_release():
    floor = make_floor(stock=0, lines=LINES)
    chain = floor.components["CHAIN"]
    station = floor.resources[1].input_location
    floor.stock("CHAIN", 10, station)  # no order runs there yet: it stays
    first = floor.order(3)
    line = PickingListLine.objects.get(order=first, component=chain)
    assert (line.quantity, line.event, line.principle, line.location) == (
        3,
        "release",
        "available_at_location",
        station,
    )
    assert line.registration is None
    issue = line.inventory_transaction
    assert (issue.kind, issue.quantity, issue.order_ref) == (
        TransactionKind.ISSUE,
        -3,
        first.number,
    )
    assert MaterialLineState.objects.get(material=line.material).consumed == 3
    assert OnHand.objects.get(item=chain, location=station).quantity == 7
    # Reserved on release, and the issue relieves the reservation at once.
    assert Reservation.objects.get(order_ref=first.number, item=chain).quantity_open == 0
    # The ERP hears of it as of any consumption: the order's material issue batch.
    batch = MaterialIssueBatch.objects.get(order=first, item=chain)
    assert batch.quantity == 3
    # The next order takes its 4 of the 7 left; an arrival then adds nothing twice.
    second = floor.order(4)
    assert _taken(floor) == {first.number: 3, second.number: 4}
    assert OnHand.objects.get(item=chain, location=station).quantity == 3
    floor.stock("CHAIN", 5, station)
    assert _taken(floor) == {first.number: 3, second.number: 4}


@pytest.mark.django_db
def test_nothing_staged_nothing_consumed_on_release():
    floor = make_floor(stock=0, lines=LINES)
    floor.stock("CHAIN", 10, floor.store)  # in the store, not at the resource
    order = floor.order(3)
    assert not PickingListLine.objects.filter(order=order).exists()
    assert not InventoryTransaction.objects.filter(
        order_ref=order.number, kind=TransactionKind.ISSUE
    ).exists()
    # An order created but not released takes nothing either.
    floor.stock("CHAIN", 5, floor.resources[1].input_location)
    created = floor.order(2, release=False)
    assert not PickingListLine.objects.filter(order=created).exists()
    assert _taken(floor) == {order.number: 3}


@pytest.mark.django_db
def test_the_first_order_in_the_resource_plan_takes_first_on_release():
    floor = make_floor(stock=0, lines=LINES)
    station = floor.resources[1].input_location
    first = floor.order(3)
    held = floor.job(first, 20)
    job_plan_change(job=held, on_hold=True)
    floor.stock("CHAIN", 5, station)  # the first order's job is held: the arrival stays
    assert _taken(floor) == {}
    job_plan_change(job=floor.job(first, 20), on_hold=False)
    # On the second order's release the staged 5 go first to the order ahead of it in the plan.
    second = floor.order(4)
    assert _taken(floor) == {first.number: 3, second.number: 2}
    assert OnHand.objects.get(item=floor.components["CHAIN"], location=station).quantity == 0


@pytest.mark.django_db
def test_an_order_that_consumed_on_release_cannot_be_unreleased():
    floor = make_floor(stock=0, lines=LINES)
    floor.stock("CHAIN", 10, floor.resources[1].input_location)
    order = floor.order(3)
    from mesproject.errors import NotAllowed

    with pytest.raises(NotAllowed) as refused:
        order_lifecycle.order_transition(order=order, transition="unrelease")
    assert refused.value.code == "unrelease_refused"
    assert D(PickingListLine.objects.get(order=order).quantity) == 3
