"""The supervisors' dashboard: work in progress, output, scrap, order states, late orders.

Read-only. The figures come from .selectors (aggregated in the database, a constant number
of queries), the chart geometry from .charts; the templates draw server-side SVG, each chart
with its numbers in a table. Needs orders.view_productionorder (supervisors, planners, IT),
checked here on the server.
"""

from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from inventory.fields import ZERO

from . import charts
from . import selectors as dashboard
from .forms import DashboardFilter

VIEW_PERMISSION = "orders.view_productionorder"
# Small multiples beyond this many resources stop being readable; the table keeps them all.
MAX_PANELS = 12
WIP_SERIES = [
    ("completed", "Completed"),
    ("scrapped", "Scrapped"),
    ("in-progress", "In progress"),
    ("not-started", "Not started"),
]


def _wip_chart(wip: dashboard.WipSummary) -> charts.HBarChart:
    rows = [
        (row.number, [row.completed, row.scrapped, row.in_progress, row.not_started])
        for row in wip.rows
    ]
    return charts.stacked_hbars(rows, WIP_SERIES)


def _output_chart(resources, hours) -> charts.MultiplesChart:
    series = [(f"{r.code} {r.name}", r.by_hour) for r in resources[:MAX_PANELS]]
    return charts.hourly_multiples(series, hours)


def _scrap_chart(reasons) -> charts.VBarChart:
    return charts.vbars([(r.code, r.code, r.quantity) for r in reasons], pareto=True)


def _status_chart(counts) -> charts.VBarChart:
    return charts.vbars([(c.status, c.label, c.count) for c in counts], integer=True)


# The permission is checked before the method, so a user without it gets 403 whatever they send.
@login_required
@permission_required(VIEW_PERMISSION, raise_exception=True)
@require_safe
def index(request):
    filters = DashboardFilter(request.GET or None)
    day = filters.cleaned_data["date"] if filters.is_valid() else None
    period = dashboard.period_for(day)
    now = timezone.now()
    wip = dashboard.wip_by_order()
    output = dashboard.output_by_resource_hour(period)
    scrap = dashboard.scrap_by_reason(period)
    statuses = dashboard.orders_by_status()
    late = dashboard.late_orders(now=now)
    hours = period.hours()
    scrap_chart = _scrap_chart(scrap)
    return render(
        request,
        "dashboard/index.html",
        {
            "filters": filters,
            "period": period,
            "now": now,
            "wip": wip,
            "wip_chart": _wip_chart(wip),
            "output": output,
            "output_chart": _output_chart(output, hours),
            "output_hidden": max(len(output) - MAX_PANELS, 0),
            "output_good": sum((r.good for r in output), ZERO),
            "hours": hours,
            "output_table": [(r, [r.by_hour.get(hour, ZERO) for hour in hours]) for r in output],
            "scrap": scrap,
            "scrap_total": sum((r.quantity for r in scrap), ZERO),
            "scrap_chart": scrap_chart,
            "scrap_rows": list(zip(scrap, scrap_chart.bars, strict=True)),
            "statuses": statuses,
            "status_chart": _status_chart(statuses),
            "late": late,
            "late_rows": [(row, charts.duration_text(row.late_by)) for row in late.rows],
        },
    )
