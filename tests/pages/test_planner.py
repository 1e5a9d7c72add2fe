"""The planner pages: the production order list (filters, sort, search, CSV), the order page
with its transitions, the order form and the split, with their permissions and query counts.

Orders are created and moved through orders.services (tests.factories); the query-count
tests add volume rows directly, since how a row was made does not change what reading it
costs.
"""

import csv
import io
import itertools
import uuid
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.db import connection
from django.http import HttpRequest
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from execution.choices import JobKind, LogbookKind, RegistrationKind, RegistrationStatus
from execution.models import (
    Job,
    LogbookEntry,
    PickingListLine,
    RawRegistration,
    ReportAsFinishedLine,
    RouteCardLine,
)
from inventory.choices import SourceType, TransactionKind
from inventory.models import InventoryTransaction
from mesproject.roles import OPERATOR, PLANNER, SUPERVISOR
from orders.choices import OrderStatus
from orders.models import OrderTransitionLog, ProductionOrder, ProductionOrderMaterial
from tests.e2e.conftest import PASSWORD, user_with_role
from tests.execution.floor import make_floor
from tests.factories import (
    ItemFactory,
    ResourceFactory,
    SiteFactory,
    UnitOfMeasureFactory,
    advance_order,
    make_order,
    make_releasable_product,
)
from tests.orders.helpers import reload, snapshot
from tests.pages import assert_constant_queries

pytestmark = pytest.mark.django_db

D = Decimal
LIST = reverse("planner:order_list")
EXPORT = reverse("planner:order_export")
CREATE = reverse("planner:order_create")
_seq = itertools.count(1)


def detail(order):
    return reverse("planner:order_detail", args=[order.pk])


def transition_url(order, name):
    return reverse("planner:order_transition", args=[order.pk, name])


def flashed(response):
    return [(m.level, m.message) for m in response.context["messages"]]


def signed_in(client, role: str | None, username: str):
    if role is None:
        get_user_model().objects.create_user(username, password=PASSWORD)
    else:
        user_with_role(role, username)
    # django-axes checks every sign-in against its request (the test client has none).
    assert client.login(request=HttpRequest(), username=username, password=PASSWORD)
    return client


@pytest.fixture
def planner(client):
    return signed_in(client, PLANNER, "paula")


def csv_rows(response) -> list[dict]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


def numbers(response) -> list[str]:
    return [order.number for order in response.context["page"]]


# --- Permissions ----------------------------------------------------------------------------


def _actions(order):
    """Every view and action, with the method it answers."""
    return [
        ("get", LIST, {}),
        ("get", EXPORT, {}),
        ("get", detail(order), {}),
        ("get", CREATE, {}),
        ("post", CREATE, {"number": "PO-NOPE"}),
        ("get", reverse("planner:order_edit", args=[order.pk]), {}),
        ("post", reverse("planner:order_edit", args=[order.pk]), {"priority": 1}),
        ("post", reverse("planner:order_split", args=[order.pk]), {"step_size": "2"}),
        ("post", transition_url(order, "release"), {}),
        ("post", transition_url(order, "cancel"), {"reason": "no"}),
    ]


@pytest.mark.parametrize("role", [OPERATOR, None])
def test_an_operator_or_a_user_without_permissions_gets_403_everywhere(client, role):
    order = make_order()
    before = snapshot(order)
    signed_in(client, role, "olga")
    for method, url, data in _actions(order):
        response = getattr(client, method)(url, data)
        assert response.status_code == 403, (method, url)
    assert snapshot(order) == before
    assert ProductionOrder.objects.count() == 1


def test_a_supervisor_views_and_changes_orders_but_cannot_create_them(client):
    order = make_order()
    signed_in(client, SUPERVISOR, "sam")
    assert client.get(LIST).status_code == 200
    assert client.get(detail(order)).status_code == 200
    assert client.get(CREATE).status_code == 403
    assert client.post(CREATE, {}).status_code == 403
    assert client.get(reverse("planner:order_edit", args=[order.pk])).status_code == 200


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get(LIST)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# --- The list: filters, search, sort, CSV ---------------------------------------------------


