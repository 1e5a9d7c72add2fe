"""The axes of the dashboard's charts: round ticks, linear scales, durations for people."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_CEILING, Decimal

from inventory.fields import show  # a number for people: 10, 2.5, 0.125

NICE_STEPS = (Decimal(1), Decimal(2), Decimal(5), Decimal(10))
HUNDRED = Decimal(100)


def plain(value) -> Decimal:
    """The same number without trailing zeros and without exponent (10, not 1E+1)."""
    value = Decimal(value)
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.normalize()


def nice_step(raw: Decimal) -> Decimal:
    """The smallest 1, 2 or 5 x 10^k that is at least raw (raw > 0)."""
    exponent = raw.adjusted()
    base = Decimal(1).scaleb(exponent)
    for multiple in NICE_STEPS:
        if multiple * base >= raw:
            return plain(multiple * base)
    return plain(10 * base)  # pragma: no cover - NICE_STEPS ends at 10


def nice_ticks(maximum, count: int = 5, *, integer: bool = False) -> list[Decimal]:
    """Axis ticks from 0 to a round top >= maximum, at most about `count` intervals.

    Zero or negative data still gets an axis (0, 1), so the scale never divides by zero.
    integer: counts, whose ticks are whole numbers.
    """
    maximum = Decimal(maximum)
    if maximum <= 0:
        return [Decimal(0), Decimal(1)]
    step = nice_step(maximum / count)
    if integer:
        step = max(step, Decimal(1))
    intervals = int((maximum / step).to_integral_value(rounding=ROUND_CEILING))
    return [plain(step * i) for i in range(intervals + 1)]


@dataclass(frozen=True)
class Scale:
    """Linear map of 0..top onto 0..length (values beyond top are clamped)."""

    top: Decimal
    length: float

    def __call__(self, value) -> float:
        if self.top <= 0:
            return 0.0
        value = min(max(Decimal(value), Decimal(0)), self.top)
        return round(float(value / self.top) * self.length, 2)


def scale_for(
    maximum, length: float, count: int = 5, *, integer: bool = False
) -> tuple[Scale, list[Decimal]]:
    ticks = nice_ticks(maximum, count, integer=integer)
    return Scale(ticks[-1], length), ticks


@dataclass(frozen=True)
class Tick:
    value: Decimal
    position: float  # x for a horizontal axis, y for a vertical one

    @property
    def label(self) -> str:
        return show(self.value)


def duration_text(delta: timedelta) -> str:
    """A lateness for people: "2 d 3 h", "3 h 20 min", "45 min" (never negative)."""
    minutes = max(int(delta.total_seconds() // 60), 0)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min"
