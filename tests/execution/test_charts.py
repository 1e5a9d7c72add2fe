"""The dashboard's chart geometry (execution.pages.dashboard.charts): nice ticks, scales, bar boxes.

Pure functions, no database.
"""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from execution.pages.dashboard import charts

D = Decimal


@pytest.mark.parametrize(
    ("maximum", "ticks"),
    [
        (7, [0, 2, 4, 6, 8]),
        (10, [0, 2, 4, 6, 8, 10]),
        (12, [0, 5, 10, 15]),
        (99.5, [0, 20, 40, 60, 80, 100]),
        (1234, [0, 500, 1000, 1500]),
        ("0.3", ["0", "0.1", "0.2", "0.3"]),
        (1, ["0", "0.2", "0.4", "0.6", "0.8", "1"]),
    ],
)
def test_ticks_are_round_and_reach_the_maximum(maximum, ticks):
    result = charts.nice_ticks(D(str(maximum)))
    assert result == [D(str(t)) for t in ticks]
    assert result[-1] >= D(str(maximum))
    # No exponent notation ever reaches a label: 10, not 1E+1.
    assert all("E" not in charts.show(t) for t in result)


def test_zero_or_negative_data_still_gets_an_axis():
    assert charts.nice_ticks(0) == [0, 1]
    assert charts.nice_ticks(D("-3")) == [0, 1]


def test_counts_get_whole_ticks():
    assert charts.nice_ticks(3, integer=True) == [0, 1, 2, 3]
    assert charts.nice_ticks(1, integer=True) == [0, 1]


def test_the_scale_is_linear_and_clamped():
    scale = charts.Scale(D(50), 200)
    assert (scale(0), scale(25), scale(50)) == (0.0, 100.0, 200.0)
    assert scale(80) == 200.0 and scale(-5) == 0.0
    assert charts.Scale(D(0), 200)(10) == 0.0


def test_show_and_duration_text():
    assert [charts.show(v) for v in (D("10.000000"), D("2.500"), D("1E+1"), 0)] == [
        "10",
        "2.5",
        "10",
        "0",
    ]
    assert charts.duration_text(timedelta(minutes=45, seconds=30)) == "45 min"
    assert charts.duration_text(timedelta(hours=3, minutes=20)) == "3 h 20 min"
    assert charts.duration_text(timedelta(days=2, hours=3, minutes=5)) == "2 d 3 h"
    assert charts.duration_text(timedelta(minutes=-5)) == "0 min"


SERIES = [("done", "Done"), ("left", "Left")]


def test_stacked_bars_share_one_scale_and_segments_follow_each_other():
    chart = charts.stacked_hbars(
        [("A", [D(5), D(15)]), ("B", [D(10), D(0)])], SERIES, width=800, label_width=150
    )
    assert chart.plot_width == 600
    assert [t.value for t in chart.ticks] == [0, 5, 10, 15, 20]
    a, b = chart.bars
    # 20 on a 0..20 axis fills the plot; 10 fills half of it.
    assert [(s.x, s.width) for s in a.segments] == [(0.0, 150.0), (150.0, 450.0)]
    assert [(s.x, s.width) for s in b.segments] == [(0.0, 300.0), (300.0, 0.0)]
    assert (a.total, a.total_text, a.end) == (20, "20", 604.0)
    assert b.y > a.y and b.y - a.y == a.height + 8
    assert chart.height > chart.plot_bottom


def test_one_bar_and_no_bars():
    one = charts.stacked_hbars([("Only", [D(3), D(1)])], SERIES)
    assert len(one.bars) == 1
    # The axis ends at the bar's round total: the one bar fills the plot, 3 then 1.
    assert [t.value for t in one.ticks] == [0, 1, 2, 3, 4]
    assert [s.width for s in one.bars[0].segments] == [450.0, 150.0]
    empty = charts.stacked_hbars([], SERIES)
    assert empty.bars == [] and [t.value for t in empty.ticks] == [0, 1]
    zeros = charts.stacked_hbars([("Z", [D(0), D(0)])], SERIES)
    assert [s.width for s in zeros.bars[0].segments] == [0.0, 0.0]


def test_column_bars_stand_on_the_axis():
    chart = charts.vbars(
        [("a", "A", D(4)), ("b", "B", D(2)), ("c", "C", D(0))], width=640, height=240
    )
    bottom = chart.plot_bottom
    a, b, c = chart.bars
    assert chart.ticks[-1].value == 4 and chart.ticks[-1].position == chart.plot_top
    assert a.height == chart.plot_height and a.y == chart.plot_top
    assert b.height == chart.plot_height / 2 and b.y + b.height == bottom
    assert (c.height, c.y) == (0.0, bottom)
    # Evenly spaced, left to right, inside the plot.
    assert a.center < b.center < c.center
    assert a.x >= chart.plot_left and c.x + c.width <= chart.plot_right
    assert chart.line_points == "" and chart.pct_ticks == []


def test_one_column_and_no_data():
    one = charts.vbars([("a", "A", D(3))])
    assert one.bars[0].center == one.plot_left + one.plot_width / 2
    assert one.bars[0].width <= 90  # a single bar does not fill the whole chart
    assert charts.vbars([]).bars == []
    zero = charts.vbars([("a", "A", D(0))], pareto=True)
    assert zero.bars[0].height == 0.0 and zero.bars[0].cumulative_pct is None
    assert zero.points == []


def test_the_pareto_line_climbs_to_100_percent():
    chart = charts.vbars(
        [("x", "X", D(6)), ("y", "Y", D(3)), ("z", "Z", D(1))], pareto=True, height=240
    )
    assert [b.cumulative_pct for b in chart.bars] == [D("60.0"), D("90.0"), D("100.0")]
    first, _second, last = chart.points
    assert last.y == chart.plot_top  # 100 % is the top of the plot
    assert first.y == pytest.approx(chart.plot_top + chart.plot_height * 0.4, abs=0.01)
    assert (first.x, first.text) == (chart.bars[0].center, "60 %")
    assert chart.line_points.count(",") == 3
    assert [t.value for t in chart.pct_ticks] == [0, 25, 50, 75, 100]
    assert chart.pct_ticks[0].position == chart.plot_bottom


def test_small_multiples_share_one_scale_and_fill_missing_hours():
    hours = [datetime(2026, 3, 2, h, tzinfo=UTC) for h in range(24)]
    chart = charts.hourly_multiples(
        [("R1", {hours[5]: D(10), hours[6]: D(5)}), ("R2", {hours[6]: D(20)})], hours
    )
    r1, r2 = chart.panels
    assert len(r1.bars) == len(r2.bars) == 24
    assert (r1.total, r1.peak, r2.total) == (15, 10, 20)
    assert r1.bars[0].value == 0 and r1.bars[0].height == 0.0
    # One scale: R2's 20 is twice as tall as R1's 10.
    assert r2.bars[6].height == 2 * r1.bars[5].height == chart.plot_height
    assert r1.bars[6].x == r2.bars[6].x > r1.bars[5].x
    assert [text for _x, text in chart.hour_labels] == ["00", "06", "12", "18"]


def test_small_multiples_without_data():
    hours = [datetime(2026, 3, 2, h, tzinfo=UTC) for h in range(3)]
    chart = charts.hourly_multiples([], hours)
    assert chart.panels == [] and [t.value for t in chart.ticks] == [0, 1]
    quiet = charts.hourly_multiples([("R1", {})], hours)
    assert [b.height for b in quiet.panels[0].bars] == [0.0, 0.0, 0.0]
