"""Refusals of the inventory services, each with a machine-readable code."""

from mesproject.errors import ApplicationError, MissingMasterData, NotAllowed

__all__ = [
    "ApplicationError",
    "InsufficientStock",
    "InvalidMovement",
    "JournalPosted",
    "LedgerImmutable",
    "MissingMasterData",
    "NotAllowed",
]


class InvalidMovement(ApplicationError):
    """The movement itself is malformed (quantity, lot, locations...): 400."""

    code = "invalid_movement"


class InsufficientStock(NotAllowed):
    """The movement would take on-hand below zero where negative stock is not allowed."""

    code = "insufficient_stock"


class LedgerImmutable(NotAllowed):
    """Ledger rows are append-only: never updated, never deleted."""

    code = "ledger_immutable"


class JournalPosted(NotAllowed):
    """A posted adjustment journal (and its lines) can no longer change."""

    code = "journal_posted"
