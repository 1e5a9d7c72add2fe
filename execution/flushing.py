"""The flushing engine: which material lines of a production order an event consumes, and how much.

Pure: no database, no models. The registration processor loads the order's material lines
(`MaterialLine`) and their consumption state (`LineState`), calls `flush()` for one shop-floor
event, posts the returned `Consumption`s to the inventory ledger and persists the new states.

Where a line is consumed (docs/flushing.md has the full table):

- ``start``: on START of the line's operation (an order-level START: every start line), for
  the started quantity.
- ``operation_finish``: on OPERATION_FEEDBACK of the line's operation from a resource set to
  consume on operation feedback; or on REPORT_AS_FINISHED from a resource set to consume on
  report as finished ("Feedback RaF"), which covers every operation finish line.
- ``production_finish``: on REPORT_AS_FINISHED of the order, unless the report is made without
  consumption or comes from a resource that never consumes.
- ``available_at_location``: on PUT_AT_INPUT_LOCATION of the component at the line's operation,
  and on RELEASE for what is already there (StagedAtRelease), capped at what the line still
  needs.
- ``manual``: only by MANUAL events (which may also target any other line, as a correction).

No double consumption: every line keeps the output it has already covered (a high-water mark)
and the component quantity consumed automatically. Output-driven events carry the cumulative
output at that point; a line consumes only for output above its mark, and always the
difference between the rounded cumulative requirement and what it has already consumed, so
rounding never drifts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_HALF_UP, Context, Decimal, localcontext
from enum import StrEnum
from typing import ClassVar

from inventory.choices import FlushingPrinciple
from mesproject.errors import ApplicationError
from orders.choices import BomLinePrinciple, ConsumptionSetting

ZERO = Decimal("0")
HUNDRED = Decimal("100")
# Output (parent) quantities are stored like every quantity: Decimal(20, 6).
OUTPUT_PLACES = 6
MAX_UNIT_PLACES = 6
# Wide enough that no product of stored quantities is ever rounded by the context.
_EXACT = Context(prec=100, rounding=ROUND_HALF_UP)

LineId = int | str
ComponentId = int | str


class FlushingError(ApplicationError):
    """An event or a line the engine refuses; nothing is consumed."""

    code = "flushing_invalid"


class EventKind(StrEnum):
    RELEASE = "release"
    START = "start"
    OPERATION_FEEDBACK = "operation_feedback"
    REPORT_AS_FINISHED = "report_as_finished"
    MANUAL = "manual"
    PUT_AT_INPUT_LOCATION = "put_at_input_location"


# --- helpers ---------------------------------------------------------------------------------


def _decimal(value: object, name: str) -> Decimal:
    """Accept Decimal (and int, converted); refuse float, str and non-finite values."""
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise TypeError(f"{name} must be a Decimal, not {type(value).__name__}.")
    result = Decimal(value)
    if not result.is_finite():
        raise FlushingError(f"{name} must be a finite number.", code="invalid_quantity")
    return result


def _set(obj: object, name: str, value: object) -> None:
    object.__setattr__(obj, name, value)


def _non_negative(obj: object, *names: str) -> None:
    for name in names:
        value = _decimal(getattr(obj, name), name)
        if value < 0:
            raise FlushingError(f"{name} cannot be negative.", code="invalid_quantity")
        _set(obj, name, value)


def _quantum(places: int) -> Decimal:
    return Decimal(1).scaleb(-places)


def _fits(quantity: Decimal, places: int) -> bool:
    with localcontext(_EXACT):
        return quantity == quantity.quantize(_quantum(places))


# --- input -----------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class OrderContext:
    """What the engine needs of the order itself."""

    order_quantity: Decimal
    # The route's operation numbers, in route order; the first one owns lines without a number.
    operation_numbers: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        _non_negative(self, "order_quantity")
        _set(self, "operation_numbers", tuple(self.operation_numbers))

    @property
    def first_operation(self) -> int | None:
        return self.operation_numbers[0] if self.operation_numbers else None


@dataclass(frozen=True, kw_only=True)
class MaterialLine:
    """One material line of the order (ProductionOrderMaterial), as plain values."""

    line_id: LineId
    component: ComponentId
    quantity_per: Decimal
    scrap_allowance_pct: Decimal = ZERO
    flushing_principle: str = BomLinePrinciple.NONE
    # The component item's default, used when the line says "none".
    item_default_principle: str = FlushingPrinciple.MANUAL
    # None: the route's first operation (a production finish line belongs to the whole order).
    operation_number: int | None = None
    # The component unit's decimal_places.
    decimal_places: int = 0

    def __post_init__(self) -> None:
        _non_negative(self, "quantity_per", "scrap_allowance_pct")
        if self.quantity_per <= 0:
            raise FlushingError("quantity_per must be positive.", code="invalid_line")
        if self.scrap_allowance_pct > HUNDRED:
            raise FlushingError(
                "scrap_allowance_pct must be between 0 and 100.", code="invalid_line"
            )
        if self.flushing_principle not in BomLinePrinciple.values:
            raise FlushingError(
                f"Unknown flushing principle {self.flushing_principle!r}.", code="invalid_line"
            )
        if self.item_default_principle not in FlushingPrinciple.values:
            raise FlushingError(
                f"Unknown item default principle {self.item_default_principle!r}.",
                code="invalid_line",
            )
        if isinstance(self.decimal_places, bool) or not isinstance(self.decimal_places, int):
            raise TypeError("decimal_places must be an int.")
        if not 0 <= self.decimal_places <= MAX_UNIT_PLACES:
            raise FlushingError(
                f"decimal_places must be between 0 and {MAX_UNIT_PLACES}.", code="invalid_line"
            )

    @property
    def principle(self) -> FlushingPrinciple:
        """The effective principle: the line's own, or the item default when it says none."""
        if self.flushing_principle == BomLinePrinciple.NONE:
            return FlushingPrinciple(self.item_default_principle)
        return FlushingPrinciple(self.flushing_principle)


