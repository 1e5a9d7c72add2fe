"""Extension points for higher apps: react when stock arrives at a location, or to any posting.

inventory may not import execution, yet putting material at a resource's input location is
the event the "Available at location" flushing principle consumes on. So execution
registers an arrival effect at start-up (AppConfig.ready()); every posting that adds stock
at a location calls it inside the same transaction, right after the ledger row is written.
The effect decides what the arrival means (it gets the ledger row, with its kind and
location); registering the same function twice is ignored.
"""

from collections.abc import Callable

ArrivalEffect = Callable[..., None]

_arrival_effects: list[ArrivalEffect] = []


def register_arrival_effect(effect: ArrivalEffect) -> None:
    if effect not in _arrival_effects:
        _arrival_effects.append(effect)


def unregister_arrival_effect(effect: ArrivalEffect) -> None:
    if effect in _arrival_effects:
        _arrival_effects.remove(effect)


def run_arrival_effects(**kwargs) -> None:
    for effect in list(_arrival_effects):
        effect(**kwargs)


# Every posting, as one list of ledger rows, inside the posting's transaction: how
# integration reports consumption to the ERP in the same transaction as the consumption.
PostingEffect = Callable[..., None]

_posting_effects: list[PostingEffect] = []


def register_posting_effect(effect: PostingEffect) -> None:
    """effect(*, entries: list[InventoryTransaction]) runs after every posting."""
    if effect not in _posting_effects:
        _posting_effects.append(effect)


def unregister_posting_effect(effect: PostingEffect) -> None:
    if effect in _posting_effects:
        _posting_effects.remove(effect)


def run_posting_effects(**kwargs) -> None:
    for effect in list(_posting_effects):
        effect(**kwargs)
