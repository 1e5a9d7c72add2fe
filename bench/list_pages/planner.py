"""The planner's and the supervisor's plan pages and the rows they list (as in
tests/pages/).
"""

import itertools
from datetime import timedelta

from .users import DAY, D, _seq, light_floor


def planner_orders(client):
    """tests/pages/test_planner.py: the list with a filter, a search and a sort."""
    from django.urls import reverse

    url = reverse("planner:order_list")
    product, add = _bulk_orders()
    resource = product.route.operations.first().resource
    return f"{url}?sort=-status&q=PO-V&resource={resource.pk}", add


def planner_export(client):
    from django.urls import reverse

    _product, add = _bulk_orders()
    return f"{reverse('planner:order_export')}?sort=number", add


def _bulk_orders():
    from django.utils import timezone

    from orders.choices import OrderStatus
    from orders.models import ProductionOrder
    from tests.factories import make_releasable_product

    product = make_releasable_product()
    statuses = itertools.cycle(OrderStatus.values)

    def add(n):
        ProductionOrder.objects.bulk_create(
            (
                ProductionOrder(
                    number=f"PO-V{next(_seq):06d}",
                    item=product.item,
                    revision=product.item.revision,
                    quantity=D(next(_seq) % 90 + 1),
                    unit=product.item.unit,
                    site=product.site,
                    status=next(statuses),
                    scheduled_start=timezone.now() + timedelta(hours=next(_seq) % 50),
                )
                for _ in range(n)
            ),
            batch_size=2000,
        )

    return product, add


def order_page(client):
    """n more rows in each of the page's lists (tests/pages/test_planner.py's own helper)."""
    from django.urls import reverse

    from tests.execution.floor import make_floor
    from tests.pages.test_planner import _detail_volume

    floor = make_floor()
    order = floor.order(10)
    return reverse("planner:order_detail", args=[order.pk]), _detail_volume(order, floor)


def dashboard(client):
    """Orders in every state, each with a job, a route card line and a report-as-finished line
    on the day shown (tests/pages/test_dashboard.py's own helper)."""
    from django.urls import reverse

    from tests.execution.floor import make_floor
    from tests.pages.test_dashboard import _volume

    floor = make_floor(stock=0)
    return f"{reverse('dashboard:index')}?date={DAY.isoformat()}", _volume(floor)


def plan(client):
    from django.urls import reverse

    from execution.choices import JobKind
    from execution.models import Job

    floor = light_floor(workers=1)
    order = floor.order(1)
    resource = floor.resources[0]
    numbers = itertools.count(1000)

    def add(n):
        Job.objects.bulk_create(
            Job(
                order=order,
                operation_number=next(numbers),
                operation_name="Extra",
                kind=JobKind.PROCESS,
                resource=resource,
                sequence=1000 + i,
                planned_minutes=D(5),
            )
            for i in range(n)
        )

    return f"{reverse('supervisor:plan')}?resource={resource.pk}", add