@pytest.fixture
def plan():
    """Four orders on two sites, two products, two resources; some scheduled."""
    site_a, site_b = SiteFactory(code="NORTH"), SiteFactory(code="SOUTH")
    bike = make_releasable_product(site=site_a)
    bike.item.description = "Mountain bike"
    bike.item.save()
    trike = make_releasable_product(site=site_b)
    start = timezone.make_aware(datetime(2026, 4, 1, 8, 0))
    orders = {
        "a": make_order(bike, number="PO-A1", quantity=30, scheduled_start=start, priority=3),
        "b": make_order(
            bike, number="PO-B2", quantity=10, scheduled_start=start + timedelta(days=5)
        ),
        "c": make_order(trike, number="PO-C3", quantity=20, priority=1),
        "d": make_order(
            trike, number="PO-D4", quantity=5, scheduled_start=start + timedelta(days=10)
        ),
    }
    orders["b"] = advance_order(orders["b"], OrderStatus.RELEASED)
    return {"bike": bike, "trike": trike, "sites": (site_a, site_b), **orders}


def test_the_list_filters_by_status_site_item_resource_and_dates(planner, plan):
    assert sorted(numbers(planner.get(LIST))) == ["PO-A1", "PO-B2", "PO-C3", "PO-D4"]
    assert numbers(planner.get(LIST, {"status": "released"})) == ["PO-B2"]
    assert sorted(numbers(planner.get(LIST, {"site": plan["sites"][1].pk}))) == ["PO-C3", "PO-D4"]
    part = plan["trike"].item.part_number
    assert sorted(numbers(planner.get(LIST, {"item": part.lower()}))) == ["PO-C3", "PO-D4"]
    # A route operation's resource finds the Created orders; a job's, the released one.
    resource = plan["bike"].route.operations.first().resource
    assert sorted(numbers(planner.get(LIST, {"resource": resource.pk}))) == ["PO-A1", "PO-B2"]
    Job.objects.filter(order=plan["b"]).update(resource=ResourceFactory())
    moved = Job.objects.filter(order=plan["b"]).first().resource
    assert numbers(planner.get(LIST, {"resource": moved.pk})) == ["PO-B2"]
    dates = {"scheduled_from": "2026-04-02", "scheduled_to": "2026-04-11"}
    assert sorted(numbers(planner.get(LIST, dates))) == ["PO-B2", "PO-D4"]


def test_the_list_searches_number_part_number_and_name(planner, plan):
    assert numbers(planner.get(LIST, {"q": "c3"})) == ["PO-C3"]
    assert sorted(numbers(planner.get(LIST, {"q": "mountain"}))) == ["PO-A1", "PO-B2"]
    part = plan["trike"].item.part_number
    assert sorted(numbers(planner.get(LIST, {"q": part}))) == ["PO-C3", "PO-D4"]
    response = planner.get(LIST, {"q": "nothing-like-it"})
    assert "No orders match." in response.text


def test_an_invalid_filter_is_shown_and_not_applied(planner, plan):
    response = planner.get(LIST, {"scheduled_from": "not a date", "site": "99999"})
    assert len(numbers(response)) == 4
    assert "Enter a valid date." in response.text


def test_sorting_by_each_column_with_aria_sort(planner, plan):
    response = planner.get(LIST, {"sort": "priority"})
    assert numbers(response) == ["PO-C3", "PO-A1", "PO-B2", "PO-D4"]
    assert 'aria-sort="ascending"' in response.text
    assert response.text.count("aria-sort=") == 1
    response = planner.get(LIST, {"sort": "-quantity"})
    assert numbers(response) == ["PO-A1", "PO-C3", "PO-B2", "PO-D4"]
    assert 'aria-sort="descending"' in response.text
    # Unscheduled orders go last both ways.
    assert numbers(planner.get(LIST, {"sort": "scheduled_start"}))[-1] == "PO-C3"
    assert numbers(planner.get(LIST, {"sort": "-scheduled_start"}))[-1] == "PO-C3"
    # Status sorts by the lifecycle, not alphabetically.
    assert numbers(planner.get(LIST, {"sort": "-status"}))[0] == "PO-B2"
    assert numbers(planner.get(LIST, {"sort": "number"})) == ["PO-A1", "PO-B2", "PO-C3", "PO-D4"]
    # An unknown sort is ignored (newest first), not an error.
    assert planner.get(LIST, {"sort": "password"}).status_code == 200


