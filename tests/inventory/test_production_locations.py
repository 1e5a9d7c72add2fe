"""Putting material at a resource's input location: the movement, announced by stock_posted,
that the Available-at-location flushing principle consumes on."""

from decimal import Decimal

import pytest

from execution import services as execution_services
from inventory import selectors
from inventory.choices import SourceType, TransactionKind
from inventory.models import InventoryTransaction
from inventory.services import Source
from inventory.signals import stock_posted
from mesproject.errors import MissingMasterData

from .factories import ResourceFactory

D = Decimal
SRC = Source(SourceType.REGISTRATION, "put-1")


def test_put_material_at_the_input_location(item, site, stock, line_in, receive):
    resource = ResourceFactory(site=site, input_location=line_in)
    receive(item, 10, stock)
    posted = []

    def receiver(sender, *, entries, **_):
        posted.append([e.pk for e in entries])

    stock_posted.connect(receiver, dispatch_uid="test.stock_posted.put")
    try:
        out, into = execution_services.resource_put_material(
            resource=resource, item=item, quantity=D(4), from_location=stock, source=SRC
        )
    finally:
        stock_posted.disconnect(dispatch_uid="test.stock_posted.put")
    assert (into.kind, into.location_id) == (TransactionKind.TRANSFER_IN, line_in.pk)
    assert posted == [[out.pk, into.pk]]
    assert selectors.on_hand_quantity(item=item, location=line_in) == D(4)
    assert into.reason == f"to resource {resource.code}"


def test_resource_without_input_location(item, site, stock, receive):
    resource = ResourceFactory(site=site)
    receive(item, 10, stock)
    with pytest.raises(MissingMasterData) as refused:
        execution_services.resource_put_material(
            resource=resource, item=item, quantity=D(4), from_location=stock, source=SRC
        )
    assert refused.value.code == "input_location_missing"
    assert InventoryTransaction.objects.count() == 1
