"""A planner in the browser: creates an order through the form, releases it (its jobs appear),
sees why a transition is refused once the floor has reported on it, and finds it in the
sorted list."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from mesproject.roles import PLANNER
from orders.models import ProductionOrder
from tests.execution.floor import make_floor

from .conftest import screenshot, sign_in, user_with_role

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_planner_creates_releases_and_sees_a_refused_transition(page):
    floor = make_floor()
    # Some plan around the new order, so the list looks like a working day.
    for quantity, priority in ((40, 3), (12, 1), (25, 5)):
        floor.order(
            quantity, release=quantity != 25, priority=priority, scheduled_start=floor.at(90)
        )
    user_with_role(PLANNER, "paula")
    sign_in(page, "paula")

    page.goto("/planner/orders/")
    page.get_by_role("link", name="New order").click()
    page.get_by_label("Order number").fill("PO-2026-0042")
    page.get_by_label("Item", exact=True).select_option(label=str(floor.product))
    page.get_by_label("Quantity").fill("20")
    page.get_by_label("Site").select_option(label=floor.site.code)
    page.get_by_label("Scheduled start").fill("2026-03-02T07:30")
    page.get_by_label("Priority").fill("2")
    page.get_by_label("Over-delivery tolerance (%)").fill("5")
    screenshot(page, "planner-order-form")
    page.get_by_role("button", name="Create order").click()

    expect(page.locator(".message.success")).to_have_text("Order PO-2026-0042 created.")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Created")
    page.get_by_role("button", name="Release", exact=True).click()
    expect(page.locator(".message.success")).to_contain_text("is now Released. 3 job(s) created.")
    jobs = page.locator("#jobs tbody tr")
    expect(jobs).to_have_count(3)
    expect(jobs.first).to_contain_text(floor.resources[0].code)

    # The floor starts the first job: unreleasing is now refused, with the reason shown.
    order = ProductionOrder.objects.get(number="PO-2026-0042")
    worker = floor.workers[0]
    job = floor.job(order, 10)
    floor.clock_in(worker, 0)
    floor.post("start_job", at=5, badge_id=worker, job=job, quantity="20")
    page.reload()
    expect(page.get_by_role("button", name="Unrelease")).to_be_disabled()
    expect(page.locator("#blockers-unrelease")).to_contain_text(
        "1 shop-floor registration(s) exist for the order"
    )

    # Once processed, the order is running and its journals fill.
    floor.post("report_progress", at=50, badge_id=worker, job=job, quantity_good="18")
    floor.process()
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_contain_text("In progress")
    expect(page.locator("#picking-list caption")).to_have_text("Picking list: 1 line")
    expect(page.get_by_role("heading", name="Messages to the ERP")).to_be_visible()
    screenshot(page, "planner-order-detail")

    page.goto("/planner/orders/?sort=priority")
    expect(page.locator('th[aria-sort="ascending"]')).to_contain_text("Priority")
    rows = page.locator("table.orders tbody tr")
    expect(rows).to_have_count(4)
    expect(rows.first).to_contain_text("1")
    expect(rows.nth(1)).to_contain_text("PO-2026-0042")
    screenshot(page, "planner-order-list")


def test_the_order_page_is_usable_at_1024_and_1920(new_page):
    floor = make_floor()
    order = floor.order(10, scheduled_start=floor.at(30) + timedelta(days=1))
    user_with_role(PLANNER, "pia")
    for width in (1024, 1920):
        page = new_page(width, 800)
        sign_in(page, "pia")
        page.goto(f"/planner/orders/{order.pk}/")
        expect(page.get_by_role("heading", level=1)).to_contain_text(order.number)
        # Nothing but the wide tables (in their own scroll box) may overflow the page.
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, (width, overflow)
