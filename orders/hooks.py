"""Extension points for higher apps (execution, integration), registered at start-up.

orders may not import execution, yet releasing an order must reserve material and create
jobs. So orders offers two kinds of hooks per transition, which higher apps register in
their AppConfig.ready():
- a guard returns the reasons a transition may not happen now (empty list: no objection);
- an effect runs inside the same transaction, right after the status changed.
CHANGED is one more effect key: an order's planning fields or quantity changed (no status
change of its own), e.g. for the scale unit that runs the order.
"""

from collections import defaultdict
from collections.abc import Callable

CHANGED = "changed"

Guard = Callable[..., list[str]]
Effect = Callable[..., None]

_guards: dict[str, list[Guard]] = defaultdict(list)
_effects: dict[str, list[Effect]] = defaultdict(list)


def register_guard(transition: str, guard: Guard) -> None:
    if guard not in _guards[transition]:
        _guards[transition].append(guard)


def register_effect(transition: str, effect: Effect) -> None:
    if effect not in _effects[transition]:
        _effects[transition].append(effect)


def guard_reasons(transition: str, **kwargs) -> list[str]:
    reasons: list[str] = []
    for guard in _guards[transition]:
        reasons.extend(guard(**kwargs))
    return reasons


def run_effects(transition: str, **kwargs) -> None:
    for effect in _effects[transition]:
        effect(**kwargs)