def test_the_list_is_paginated_by_50_keeping_filters(planner):
    product = make_releasable_product()
    for _ in range(51):
        make_order(product)
    response = planner.get(LIST, {"sort": "number"})
    assert len(numbers(response)) == 50
    assert "sort=number&amp;page=2" in response.text
    assert len(numbers(planner.get(LIST, {"sort": "number", "page": 2}))) == 1


def test_the_csv_export_has_every_matching_order(planner, plan):
    response = planner.get(EXPORT, {"site": plan["sites"][0].pk, "sort": "number"})
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = csv_rows(response)
    assert [row["number"] for row in rows] == ["PO-A1", "PO-B2"]
    first = rows[0]
    assert first["part_number"] == plan["bike"].item.part_number
    assert first["item_description"] == "Mountain bike"
    assert (first["quantity"], first["unit"], first["status"]) == ("30", "pcs", "created")
    assert first["scheduled_start"].startswith("2026-04-01T08:00")
    assert (first["site"], first["priority"], first["restricted"]) == ("NORTH", "3", "no")


def test_the_csv_export_defuses_spreadsheet_formulas(planner):
    product = make_releasable_product()
    product.item.description = "=HYPERLINK(1)"
    product.item.save()
    make_order(product, number="PO-F")
    [row] = csv_rows(planner.get(EXPORT))
    assert row["item_description"] == "'=HYPERLINK(1)"


# --- Query counts ---------------------------------------------------------------------------


def _bulk_orders():
    """add_rows(n): n more orders (volume only: the list reads them the same way)."""
    product = make_releasable_product()
    statuses = itertools.cycle(OrderStatus.values)

    def add(n):
        ProductionOrder.objects.bulk_create(
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
        )

    return add, product


def test_the_list_runs_the_same_queries_at_10_and_500_orders(planner):
    add, product = _bulk_orders()
    resource = product.route.operations.first().resource
    url = f"{LIST}?sort=-status&q=PO-V&resource={resource.pk}"
    count = assert_constant_queries(planner, url, add)
    assert count <= 12, count