@dataclass(frozen=True, kw_only=True)
class LineState:
    """The consumption state of one line, persisted by the processor after every call.

    covered_output: output (parent quantity; started quantity for start lines) already covered
        by automatic consumption: the high-water mark nothing below is ever consumed again for.
    consumed: component quantity consumed automatically (always the rounded requirement of
        covered_output, except for lines consumed from the input location).
    manual_consumed: component quantity consumed by MANUAL events (net of returns).
    """

    covered_output: Decimal = ZERO
    consumed: Decimal = ZERO
    manual_consumed: Decimal = ZERO

    def __post_init__(self) -> None:
        _non_negative(self, "covered_output", "consumed")
        _set(self, "manual_consumed", _decimal(self.manual_consumed, "manual_consumed"))

    @property
    def total_consumed(self) -> Decimal:
        return self.consumed + self.manual_consumed


# --- events ----------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Release:
    """Order release as such consumes nothing (what is already staged at an input location is
    offered to the lines as a `StagedAtRelease`)."""

    kind: ClassVar[EventKind] = EventKind.RELEASE


@dataclass(frozen=True, kw_only=True)
class Start:
    """Job start of one operation, or an order-level start (operation_number None: all)."""

    kind: ClassVar[EventKind] = EventKind.START
    started: Decimal
    # Started quantity at this operation (or of the order) including this start.
    cumulative_started: Decimal
    operation_number: int | None = None

    def __post_init__(self) -> None:
        _non_negative(self, "started", "cumulative_started")
        if self.cumulative_started < self.started:
            raise FlushingError(
                "cumulative_started cannot be less than started.", code="invalid_event"
            )


@dataclass(frozen=True, kw_only=True)
class OperationFeedback:
    """Good and scrap reported at one operation, on a resource with its consumption setting."""

    kind: ClassVar[EventKind] = EventKind.OPERATION_FEEDBACK
    operation_number: int
    good: Decimal = ZERO
    scrap: Decimal = ZERO
    # Good + scrap reported at this operation so far, this report included.
    cumulative_output: Decimal
    consumption_setting: str = ConsumptionSetting.ON_OPERATION_FEEDBACK

    def __post_init__(self) -> None:
        _non_negative(self, "good", "scrap", "cumulative_output")
        _check_cumulative(self.good + self.scrap, self.cumulative_output)
        _check_setting(self.consumption_setting, allow_none=False)

    @property
    def output(self) -> Decimal:
        return self.good + self.scrap


