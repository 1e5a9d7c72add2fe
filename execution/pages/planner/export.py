"""The production order list as CSV, with the list's filters and sort."""

import csv

from django.contrib.auth.decorators import login_required, permission_required
from django.http import StreamingHttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from inventory.fields import show

from .filters import OrderListFilter
from .views import VIEW

CSV_HEADER = [
    "number",
    "part_number",
    "item_description",
    "revision",
    "quantity",
    "unit",
    "quantity_in_progress",
    "quantity_completed",
    "quantity_scrapped",
    "status",
    "site",
    "scheduled_start",
    "priority",
    "over_delivery_tolerance_pct",
    "restricted",
]


class _Echo:
    """csv.writer writes into it; each row comes back as a string to stream."""

    def write(self, value: str) -> str:
        return value


def _safe(value) -> str:
    """A cell a spreadsheet will not run as a formula (CSV injection)."""
    text = "" if value is None else str(value)
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv_rows(orders):
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_HEADER)
    # iterator(): one query, rows never all in memory, however many orders match.
    for order in orders.iterator(chunk_size=500):
        yield writer.writerow(
            [
                _safe(order.number),
                _safe(order.item.part_number),
                _safe(order.item.description),
                _safe(order.revision),
                show(order.quantity),
                order.unit.code,
                show(order.quantity_in_progress),
                show(order.quantity_completed),
                show(order.quantity_scrapped),
                order.status,
                _safe(order.site.code),
                order.scheduled_start.isoformat() if order.scheduled_start else "",
                order.priority,
                show(order.over_delivery_tolerance_pct),
                "yes" if order.restricted else "no",
            ]
        )


@login_required
@require_GET
@permission_required(VIEW, raise_exception=True)
def order_export(request):
    """The filtered, sorted list as CSV: every matching order, streamed."""
    orders = OrderListFilter(request.GET).qs
    response = StreamingHttpResponse(_csv_rows(orders), content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="production-orders-{stamp}.csv"'
    return response