def _streamed_queries(client, url) -> tuple[int, int]:
    """Queries of one CSV download, the streaming included, and its row count."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
        rows = csv_rows(response)
    assert response.status_code == 200
    return len(queries), len(rows)


def test_the_csv_export_streams_all_rows_in_constant_queries(planner):
    add, _ = _bulk_orders()
    add(10)
    small, rows_small = _streamed_queries(planner, f"{EXPORT}?sort=number")
    add(490)
    large, rows_large = _streamed_queries(planner, f"{EXPORT}?sort=number")
    assert (rows_small, rows_large) == (10, 500)
    assert small == large, (small, large)


# --- The order page -------------------------------------------------------------------------


def test_the_order_page_shows_header_quantities_materials_and_effective_principle(planner):
    floor = make_floor(lines=[("FRAME", "start", 10, "1"), ("OIL", "none", 20, "0.5")], stock=3)
    floor.components["OIL"].default_flushing_principle = "available_at_location"
    floor.components["OIL"].save()
    order = floor.order(4, release=False)
    response = planner.get(detail(order))
    text = response.text
    assert order.number in text and floor.product.part_number in text
    # Not released: the BOM lines it will copy, each with its effective principle.
    rows = {row.component.part_number: row for row in response.context["page_data"].materials}
    oil = rows[floor.components["OIL"].part_number]
    assert (oil.principle, oil.principle_is_default) == ("available_at_location", True)
    assert "Available at location" in text and "(item default)" in text
    assert oil.required == D("2") and oil.at_input == D("3")
    assert rows[floor.components["FRAME"].part_number].short_at_input == D("1")
    assert "jobs are created from the route on release" in text


def test_a_released_order_shows_jobs_reservations_shortages_and_journals(planner):
    floor = make_floor(stock=0)
    floor.stock("FRAME", 4, floor.resources[0].input_location)
    order = floor.order(10)
    worker = floor.workers[0]
    floor.clock_in(worker, 0)
    floor.post("start_job", at=1, badge_id=worker, job=floor.job(order, 10), quantity="4")
    floor.process()
    response = planner.get(detail(order))
    data = response.context["page_data"]
    assert [(j.operation_number, j.resource.code) for j in data.jobs] == [
        (10, floor.resources[0].code),
        (20, floor.resources[1].code),
        (30, floor.resources[2].code),
    ]
    frame = next(m for m in data.materials if m.component == floor.components["FRAME"])
    assert (frame.required, frame.consumed, frame.principle_label) == (D(10), D(4), "Start")
    # Nothing of the wheels at the site: their whole open reservation is short.
    wheel = next(r for r in data.reservations if r.item == floor.components["WHEEL"])
    assert wheel.quantity_open == D(20) and wheel.short_now == D(20)
    assert data.picking_list.count == 1
    assert data.logbook.count >= 1
    assert data.history.count == 2  # release, then started
    assert "Picking list: 1 line" in response.text


def test_the_erp_messages_are_loaded_from_the_it_fragment(planner):
    order = make_order()
    text = planner.get(detail(order)).text
    fragment = reverse("it:order_messages", args=[order.pk])
    assert f'hx-get="{fragment}"' in text


def _detail_volume(order, floor):
    """add_rows(n): n more rows in each of the page's sub-lists."""
    resource = floor.resources[0]
    component = floor.components["BELL"]
    store = floor.resources[0].input_location
    counter = itertools.count(1000)

    def add(n):
        now = timezone.now()
        numbers_ = [next(counter) for _ in range(n)]
        ProductionOrderMaterial.objects.bulk_create(
            ProductionOrderMaterial(
                order=order, line_number=i, component=component, quantity_per=D(1)
            )
            for i in numbers_
        )
        jobs = Job.objects.bulk_create(
            Job(
                order=order,
                operation_number=i,
                operation_name=f"Op {i}",
                kind=JobKind.PROCESS,
                resource=resource,
                sequence=i,
            )
            for i in numbers_
        )
        registrations = RawRegistration.objects.bulk_create(
            RawRegistration(
                uuid=uuid.uuid4(),
                kind=RegistrationKind.REPORT_AS_FINISHED,
                status=RegistrationStatus.PROCESSED,
                lane=f"order:{order.pk}",
                occurred_at=now,
                order=order,
                job=job,
                worker=floor.workers[0],
            )
            for job in jobs
        )
        RouteCardLine.objects.bulk_create(
            RouteCardLine(
                registration=r,
                order=order,
                job=r.job,
                operation_number=r.job.operation_number,
                job_kind=JobKind.PROCESS,
                resource=resource,
                worker=floor.workers[0],
                ended_at=now,
                quantity_good=D(1),
            )
            for r in registrations
        )
        ReportAsFinishedLine.objects.bulk_create(
            ReportAsFinishedLine(registration=r, order=order, item=order.item, quantity_good=D(1))
            for r in registrations
        )
        ledger = InventoryTransaction.objects.bulk_create(
            InventoryTransaction(
                kind=TransactionKind.ISSUE,
                item=component,
                location=store,
                quantity=D(-1),
                unit=component.unit,
                order_ref=order.number,
                source_type=SourceType.REGISTRATION,
                source_id=str(r.pk),
                actor="test",
            )
            for r in registrations
        )
        materials = list(order.materials.filter(line_number__in=numbers_).order_by("line_number"))
        PickingListLine.objects.bulk_create(
            PickingListLine(
                registration=r,
                line_number=1,
                order=order,
                material=m,
                component=component,
                location=store,
                quantity=D(1),
                principle="manual",
                event="manual",
                inventory_transaction=t,
            )
            for r, m, t in zip(registrations, materials, ledger, strict=True)
        )
        LogbookEntry.objects.bulk_create(
            LogbookEntry(
                at=now,
                kind=LogbookKind.INFO,
                order=order,
                job=j,
                worker=floor.workers[0],
                text="note",
            )
            for j in jobs
        )
        OrderTransitionLog.objects.bulk_create(
            OrderTransitionLog(
                order=order,
                transition="start",
                from_status=OrderStatus.RELEASED,
                to_status=OrderStatus.IN_PROGRESS,
                actor="test",
            )
            for _ in range(n)
        )

    return add


