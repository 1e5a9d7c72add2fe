"""Putting material at a resource's input location: the movement and the hook point the
Available-at-location flushing principle will consume on (wired by the execution issue)."""

from decimal import Decimal

import pytest

from execution import services as execution_services
from inventory import hooks, selectors
from inventory.choices import SourceType, TransactionKind
from inventory.models import InventoryTransaction
from inventory.services import Source
from mesproject.errors import MissingMasterData

from .factories import ResourceFactory

D = Decimal
SRC = Source(SourceType.REGISTRATION, "put-1")


def test_put_material_at_the_input_location(item, site, stock, line_in, receive):
    resource = ResourceFactory(site=site, input_location=line_in)
    receive(item, 10, stock)
    arrivals = []

    def effect(*, movement):
        arrivals.append(movement)

    hooks.register_arrival_effect(effect)
    try:
        _out, into = execution_services.resource_put_material(
            resource=resource, item=item, quantity=D(4), from_location=stock, source=SRC
        )
    finally:
        hooks.unregister_arrival_effect(effect)
    assert (into.kind, into.location_id) == (TransactionKind.TRANSFER_IN, line_in.pk)
    assert [a.pk for a in arrivals] == [into.pk]
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
