"""Geometry of the dashboard's server-side SVG charts: scales, nice axis ticks, bar boxes.

Pure Python but for the labels, which use the product's one quantity display: the templates
only place the numbers computed here. Coordinates are SVG user units of a fixed viewBox (the
SVG scales to its container); values stay Decimal for the labels and become floats only as
positions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
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


# --- Horizontal stacked bars (WIP by order) ---------------------------------------------------


@dataclass(frozen=True)
class Segment:
    key: str  # CSS class and legend key
    label: str
    value: Decimal
    x: float
    width: float

    @property
    def text(self) -> str:
        return show(self.value)


@dataclass(frozen=True)
class HBar:
    label: str
    y: float
    height: float
    segments: list[Segment]
    total: Decimal
    text_y: float
    end: float  # x where the last segment ends: the total is written after it

    @property
    def total_text(self) -> str:
        return show(self.total)


@dataclass(frozen=True)
class HBarChart:
    width: int
    height: int
    plot_left: int
    plot_width: int
    plot_bottom: float
    bars: list[HBar]
    ticks: list[Tick]
    legend: list[tuple[str, str]]

    @property
    def axis_text_y(self) -> float:
        return self.plot_bottom + 16


def stacked_hbars(
    rows: list[tuple[str, list[Decimal]]],
    series: list[tuple[str, str]],
    *,
    width: int = 800,
    label_width: int = 150,
    bar_height: int = 22,
    gap: int = 8,
) -> HBarChart:
    """rows: (label, one value per series); series: (key, label). One bar per row, its
    segments side by side from the left, all bars on one scale."""
    right_margin = 50  # room for the total after the longest bar
    plot_width = width - label_width - right_margin
    maximum = max((sum(values, Decimal(0)) for _label, values in rows), default=Decimal(0))
    scale, tick_values = scale_for(maximum, plot_width)
    top = 10
    bars = []
    for index, (label, values) in enumerate(rows):
        y = top + index * (bar_height + gap)
        x = 0.0
        segments = []
        for (key, name), value in zip(series, values, strict=True):
            w = scale(Decimal(value))
            segments.append(Segment(key, name, Decimal(value), round(x, 2), w))
            x += w
        bars.append(
            HBar(
                label=label,
                y=y,
                height=bar_height,
                segments=segments,
                total=sum(values, Decimal(0)),
                text_y=y + bar_height / 2,
                end=round(x + 4, 2),
            )
        )
    plot_bottom = top + len(rows) * (bar_height + gap)
    return HBarChart(
        width=width,
        height=int(plot_bottom + 30),
        plot_left=label_width,
        plot_width=plot_width,
        plot_bottom=plot_bottom,
        bars=bars,
        ticks=[Tick(v, scale(v)) for v in tick_values],
        legend=list(series),
    )


# --- Vertical bars (orders by state, Pareto) --------------------------------------------------


@dataclass(frozen=True)
class VBar:
    key: str
    label: str
    value: Decimal
    x: float
    y: float
    width: float
    height: float
    center: float
    cumulative_pct: Decimal | None = None

    @property
    def text(self) -> str:
        return show(self.value)

    @property
    def text_y(self) -> float:
        """The value is written just above the bar."""
        return round(self.y - 4, 2)


@dataclass(frozen=True)
class Point:
    """A point of the Pareto's cumulative line, with its % written above it."""

    x: float
    y: float
    pct: Decimal

    @property
    def text_y(self) -> float:
        return round(self.y - 8, 2)

    @property
    def text(self) -> str:
        return f"{show(self.pct)} %"


@dataclass(frozen=True)
class VBarChart:
    width: int
    height: int
    plot_left: int
    plot_top: int
    plot_width: int
    plot_height: int
    bars: list[VBar]
    ticks: list[Tick]
    # Pareto only: the cumulative % line and its right-hand axis
    line_points: str = ""
    points: list[Point] = field(default_factory=list)
    pct_ticks: list[Tick] = field(default_factory=list)

    @property
    def plot_bottom(self) -> int:
        return self.plot_top + self.plot_height

    @property
    def plot_right(self) -> int:
        return self.plot_left + self.plot_width

    @property
    def category_y(self) -> int:
        return self.plot_bottom + 18

    @property
    def tick_x(self) -> int:
        """Left axis labels end here; the right (%) ones start at pct_tick_x."""
        return self.plot_left - 6

    @property
    def pct_tick_x(self) -> int:
        return self.plot_right + 6