def test_the_order_page_runs_the_same_queries_with_10_and_500_lines_in_each_list(planner):
    floor = make_floor()
    order = floor.order(10)
    count = assert_constant_queries(planner, detail(order), _detail_volume(order, floor))
    assert count <= 45, count


# --- Transitions ----------------------------------------------------------------------------


def test_release_goes_through_the_service_and_creates_jobs_and_reservations(planner):
    product = make_releasable_product(lines=2)
    order = make_order(product, quantity=4)
    page = planner.get(detail(order)).text
    assert 'action="{}"'.format(transition_url(order, "release")) in page

    # No stock for its components: confirmed (tests/pages/test_release_shortages.py).
    response = planner.post(
        transition_url(order, "release"), {"confirm_shortages": "1"}, follow=True
    )

    order = reload(order)
    assert order.status == OrderStatus.RELEASED
    assert order.jobs.count() == 3
    assert order.materials.count() == 2
    assert flashed(response) == [
        (messages.SUCCESS, f"Release: order {order.number} is now Released. 3 job(s) created.")
    ]
    log = order.transition_log.get()
    assert (log.transition, log.actor) == ("release", "user:paula")
    assert "Unrelease" in response.text


def test_a_refused_release_is_disabled_with_its_reason_and_refused_by_the_server(planner):
    product = make_releasable_product()
    product.bom.approved = False
    product.bom.save()
    order = make_order(product)
    before = snapshot(order)
    reason = f"BOM {product.item.part_number} rev A is not approved"

    page = planner.get(detail(order)).text
    assert "disabled" in page.split('id="blockers-release"')[0].rsplit("<form", 1)[1]
    assert reason in page

    response = planner.post(transition_url(order, "release"), follow=True)
    [(level, message)] = flashed(response)
    assert level == messages.ERROR
    assert message == f"Release of order {order.number} refused: {reason}."
    assert snapshot(order) == before


def test_cancel_asks_for_a_reason(planner):
    order = make_order()
    response = planner.post(transition_url(order, "cancel"), {"reason": "  "}, follow=True)
    assert flashed(response) == [(messages.ERROR, "Give a reason for canceling the order.")]
    assert reload(order).status == OrderStatus.CREATED

    planner.post(transition_url(order, "cancel"), {"reason": "customer withdrew"})
    order = reload(order)
    assert order.status == OrderStatus.CANCELED
    assert order.transition_log.get().reason == "customer withdrew"
    text = planner.get(detail(order)).text
    assert "customer withdrew" in text
    assert transition_url(order, "unterminate") in text


def test_close_is_refused_while_below_quantity(planner):
    order = advance_order(make_order(quantity=10), OrderStatus.IN_PROGRESS)
    # In Progress offers only cancel; the close guard is checked on the server too.
    response = planner.post(transition_url(order, "close"), follow=True)
    [(level, message)] = flashed(response)
    assert level == messages.ERROR and "Close is not possible from In progress" in message
    response = planner.post(transition_url(order, "explode"), follow=True)
    assert flashed(response)[0][0] == messages.ERROR


# --- Create, edit, split --------------------------------------------------------------------


def _form_data(product, **overrides):
    data = {
        "number": "PO-NEW1",
        "item": product.item.pk,
        "revision": "",
        "quantity": "12",
        "unit": "",
        "site": product.site.pk,
        "scheduled_start": "2026-05-04T07:30",
        "priority": "2",
        "over_delivery_tolerance_pct": "5",
    }
    data.update(overrides)
    return data


