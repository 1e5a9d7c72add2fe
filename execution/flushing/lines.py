"""The engine's input about the order: the order itself, its material lines and their
consumption state, and the two rules of a line (which operation it belongs to, what an output
requires of it)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext

from inventory.choices import FlushingPrinciple
from orders.choices import BomLinePrinciple

from .quantities import (
    _EXACT,
    HUNDRED,
    MAX_UNIT_PLACES,
    ZERO,
    ComponentId,
    FlushingError,
    LineId,
    _decimal,
    _non_negative,
    _quantum,
    _set,
)


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
