"""Geometry of the dashboard's server-side SVG charts: scales, nice axis ticks, bar boxes.

Pure Python but for the labels, which use the product's one quantity display: the templates
only place the numbers computed here. Coordinates are SVG user units of a fixed viewBox (the
SVG scales to its container); values stay Decimal for the labels and become floats only as
positions.

`scales` holds the axes (nice ticks, linear scales) every chart uses, `bars` the stacked
horizontal bars and the vertical bars (with a Pareto line), `multiples` the small multiples of
hourly bars. The dashboard view and its tests use them through this package.
"""

from inventory.fields import show

from .bars import HBar, HBarChart, Point, Segment, VBar, VBarChart, stacked_hbars, vbars
from .multiples import HourBar, MultiplesChart, Panel, hourly_multiples
from .scales import Scale, Tick, duration_text, nice_step, nice_ticks, plain, scale_for

__all__ = [
    "HBar",
    "HBarChart",
    "HourBar",
    "MultiplesChart",
    "Panel",
    "Point",
    "Scale",
    "Segment",
    "Tick",
    "VBar",
    "VBarChart",
    "duration_text",
    "hourly_multiples",
    "nice_step",
    "nice_ticks",
    "plain",
    "scale_for",
    "show",
    "stacked_hbars",
    "vbars",
]
