"""The flushing engine's numbers: exact Decimal arithmetic and the checks every input value
passes (Decimal or int, never float; finite; not negative), and the engine's refusal."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Context, Decimal, localcontext

from mesproject.errors import ApplicationError

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
