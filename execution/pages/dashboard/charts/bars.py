"""Bar charts: horizontal stacked bars (WIP by order) and vertical bars (orders by state, the
scrap Pareto with its cumulative line)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from inventory.fields import show

from .scales import HUNDRED, Tick, scale_for

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