def test_create_an_order_through_the_form(planner):
    product = make_releasable_product()
    assert planner.get(CREATE).status_code == 200
    response = planner.post(CREATE, _form_data(product))
    order = ProductionOrder.objects.get(number="PO-NEW1")
    assert response.status_code == 302 and response["Location"] == detail(order)
    assert (order.quantity, order.unit, order.revision) == (D(12), product.item.unit, "A")
    assert (order.priority, order.over_delivery_tolerance_pct) == (2, D(5))
    assert timezone.localtime(order.scheduled_start).strftime("%H:%M") == "07:30"
    assert order.history.first().history_user.username == "paula"


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"quantity": "0"}, "quantity", "The order quantity must be above zero."),
        ({"quantity": "1.5"}, "quantity", "1.5 has more decimals than pcs allows (0)."),
        ({"number": "PO-TAKEN"}, "number", "Order PO-TAKEN already exists."),
        ({"priority": "12"}, "priority", "Ensure this value is less than or equal to 9."),
        ({"item": ""}, "item", "This field is required."),
    ],
)
def test_create_refusals_are_shown_on_their_field(planner, overrides, field, message):
    product = make_releasable_product()
    make_order(product, number="PO-TAKEN")
    response = planner.post(CREATE, _form_data(product, **overrides))
    assert response.status_code == 200
    assert message in response.context["form"].errors[field]
    assert message in response.text
    assert ProductionOrder.objects.count() == 1


def test_the_unit_defaults_to_the_items_unit(planner):
    product = make_releasable_product()
    other = ItemFactory(unit=UnitOfMeasureFactory(code="kg", decimal_places=3))
    response = planner.post(CREATE, _form_data(product, item=other.pk, quantity="1.25"))
    assert response.status_code == 302
    assert ProductionOrder.objects.get().unit.code == "kg"


def _edit(order):
    return reverse("planner:order_edit", args=[order.pk])


def test_edit_a_created_order(planner):
    product = make_releasable_product()
    order = make_order(product, quantity=10)
    form = planner.get(_edit(order)).context["form"]
    data = {name: form[name].value() for name in form.fields}
    data.update({"quantity": "15", "priority": "1", "scheduled_start": "", "restricted": ""})
    data = {k: ("" if v is None else v) for k, v in data.items()}
    response = planner.post(_edit(order), data)
    assert response.status_code == 302
    order = reload(order)
    assert (order.quantity, order.priority) == (D(15), 1)


def test_a_released_order_keeps_item_and_site_and_refuses_quantity_below_produced(planner):
    order = advance_order(make_order(quantity=10), OrderStatus.COMPLETED)
    form = planner.get(_edit(order)).context["form"]
    assert form.fields["item"].disabled and form.fields["site"].disabled
    other_site = SiteFactory()
    data = {name: form[name].value() for name in form.fields}
    data = {k: ("" if v is None else v) for k, v in data.items()}
    data.update({"site": other_site.pk, "quantity": "8", "restricted": ""})
    before = snapshot(order)

    response = planner.post(_edit(order), data)

    assert response.status_code == 200
    assert "is below the 10 already produced" in response.context["form"].errors["quantity"][0]
    assert snapshot(order) == before
    # A change the services allow is saved; the disabled site was ignored.
    data["quantity"] = "12"
    assert planner.post(_edit(order), data).status_code == 302
    order = reload(order)
    assert (order.quantity, order.status, order.site_id) == (
        D(12),
        "in_progress",
        before["order"]["site_id"],
    )


def test_a_closed_order_cannot_be_edited(planner):
    order = advance_order(make_order(), OrderStatus.CLOSED)
    response = planner.get(_edit(order), follow=True)
    assert response.redirect_chain[-1][0] == detail(order)
    [(level, message)] = flashed(response)
    assert level == messages.ERROR and "closed and frozen" in message
    assert "Edit order" not in response.text


def test_split_into_steps(planner):
    order = make_order(quantity=10)
    url = reverse("planner:order_split", args=[order.pk])
    response = planner.post(url, {"step_size": "4"}, follow=True)
    assert flashed(response) == [(messages.SUCCESS, f"Order {order.number} split into 3 step(s).")]
    assert list(order.steps.values_list("quantity", flat=True)) == [D(4), D(4), D(2)]
    assert "3 steps: 1: 4 · 2: 4 · 3: 2" in response.text
    response = planner.post(url, {"step_size": "0"}, follow=True)
    assert flashed(response) == [(messages.ERROR, "The step size must be above zero.")]
    response = planner.post(url, {"step_size": "1.5"}, follow=True)
    assert "more decimals than pcs allows" in flashed(response)[0][1]
    response = planner.post(url, {"step_size": "lots"}, follow=True)
    assert flashed(response)[0][0] == messages.ERROR
    assert order.steps.count() == 3
