"""Release shows and confirms shortages: the one shortage read (execution.selectors.shortages), the
planner's release (a second submit with confirm_shortages when short, straight through
otherwise) and the admin's release button and bulk actions.

Products come from tests.factories (an approved BOM of lines 1, 2, 3 per unit, no stock);
stock is received through inventory's service at a location of the order's site.
"""

import itertools
from decimal import Decimal

import pytest
from django.contrib import messages
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from execution.selectors.shortages import order_release_shortages, release_shortages_to_confirm
from inventory.choices import SourceType
from inventory.models import Location, Reservation
from inventory.services import Source, inventory_receive
from mesproject.actors import Actor
from mesproject.roles import PLANNER
from orders.choices import OrderStatus
from orders.models import OrderTransitionLog, ProductionOrder
from tests.e2e.conftest import user_with_role
from tests.factories import (
    BomLineFactory,
    LocationFactory,
    WarehouseFactory,
    advance_order,
    make_order,
    make_releasable_product,
)
from tests.orders.helpers import reload, snapshot

pytestmark = pytest.mark.django_db

D = Decimal
S = OrderStatus
ORDER_URL = "admin:orders_productionorder"
_seq = itertools.count(1)


def store(site) -> Location:
    return Location.objects.filter(warehouse__site=site).first() or LocationFactory(
        warehouse=WarehouseFactory(site=site)
    )


def receive(item, quantity, site):
    inventory_receive(
        item=item,
        quantity=D(quantity),
        location=store(site),
        source=Source(SourceType.MANUAL, f"test-{next(_seq)}"),
        actor=Actor(process="test"),
    )


def components(product):
    """The BOM's components, line 10 first (1, 2, 3 per unit)."""
    return [line.component for line in product.bom.lines.order_by("line_number")]


def stocked(quantity=4, short: dict[int, Decimal] | None = None):
    """A Created order whose site holds every component it needs, less `short` (by index)."""
    product = make_releasable_product()
    order = make_order(product, quantity=quantity)
    for index, component in enumerate(components(product)):
        need = D(quantity) * (index + 1)
        have = need - (short or {}).get(index, 0)
        if have > 0:
            receive(component, have, product.site)
    return order, product


def shortfall(order) -> dict[str, tuple[Decimal, Decimal, Decimal]]:
    return {
        s.part_number: (s.required, s.available, s.short)
        for s in order_release_shortages(order=order)
    }


# --- The read ------------------------------------------------------------------------------


def test_shortages_of_an_order_about_to_be_released_and_once_released():
    order, product = stocked(4, short={1: D(3)})
    a, b, c = components(product)
    # Created: the BOM lines the release will copy; 8 of b needed, 5 on hand.
    assert shortfall(order) == {b.part_number: (D(8), D(5), D(3))}
    [shortage] = order_release_shortages(order=order)
    assert shortage.line_numbers == (20,)
    assert str(shortage) == f"{b.part_number} short 3 {b.unit.code} (needs 8, 5 available)"

    # Another order of 2, released first, reserves 2 of a, 4 of b, 6 of c.
    advance_order(make_order(product, quantity=2), S.RELEASED)
    expected = {
        a.part_number: (D(4), D(2), D(2)),
        b.part_number: (D(8), D(1), D(7)),
        c.part_number: (D(12), D(6), D(6)),
    }
    assert shortfall(order) == expected

    # Released, its own reservations do not count against it: the same shortages.
    order = advance_order(order, S.RELEASED)
    assert shortfall(order) == expected
    # The same figure the release recorded on its reservations.
    recorded = dict(
        Reservation.objects.filter(order_ref=order.number).values_list(
            "item__part_number", "quantity_short"
        )
    )
    assert recorded == {part: short for part, (_, _, short) in expected.items()}


def test_no_shortage_with_enough_stock_and_none_for_a_closed_order():
    order, _ = stocked(4)
    assert order_release_shortages(order=order) == []
    empty = make_order(quantity=5)
    assert len(order_release_shortages(order=empty)) == 3
    closed = advance_order(empty, S.CLOSED)
    assert order_release_shortages(order=closed) == []


def test_lines_of_one_component_count_together():
    product = make_releasable_product(lines=1)
    [component] = components(product)
    BomLineFactory(bom=product.bom, line_number=20, component=component, quantity_per=D(2))
    receive(component, 10, product.site)
    order = make_order(product, quantity=4)
    [shortage] = order_release_shortages(order=order)
    assert (shortage.line_numbers, shortage.required, shortage.short) == ((10, 20), D(12), D(2))


def test_the_read_runs_the_same_queries_with_1_and_12_lines():
    def count(lines):
        order = make_order(make_releasable_product(lines=lines))
        with CaptureQueriesContext(connection) as queries:
            assert len(order_release_shortages(order=order)) == lines
        return len(queries)

    assert count(1) == count(12)


def test_an_order_the_release_refuses_needs_no_confirmation():
    product = make_releasable_product()
    product.route.operations.all().delete()
    order = make_order(product)
    assert order_release_shortages(order=order)
    assert release_shortages_to_confirm(order=order) == []


# --- The planner's release -----------------------------------------------------------------


