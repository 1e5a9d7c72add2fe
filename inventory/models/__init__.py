"""Inventory: master data (units, items, sites, locations, lots) and the stock ledger.

The ledger (InventoryTransaction) is append-only; OnHand and Reservation are balances the
services keep in the same transaction as the ledger rows that explain them, so that
on-hand == sum(ledger) for every key, always (see docs/inventory.md).

One module per subject; every model is imported here because Django and the rest of the
code look them up in inventory.models.
"""

from .items import Item, UnitConversion, UnitOfMeasure, validate_quantity_for_unit
from .journals import (
    AdjustmentJournal,
    AdjustmentJournalLine,
    AdjustmentJournalLineQuerySet,
    AdjustmentJournalQuerySet,
)
from .ledger import InventoryTransaction, InventoryTransactionQuerySet, OnHand
from .lots import Lot
from .places import Location, Site, Warehouse
from .reservations import Reservation

__all__ = [
    "AdjustmentJournal",
    "AdjustmentJournalLine",
    "AdjustmentJournalLineQuerySet",
    "AdjustmentJournalQuerySet",
    "InventoryTransaction",
    "InventoryTransactionQuerySet",
    "Item",
    "Location",
    "Lot",
    "OnHand",
    "Reservation",
    "Site",
    "UnitConversion",
    "UnitOfMeasure",
    "Warehouse",
    "validate_quantity_for_unit",
]
