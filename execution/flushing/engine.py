"""`flush`: one event applied to the order's material lines, and what it returns (the
consumptions to post and the lines' new states)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal, localcontext

from inventory.choices import FlushingPrinciple
from orders.choices import ConsumptionSetting

from .events import (
    EventKind,
    FlushingEvent,
    ManualConsumption,
    OperationFeedback,
    PutAtInputLocation,
    Release,
    ReportAsFinished,
    Start,
)
from .lines import LineState, MaterialLine, OrderContext, line_operation, required_quantity
from .quantities import (
    _EXACT,
    HUNDRED,
    OUTPUT_PLACES,
    ZERO,
    ComponentId,
    FlushingError,
    LineId,
    _fits,
    _quantum,
)


@dataclass(frozen=True, kw_only=True)
class Consumption:
    """One consumption to post: a positive quantity issues, a negative one (MANUAL) returns.

    covered_from / covered_to: the output range (exclusive, inclusive] this consumption covers;
    None for MANUAL, which covers no output.
    """

    line_id: LineId
    component: ComponentId
    quantity: Decimal
    event: EventKind
    principle: FlushingPrinciple
    operation_number: int | None
    covered_from: Decimal | None
    covered_to: Decimal | None


@dataclass(frozen=True, kw_only=True)
class FlushResult:
    consumptions: tuple[Consumption, ...]
    # The state of every line after the event (unchanged lines included).
    states: Mapping[LineId, LineState]
    # PUT_AT_INPUT_LOCATION only: what stays at the input location; None for other events.
    not_consumed: Decimal | None = None
    changed_line_ids: frozenset[LineId] = field(default_factory=frozenset)


def _output_equivalent(line: MaterialLine, consumed: Decimal, target: Decimal) -> Decimal:
    """The output a location line's consumption covers (never above target)."""
    if consumed >= required_quantity(line, target):
        return target
    with localcontext(_EXACT):
        ratio = line.quantity_per * (HUNDRED + line.scrap_allowance_pct) / HUNDRED
        equivalent = (consumed / ratio).quantize(_quantum(OUTPUT_PLACES), rounding=ROUND_DOWN)
    return min(equivalent, target)


def _targets(
    order: OrderContext, line: MaterialLine, event: FlushingEvent
) -> tuple[Decimal, EventKind] | None:
    """The cumulative output an output-driven event offers the line, or None if it does not."""
    principle = line.principle
    operation = line_operation(line, order)
    if isinstance(event, Start):
        if principle != FlushingPrinciple.START:
            return None
        if event.operation_number is not None and event.operation_number != operation:
            return None
        return event.cumulative_started, event.kind
    if isinstance(event, OperationFeedback):
        if (
            principle == FlushingPrinciple.OPERATION_FINISH
            and event.consumption_setting == ConsumptionSetting.ON_OPERATION_FEEDBACK
            and event.operation_number == operation
        ):
            return event.cumulative_output, event.kind
        return None
    if isinstance(event, ReportAsFinished):
        if not event.consume or event.consumption_setting == ConsumptionSetting.NEVER:
            return None
        if principle == FlushingPrinciple.PRODUCTION_FINISH:
            return event.cumulative_output, event.kind
        if (
            principle == FlushingPrinciple.OPERATION_FINISH
            and event.consumption_setting == ConsumptionSetting.ON_REPORT_AS_FINISHED
        ):
            return event.cumulative_output, event.kind
        return None
    return None


def _check_operation(order: OrderContext, operation: int | None) -> None:
    if operation is None or not order.operation_numbers:
        return
    if operation not in order.operation_numbers:
        raise FlushingError(
            f"Operation {operation} is not on the order's route.", code="unknown_operation"
        )