@pytest.fixture
def planner(client):
    client.force_login(user_with_role(PLANNER, "paula"))
    return client


def detail(order):
    return reverse("planner:order_detail", args=[order.pk])


def release_url(order):
    return reverse("planner:order_transition", args=[order.pk, "release"])


def flashed(response):
    return [(m.level, m.message) for m in response.context["messages"]]


def test_a_release_without_shortages_goes_straight_through(planner):
    order, _ = stocked(4)
    page = planner.get(detail(order)).text
    assert 'id="release-shortages"' not in page

    response = planner.post(release_url(order), {"reason": "kit complete"})

    assert response.status_code == 302 and response["Location"] == detail(order)
    order = reload(order)
    assert order.status == S.RELEASED
    assert not Reservation.objects.filter(order_ref=order.number, quantity_short__gt=0).exists()


def test_a_release_with_shortages_is_confirmed_first(planner):
    order, product = stocked(4, short={2: D(5)})
    c = components(product)[2]
    # The order page shows the shortage next to Release.
    page = planner.get(detail(order)).text
    table = page.split('id="release-shortages"')[1].split("</table>")[0]
    assert c.part_number in table and '<strong class="bad">5</strong>' in table
    before = snapshot(order)

    response = planner.post(release_url(order), {"reason": "urgent"})

    # Not released: the shortages, and a button that confirms them.
    assert response.status_code == 200
    assert response.templates[0].name == "planner/release_confirm.html"
    assert [s.part_number for s in response.context["shortages"]] == [c.part_number]
    html = response.content.decode()
    assert 'name="confirm_shortages" value="1"' in html
    assert 'name="reason" value="urgent"' in html
    assert snapshot(order) == before
    assert not Reservation.objects.filter(order_ref=order.number).exists()
    assert not OrderTransitionLog.objects.filter(order=order).exists()

    response = planner.post(
        release_url(order), {"reason": "urgent", "confirm_shortages": "1"}, follow=True
    )

    order = reload(order)
    assert order.status == S.RELEASED
    assert (
        messages.SUCCESS,
        f"Release: order {order.number} is now Released. 3 job(s) created.",
    ) in (flashed(response))
    assert order.transition_log.get().reason == "urgent"
    # Reserved as the release always does: the missing part recorded as short.
    assert Reservation.objects.get(order_ref=order.number, item=c).quantity_short == D(5)


def test_a_refused_release_shows_its_reasons_not_the_shortages(planner):
    product = make_releasable_product()
    product.bom.approved = False
    product.bom.save()
    order = make_order(product)

    response = planner.post(release_url(order), follow=True)

    [(level, message)] = flashed(response)
    assert level == messages.ERROR and "is not approved" in message
    assert reload(order).status == S.CREATED


# --- The admin -----------------------------------------------------------------------------


def admin_flashed(response):
    return [(m.level, m.message) for m in get_messages(response.wsgi_request)]


def test_admin_release_button_confirms_shortages(admin_client):
    order, product = stocked(2, short={0: D(2)})
    a = components(product)[0]
    change = reverse(f"{ORDER_URL}_change", args=[order.pk])
    transition = reverse(f"{ORDER_URL}_transition", args=[order.pk, "release"])
    page = admin_client.get(change).content.decode()
    assert 'name="confirm_shortages" value="1"' in page
    assert "Release with shortages" in page and a.part_number in page

    response = admin_client.post(transition, {"reason": ""})

    assert response.status_code == 302 and response["Location"] == change
    [(level, message)] = admin_flashed(response)
    assert level == messages.WARNING
    assert f"Order {order.number} not released: short of {a.part_number} short 2" in message
    assert reload(order).status == S.CREATED

    response = admin_client.post(transition, {"confirm_shortages": "1"})
    assert reload(order).status == S.RELEASED


def test_admin_release_button_without_shortages(admin_client):
    order, _ = stocked(2)
    change = reverse(f"{ORDER_URL}_change", args=[order.pk])
    assert "Release with shortages" not in admin_client.get(change).content.decode()
    admin_client.post(reverse(f"{ORDER_URL}_transition", args=[order.pk, "release"]))
    assert reload(order).status == S.RELEASED


def test_admin_bulk_release_leaves_the_short_orders_unless_confirmed(admin_client):
    ready, _ = stocked(3)
    short, product = stocked(3, short={1: D(1)})
    b = components(product)[1]
    changelist = reverse(f"{ORDER_URL}_changelist")
    selected = [ready.pk, short.pk]

    response = admin_client.post(
        changelist, {"action": "release_selected", "_selected_action": selected}, follow=True
    )

    statuses = dict(ProductionOrder.objects.values_list("number", "status"))
    assert statuses == {ready.number: S.RELEASED, short.number: S.CREATED}
    by_level = {m.level: m.message for m in response.context["messages"]}
    assert by_level[messages.SUCCESS] == f"Release: {ready.number}."
    assert f"{short.number}: {b.part_number} short 1" in by_level[messages.WARNING]
    assert "shortages confirmed" in by_level[messages.WARNING]

    admin_client.post(
        changelist,
        {"action": "release_selected_with_shortages", "_selected_action": selected},
    )
    assert reload(short).status == S.RELEASED
