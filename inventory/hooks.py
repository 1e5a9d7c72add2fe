"""Extension point for higher apps: react when stock arrives at a location.

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
