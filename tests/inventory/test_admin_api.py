"""Admin pages and API lists: filters work, the query count does not grow with the rows, and
adjustment journals are edited and posted through services."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from inventory import services
from inventory.choices import JournalStatus, SourceType
from inventory.models import AdjustmentJournal, InventoryTransaction
from inventory.services import JournalLineInput, Source
from tests.api import openapi_schema, response_codes

from .factories import ItemFactory

D = Decimal


def post_some(count, pcs, stock, actor, prefix="X"):
    for n in range(count):
        item = ItemFactory(part_number=f"{prefix}-{n}", unit=pcs)
        services.inventory_receive(
            item=item, quantity=D(5), location=stock, source=Source("manual", f"{n}"), actor=actor
        )
        services.inventory_issue(
            item=item,
            quantity=D(1),
            location=stock,
            order_ref=f"WO-{n}",
            source=Source("manual", f"{n}"),
            actor=actor,
        )
        services.reservation_set(
            item=item,
            site=stock.warehouse.site,
            quantity=D(2),
            order_ref=f"WO-{n}",
            source=Source(SourceType.ORDER_MATERIAL, f"{prefix}{n}"),
            actor=actor,
        )


def queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(ctx.captured_queries)


ADMIN_LISTS = [
    "admin:inventory_inventorytransaction_changelist",
    "admin:inventory_onhand_changelist",
    "admin:inventory_reservation_changelist",
    "admin:inventory_lot_changelist",
    "admin:inventory_adjustmentjournal_changelist",
]


@pytest.mark.parametrize("name", ADMIN_LISTS)
def test_admin_lists_run_constant_queries(admin_client, pcs, stock, actor, name):
    url = reverse(name)
    post_some(2, pcs, stock, actor, "A")
    few = queries(admin_client, url)
    post_some(8, pcs, stock, actor, "B")
    assert queries(admin_client, url) == few


@pytest.mark.parametrize("name", ["transaction", "onhand", "reservation", "journal"])
def test_api_lists_run_constant_queries(admin_client, pcs, stock, actor, name):
    url = reverse(f"inventory:{name}-list")
    post_some(2, pcs, stock, actor, "A")
    few = queries(admin_client, url)
    post_some(8, pcs, stock, actor, "B")
    assert queries(admin_client, url) == few


def test_admin_filters_ledger_by_item_and_order(admin_client, item, stock, receive, actor):
    receive(item, 5, stock)
    services.inventory_issue(
        item=item,
        quantity=D(2),
        location=stock,
        order_ref="WO-42",
        source=Source("manual", "1"),
        actor=actor,
    )
    url = reverse("admin:inventory_inventorytransaction_changelist")
    by_order = admin_client.get(url, {"order_ref": "WO-42"})
    assert by_order.context["cl"].result_count == 1
    by_item = admin_client.get(url, {"item": item.pk})
    assert by_item.context["cl"].result_count == 2
    on_hand = admin_client.get(
        reverse("admin:inventory_onhand_changelist"), {"location__warehouse__site__id__exact": 1}
    )
    assert on_hand.status_code == 200


def test_api_filters(admin_client, item, stock, receive, actor):
    receive(item, 5, stock)
    services.inventory_issue(
        item=item,
        quantity=D(2),
        location=stock,
        order_ref="WO-42",
        source=Source("manual", "1"),
        actor=actor,
    )
    url = reverse("inventory:transaction-list")
    body = admin_client.get(url, {"order_ref": "WO-42"}).json()
    assert [r["quantity"] for r in body["results"]] == ["-2.000000"]
    on_hand = admin_client.get(reverse("inventory:onhand-list"), {"part_number": "BOLT"}).json()
    assert on_hand["results"][0]["quantity"] == "3.000000"


def test_admin_creates_and_posts_a_journal(admin_client, item, stock, receive):
    receive(item, 5, stock)
    add = reverse("admin:inventory_adjustmentjournal_add")
    prefix = "lines"
    form = {
        "description": "count",
        "reason_code": "CC",
        "reason": "cycle count",
        "audit_flag": "on",
        f"{prefix}-TOTAL_FORMS": "1",
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-0-item": item.pk,
        f"{prefix}-0-location": stock.pk,
        f"{prefix}-0-quantity": "-2",
    }
    response = admin_client.post(add, form)
    assert response.status_code == 302, response.context["errors"] if response.context else ""
    journal = AdjustmentJournal.objects.get()
    assert journal.created_by_actor == "user:admin"
    assert journal.lines.get().line_number == 10
    changelist = reverse("admin:inventory_adjustmentjournal_changelist")
    admin_client.post(changelist, {"action": "post_selected", "_selected_action": [journal.pk]})
    journal.refresh_from_db()
    assert journal.status == JournalStatus.POSTED
    assert journal.posted_by_actor == "user:admin"
    assert InventoryTransaction.objects.filter(kind="adjustment").get().quantity == D(-2)
    # Posted: the page is read-only, changes and deletes are refused.
    change = reverse("admin:inventory_adjustmentjournal_change", args=[journal.pk])
    page = admin_client.get(change)
    assert page.status_code == 200 and b'name="_save"' not in page.content
    assert admin_client.post(change, {**form, "reason": "rewritten"}).status_code == 403
    delete = reverse("admin:inventory_adjustmentjournal_delete", args=[journal.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    journal.refresh_from_db()
    assert journal.reason == "cycle count"


def test_admin_refuses_a_bad_line_with_a_message(admin_client, item, stock):
    add = reverse("admin:inventory_adjustmentjournal_add")
    form = {
        "reason": "count",
        "lines-TOTAL_FORMS": "1",
        "lines-INITIAL_FORMS": "0",
        "lines-0-item": item.pk,
        "lines-0-location": stock.pk,
        "lines-0-quantity": "1.5",
    }
    response = admin_client.post(add, form)
    assert response.status_code == 200
    assert b"more decimals than PCS allows" in response.content
    assert not AdjustmentJournal.objects.exists()


def test_admin_post_action_reports_refusals(admin_client, item, stock, actor):
    journal = services.adjustment_journal_create(
        reason="count",
        actor=actor,
        lines=[JournalLineInput(item=item, location=stock, quantity=D(-1))],
    )
    changelist = reverse("admin:inventory_adjustmentjournal_changelist")
    response = admin_client.post(
        changelist,
        {"action": "post_selected", "_selected_action": [journal.pk]},
        follow=True,
    )
    assert b"Not enough BOLT" in response.content
    journal.refresh_from_db()
    assert journal.status == JournalStatus.DRAFT


def test_api_posts_a_journal_once(admin_client, item, stock, actor):
    journal = services.adjustment_journal_create(
        reason="count",
        actor=actor,
        lines=[JournalLineInput(item=item, location=stock, quantity=D(3))],
    )
    url = reverse("inventory:journal-post", args=[journal.pk])
    first = admin_client.post(url, headers={"Idempotency-Key": "post-once-1"})
    assert first.status_code == 200 and first.json()["status"] == "posted"
    replayed = admin_client.post(url, headers={"Idempotency-Key": "post-once-1"})
    assert replayed.status_code == 200 and replayed.headers["Idempotent-Replayed"] == "true"
    again = admin_client.post(url, headers={"Idempotency-Key": "post-once-2"})
    assert again.status_code == 409
    assert again.json()["code"] == "journal_posted"
    detail = reverse("inventory:journal-detail", args=[journal.pk])
    assert admin_client.delete(detail).status_code == 405
    assert admin_client.patch(detail, {}, content_type="application/json").status_code == 405


def test_api_rows_without_a_lot_or_location_read_null_as_the_schema_says(
    admin_client, item, stock, receive, actor
):
    receive(item, 5, stock)
    services.reservation_set(
        item=item,
        site=stock.warehouse.site,
        quantity=D(2),
        order_ref="WO-1",
        source=Source(SourceType.ORDER_MATERIAL, "1"),
        actor=actor,
    )
    services.adjustment_journal_create(
        reason="count",
        actor=actor,
        lines=[JournalLineInput(item=item, location=stock, quantity=D(1))],
    )
    [on_hand] = admin_client.get(reverse("inventory:onhand-list")).json()["results"]
    ledger = admin_client.get(reverse("inventory:transaction-list")).json()["results"]
    [journal] = admin_client.get(reverse("inventory:journal-list")).json()["results"]
    [reserve] = [entry for entry in ledger if entry["kind"] == "reserve"]
    assert on_hand["lot_number"] is None and journal["lines"][0]["lot_number"] is None
    assert reserve["lot_number"] is None and reserve["location_code"] is None
    schemas = openapi_schema()["components"]["schemas"]
    assert schemas["OnHand"]["properties"]["lot_number"]["nullable"]
    assert schemas["InventoryTransaction"]["properties"]["lot_number"]["nullable"]
    assert schemas["InventoryTransaction"]["properties"]["location_code"]["nullable"]
    assert schemas["AdjustmentJournalLine"]["properties"]["lot_number"]["nullable"]


def test_api_reads_document_their_refusals(admin_client):
    missing = admin_client.get(reverse("inventory:journal-detail", args=[999999]))
    bad_filter = admin_client.get(reverse("inventory:onhand-list"), {"item": "abc"})
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")
    assert (bad_filter.status_code, bad_filter.json()["code"]) == (400, "invalid")
    schema = openapi_schema()
    detail = response_codes(schema, "/api/v1/inventory/journals/{id}/", "get")
    assert {"200", "401", "403", "404"} <= detail
    assert {"200", "400", "401", "403"} <= response_codes(
        schema, "/api/v1/inventory/on-hand/", "get"
    )
    post = response_codes(schema, "/api/v1/inventory/journals/{id}/post/", "post")
    assert {"200", "401", "403", "404", "409"} <= post


def test_api_list_limit_is_capped(admin_client, item, stock, receive):
    receive(item, 5, stock)
    url = reverse("inventory:transaction-list")
    for limit in ("425221473238401090060288", "5000"):  # past the database's bigint: a 500
        response = admin_client.get(url, {"limit": limit})
        assert response.status_code == 200
        assert len(response.json()["results"]) == 1


def test_an_api_path_no_route_takes_gets_the_json_404(admin_client):
    # The router's id pattern takes no dot: Django itself answers, not the view.
    for path in ("/api/v1/inventory/journals/1.5/", "/api/v1/no-such-thing/"):
        response = admin_client.get(path)
        assert response.status_code == 404, path
        assert response.json() == {
            "code": "not_found",
            "message": "No such resource.",
            "fields": {},
        }
    assert admin_client.get("/no-such-page/")["Content-Type"].startswith("text/html")


def test_item_links_lead_to_its_stock_and_ledger(admin_client, item, stock, receive):
    receive(item, 5, stock)
    items = admin_client.get(reverse("admin:inventory_item_changelist"))
    assert items.status_code == 200
    on_hand = admin_client.get(reverse("admin:inventory_onhand_changelist"), {"item": item.pk})
    assert on_hand.context["cl"].result_count == 1
    for params in ({"lot": 1}, {"item": item.pk, "location": stock.pk}):
        page = admin_client.get(reverse("admin:inventory_inventorytransaction_changelist"), params)
        assert page.status_code == 200