def vbars(
    items: list[tuple[str, str, Decimal]],
    *,
    width: int = 640,
    height: int = 240,
    pareto: bool = False,
    integer: bool = False,
) -> VBarChart:
    """items: (key, label, value), drawn left to right. pareto: also the cumulative share
    of the total at each bar, on a 0-100 % axis at the right."""
    plot_left, plot_top = 48, 16
    plot_right_margin = 48 if pareto else 16
    plot_width = width - plot_left - plot_right_margin
    plot_height = height - plot_top - 44  # room for the category labels
    maximum = max((Decimal(v) for _k, _l, v in items), default=Decimal(0))
    scale, tick_values = scale_for(maximum, plot_height, integer=integer)
    slot = plot_width / max(len(items), 1)
    bar_width = round(min(slot * 0.7, 90), 2)
    total = sum((Decimal(v) for _k, _l, v in items), Decimal(0))
    bars, points = [], []
    running = Decimal(0)
    for index, (key, label, value) in enumerate(items):
        value = Decimal(value)
        h = scale(value)
        center = round(plot_left + slot * index + slot / 2, 2)
        cumulative = None
        if pareto:
            running += value
            cumulative = (running * HUNDRED / total).quantize(Decimal("0.1")) if total else None
            if cumulative is not None:
                y = round(plot_top + plot_height * (1 - float(cumulative) / 100), 2)
                points.append(Point(center, y, cumulative))
        bars.append(
            VBar(
                key=key,
                label=label,
                value=value,
                x=round(center - bar_width / 2, 2),
                y=round(plot_top + plot_height - h, 2),
                width=bar_width,
                height=h,
                center=center,
                cumulative_pct=cumulative,
            )
        )
    pct_ticks = []
    if pareto:
        pct_ticks = [
            Tick(Decimal(p), round(plot_top + plot_height * (1 - p / 100), 2))
            for p in (0, 25, 50, 75, 100)
        ]
    return VBarChart(
        width=width,
        height=height,
        plot_left=plot_left,
        plot_top=plot_top,
        plot_width=plot_width,
        plot_height=plot_height,
        bars=bars,
        ticks=[Tick(v, round(plot_top + plot_height - scale(v), 2)) for v in tick_values],
        line_points=" ".join(f"{p.x},{p.y}" for p in points),
        points=points,
        pct_ticks=pct_ticks,
    )


# --- Small multiples: one hourly bar chart per resource ---------------------------------------


@dataclass(frozen=True)
class HourBar:
    hour: datetime
    value: Decimal
    x: float
    y: float
    width: float
    height: float

    @property
    def text(self) -> str:
        return show(self.value)


@dataclass(frozen=True)
class Panel:
    label: str
    total: Decimal
    bars: list[HourBar]
    peak: Decimal

    @property
    def total_text(self) -> str:
        return show(self.total)


@dataclass(frozen=True)
class MultiplesChart:
    width: int
    height: int
    plot_left: int
    plot_top: int
    plot_width: int
    plot_height: int
    panels: list[Panel]
    ticks: list[Tick]
    hour_labels: list[tuple[float, str]]

    @property
    def plot_bottom(self) -> int:
        return self.plot_top + self.plot_height

    @property
    def plot_right(self) -> int:
        return self.plot_left + self.plot_width

    @property
    def hour_label_y(self) -> int:
        return self.plot_bottom + 14

    @property
    def tick_x(self) -> int:
        return self.plot_left - 4


def hourly_multiples(
    series: list[tuple[str, dict[datetime, Decimal]]],
    hours: list[datetime],
    *,
    width: int = 300,
    height: int = 110,
    label_every: int = 6,
) -> MultiplesChart:
    """One small bar chart per series (a resource), one bar per hour, all on ONE scale so
    the panels compare at a glance. series: (label, {hour: value}); missing hours are 0."""
    plot_left, plot_top = 36, 8
    plot_width = width - plot_left - 8
    plot_height = height - plot_top - 22
    maximum = max(
        (Decimal(v) for _label, values in series for v in values.values()), default=Decimal(0)
    )
    scale, tick_values = scale_for(maximum, plot_height, count=2)
    slot = plot_width / max(len(hours), 1)
    bar_width = round(max(slot - 2, 1), 2)
    panels = []
    for label, values in series:
        bars = []
        for index, hour in enumerate(hours):
            value = Decimal(values.get(hour, 0))
            h = scale(value)
            bars.append(
                HourBar(
                    hour=hour,
                    value=value,
                    x=round(plot_left + index * slot + 1, 2),
                    y=round(plot_top + plot_height - h, 2),
                    width=bar_width,
                    height=h,
                )
            )
        panels.append(
            Panel(
                label=label,
                total=sum((b.value for b in bars), Decimal(0)),
                bars=bars,
                peak=max((b.value for b in bars), default=Decimal(0)),
            )
        )
    hour_labels = [
        (round(plot_left + index * slot + slot / 2, 2), f"{hour:%H}")
        for index, hour in enumerate(hours)
        if index % label_every == 0
    ]
    return MultiplesChart(
        width=width,
        height=height,
        plot_left=plot_left,
        plot_top=plot_top,
        plot_width=plot_width,
        plot_height=plot_height,
        panels=panels,
        ticks=[Tick(v, round(plot_top + plot_height - scale(v), 2)) for v in tick_values],
        hour_labels=hour_labels,
    )
