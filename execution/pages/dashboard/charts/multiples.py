"""Small multiples: one hourly bar chart per resource, on one shared scale."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from inventory.fields import show

from .scales import Tick, scale_for


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