@dataclass(frozen=True, kw_only=True)
class ReportAsFinished:
    """Finished output of the order, from a resource or from a non-operation device.

    consumption_setting: the reporting resource's setting; None for a device that is no
        resource of the route (a mobile scanner, a packaging robot's sensor).
    consume: False for "report as finished without consumption" (order or terminal option).
    """

    kind: ClassVar[EventKind] = EventKind.REPORT_AS_FINISHED
    good: Decimal = ZERO
    scrap: Decimal = ZERO
    # Good + scrap reported as finished for the order so far, this report included.
    cumulative_output: Decimal
    consumption_setting: str | None = None
    consume: bool = True

    def __post_init__(self) -> None:
        _non_negative(self, "good", "scrap", "cumulative_output")
        _check_cumulative(self.good + self.scrap, self.cumulative_output)
        _check_setting(self.consumption_setting, allow_none=True)

    @property
    def output(self) -> Decimal:
        return self.good + self.scrap


@dataclass(frozen=True, kw_only=True)
class ManualConsumption:
    """An explicit consumption of one line; a negative quantity returns to stock."""

    kind: ClassVar[EventKind] = EventKind.MANUAL
    line_id: LineId
    quantity: Decimal

    def __post_init__(self) -> None:
        _set(self, "quantity", _decimal(self.quantity, "quantity"))


@dataclass(frozen=True, kw_only=True)
class PutAtInputLocation:
    """A quantity of a component put at the input location of the resource of an operation.

    reported_output: the order's output reported so far, when it already exceeds the order
        quantity (over-production raises what location lines may take).
    """

    kind: ClassVar[EventKind] = EventKind.PUT_AT_INPUT_LOCATION
    component: ComponentId
    operation_number: int
    quantity: Decimal
    reported_output: Decimal = ZERO

    def __post_init__(self) -> None:
        _non_negative(self, "quantity", "reported_output")


@dataclass(frozen=True, kw_only=True)
class StagedAtRelease(PutAtInputLocation):
    """What already lies at the input location of an operation's resource when the order is
    released: consumed like a put there, recorded as consumed on release."""

    kind: ClassVar[EventKind] = EventKind.RELEASE


FlushingEvent = (
    Release | Start | OperationFeedback | ReportAsFinished | ManualConsumption | PutAtInputLocation
)


def _check_cumulative(quantity: Decimal, cumulative: Decimal) -> None:
    if cumulative < quantity:
        raise FlushingError(
            "cumulative_output cannot be less than this report's good + scrap.",
            code="invalid_event",
        )


def _check_setting(setting: str | None, *, allow_none: bool) -> None:
    if setting is None and allow_none:
        return
    if setting not in ConsumptionSetting.values:
        raise FlushingError(f"Unknown consumption setting {setting!r}.", code="invalid_event")


# --- output ----------------------------------------------------------------------------------


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


# --- rules -----------------------------------------------------------------------------------


def line_operation(line: MaterialLine, order: OrderContext) -> int | None:
    """The operation a line belongs to; None for production finish (the whole order)."""
    if line.principle == FlushingPrinciple.PRODUCTION_FINISH:
        return line.operation_number
    if line.operation_number is None:
        return order.first_operation
    return line.operation_number


def required_quantity(line: MaterialLine, output: Decimal) -> Decimal:
    """output x quantity_per x (1 + allowance), rounded half up to the unit's decimals."""
    with localcontext(_EXACT):
        raw = output * line.quantity_per * (HUNDRED + line.scrap_allowance_pct) / HUNDRED
        return raw.quantize(_quantum(line.decimal_places), rounding=ROUND_HALF_UP)


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