def flush(
    *,
    order: OrderContext,
    lines: Sequence[MaterialLine],
    states: Mapping[LineId, LineState],
    event: FlushingEvent,
) -> FlushResult:
    """Apply one event to the order's material lines; returns consumptions and new states.

    `states` may omit lines never consumed yet (they start from LineState()). Refused input
    raises FlushingError (or TypeError for a float) and changes nothing.
    """
    by_id: dict[LineId, MaterialLine] = {}
    for line in lines:
        if line.line_id in by_id:
            raise FlushingError(f"Line {line.line_id!r} is given twice.", code="duplicate_line")
        by_id[line.line_id] = line
    new_states: dict[LineId, LineState] = {
        line_id: states.get(line_id, LineState()) for line_id in by_id
    }

    if isinstance(event, Release):
        return FlushResult(consumptions=(), states=new_states)
    if isinstance(event, ManualConsumption):
        return _manual(order, by_id, new_states, event)
    if isinstance(event, PutAtInputLocation):
        return _put(order, by_id, new_states, event)
    if not isinstance(event, Start | OperationFeedback | ReportAsFinished):
        raise FlushingError(f"Unknown event {event!r}.", code="invalid_event")
    if not isinstance(event, ReportAsFinished):
        _check_operation(order, event.operation_number)

    consumptions: list[Consumption] = []
    changed: set[LineId] = set()
    for line_id, line in by_id.items():
        target = _targets(order, line, event)
        if target is None:
            continue
        cumulative, kind = target
        state = new_states[line_id]
        if cumulative <= state.covered_output:
            continue  # this output is already covered: never consume it twice
        required = required_quantity(line, cumulative)
        quantity = max(ZERO, required - state.consumed)
        new_states[line_id] = LineState(
            covered_output=cumulative,
            consumed=state.consumed + quantity,
            manual_consumed=state.manual_consumed,
        )
        changed.add(line_id)
        if quantity:
            consumptions.append(
                Consumption(
                    line_id=line_id,
                    component=line.component,
                    quantity=quantity,
                    event=kind,
                    principle=line.principle,
                    operation_number=line_operation(line, order),
                    covered_from=state.covered_output,
                    covered_to=cumulative,
                )
            )
    return FlushResult(
        consumptions=tuple(consumptions), states=new_states, changed_line_ids=frozenset(changed)
    )


def _manual(
    order: OrderContext,
    by_id: Mapping[LineId, MaterialLine],
    new_states: dict[LineId, LineState],
    event: ManualConsumption,
) -> FlushResult:
    line = by_id.get(event.line_id)
    if line is None:
        raise FlushingError(f"Unknown material line {event.line_id!r}.", code="unknown_line")
    if not _fits(event.quantity, line.decimal_places):
        raise FlushingError(
            f"{event.quantity} has more decimals than the component unit allows "
            f"({line.decimal_places}).",
            code="too_many_decimals",
        )
    if not event.quantity:
        return FlushResult(consumptions=(), states=new_states)
    state = new_states[line.line_id]
    if state.total_consumed + event.quantity < 0:
        raise FlushingError(
            f"Cannot return {-event.quantity}: only {state.total_consumed} was consumed.",
            code="return_exceeds_consumed",
        )
    new_states[line.line_id] = LineState(
        covered_output=state.covered_output,
        consumed=state.consumed,
        manual_consumed=state.manual_consumed + event.quantity,
    )
    consumption = Consumption(
        line_id=line.line_id,
        component=line.component,
        quantity=event.quantity,
        event=event.kind,
        principle=line.principle,
        operation_number=line_operation(line, order),
        covered_from=None,
        covered_to=None,
    )
    return FlushResult(
        consumptions=(consumption,),
        states=new_states,
        changed_line_ids=frozenset({line.line_id}),
    )


def _put(
    order: OrderContext,
    by_id: Mapping[LineId, MaterialLine],
    new_states: dict[LineId, LineState],
    event: PutAtInputLocation,
) -> FlushResult:
    _check_operation(order, event.operation_number)
    remaining = event.quantity
    consumptions: list[Consumption] = []
    changed: set[LineId] = set()
    for line_id, line in by_id.items():
        if (
            line.principle != FlushingPrinciple.AVAILABLE_AT_LOCATION
            or line.component != event.component
            or line_operation(line, order) != event.operation_number
        ):
            continue
        if not _fits(event.quantity, line.decimal_places):
            raise FlushingError(
                f"{event.quantity} has more decimals than the component unit allows "
                f"({line.decimal_places}).",
                code="too_many_decimals",
            )
        if not remaining:
            continue
        state = new_states[line_id]
        target = max(order.order_quantity, event.reported_output, state.covered_output)
        quantity = min(remaining, max(ZERO, required_quantity(line, target) - state.consumed))
        if not quantity:
            continue
        consumed = state.consumed + quantity
        covered = max(state.covered_output, _output_equivalent(line, consumed, target))
        new_states[line_id] = LineState(
            covered_output=covered, consumed=consumed, manual_consumed=state.manual_consumed
        )
        changed.add(line_id)
        remaining -= quantity
        consumptions.append(
            Consumption(
                line_id=line_id,
                component=line.component,
                quantity=quantity,
                event=event.kind,
                principle=line.principle,
                operation_number=line_operation(line, order),
                covered_from=state.covered_output,
                covered_to=covered,
            )
        )
    return FlushResult(
        consumptions=tuple(consumptions),
        states=new_states,
        not_consumed=remaining,
        changed_line_ids=frozenset(changed),
    )
