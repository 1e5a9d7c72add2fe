"""Extension points execution still offers higher apps (integration), registered at start-up.

An order change and a processed registration reach integration by the signals in
execution.signals; two callback lists remain here, pay basis and acceptance.

Pay basis: execution may not import integration, yet a transfer of attendance days to
payroll must reach the payroll system. So a higher app registers a pay-basis effect in its
AppConfig.ready(); the transfer runs every effect inside its own transaction, right after
the days were marked transferred. An effect that raises rolls the transfer back, so it
should only write (an outbox row, say) and leave the sending to a background job.

Acceptance: when a new registration is stored, guards may refuse it (the hub takes a scale
unit's sites' registrations from that scale unit only) and effects run in its transaction
(a scale unit queues it for the hub).
"""

from collections.abc import Callable

PayBasisEffect = Callable[..., None]

_pay_basis_effects: list[PayBasisEffect] = []


def register_pay_basis_effect(fn: PayBasisEffect) -> None:
    """fn(*, days: list[AttendanceDay], csv_text: str) runs on every transfer to payroll."""
    if fn not in _pay_basis_effects:
        _pay_basis_effects.append(fn)


def unregister_pay_basis_effect(fn: PayBasisEffect) -> None:
    """For tests and reloads; registering twice is ignored, so is removing an unknown one."""
    if fn in _pay_basis_effects:
        _pay_basis_effects.remove(fn)


def run_pay_basis_effects(*, days, csv_text: str) -> None:
    for fn in list(_pay_basis_effects):
        fn(days=days, csv_text=csv_text)


AcceptanceEffect = Callable[..., None]

_acceptance_effects: list[AcceptanceEffect] = []


def register_acceptance_effect(fn: AcceptanceEffect) -> None:
    """fn(*, data: RegistrationInput, rows: list[RawRegistration]) runs inside the
    transaction that stores a new registration (not a replay), after its checks resolved the
    input; a scale unit queues it there for the hub, so it is stored and queued or neither."""
    if fn not in _acceptance_effects:
        _acceptance_effects.append(fn)


def unregister_acceptance_effect(fn: AcceptanceEffect) -> None:
    if fn in _acceptance_effects:
        _acceptance_effects.remove(fn)


def run_acceptance_effects(*, data, rows) -> None:
    for fn in list(_acceptance_effects):
        fn(data=data, rows=rows)


AcceptanceGuard = Callable[..., list[str]]

_acceptance_guards: list[AcceptanceGuard] = []


def register_acceptance_guard(fn: AcceptanceGuard) -> None:
    """fn(*, data: RegistrationInput, actor: Actor) -> reasons this caller may not post the
    registration here (empty: it may). Checked after the registration's own checks; the hub
    takes a scale unit's sites' registrations from that scale unit only."""
    if fn not in _acceptance_guards:
        _acceptance_guards.append(fn)


def unregister_acceptance_guard(fn: AcceptanceGuard) -> None:
    if fn in _acceptance_guards:
        _acceptance_guards.remove(fn)


def acceptance_blockers(*, data, actor) -> list[str]:
    return [reason for fn in list(_acceptance_guards) for reason in fn(data=data, actor=actor)]
