"""One production day across the roles, in a real browser, with a real Celery worker process
doing the processing: the planner creates and releases an order; an operator at the terminal
clocks in, starts the job, reports progress with scrap, reports as finished and clocks out;
the supervisor sees the registrations processed and the order Completed and approves the
worker's day; the planner closes the order. Plus: an operator cannot open the planner pages."""

import time

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from execution.choices import AttendanceStatus, RegistrationStatus
from execution.models import AttendanceDay, RawRegistration
from execution.services.terminal import worker_set_pin
from mesproject.roles import OPERATOR, PLANNER, SUPERVISOR
from orders.choices import ConsumptionSetting, OrderStatus
from orders.models import ProductionOrder
from tests.execution.floor import make_floor
from tests.test_celery_worker import start_worker

from .conftest import screenshot, sign_in, user_with_role

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def _wait_until(condition, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting until {what}")


@pytest.fixture
def worker_process():
    worker = start_worker()
    yield worker
    worker.terminate()
    worker.wait(timeout=30)


def test_a_production_day_from_plan_to_close(new_page, worker_process):
    # One operation: the terminal's resource makes the bike, and reports it as finished.
    floor = make_floor(
        settings=[ConsumptionSetting.ON_OPERATION_FEEDBACK],
        lines=[("FRAME", "start", 10, "1"), ("GRIP", "production_finish", None, "2")],
    )
    operator = floor.workers[0]
    worker_set_pin(worker=operator, pin="4711")
    terminal = floor.terminals[0]
    user_with_role(PLANNER, "paula")
    user_with_role(SUPERVISOR, "sam")
    user_with_role(OPERATOR, "terminal-1")

    # The planner creates and releases the order.
    planner = new_page()
    sign_in(planner, "paula")
    planner.get_by_role("link", name="New order").click()
    planner.get_by_label("Order number").fill("PO-DAY-1")
    planner.get_by_label("Item", exact=True).select_option(label=str(floor.product))
    planner.get_by_label("Quantity").fill("5")
    planner.get_by_label("Site").select_option(label=floor.site.code)
    # One more may be made, to cover the scrap.
    planner.get_by_label("Over-delivery tolerance (%)").fill("20")
    planner.get_by_role("button", name="Create order").click()
    planner.get_by_role("button", name="Release", exact=True).click()
    expect(planner.locator(".message.success")).to_contain_text("is now Released")
    order = ProductionOrder.objects.get(number="PO-DAY-1")
    job = floor.job(order, 10)

    # The operator works the job at the terminal of its resource (1024x768 touch screen).
    terminal_page = new_page(1024, 768)
    sign_in(terminal_page, "terminal-1")
    terminal_page.get_by_role("link", name=terminal.code).click()
    terminal_page.get_by_label("Badge").fill(operator.badge_id)
    terminal_page.get_by_label("PIN").fill("4711")
    terminal_page.get_by_role("button", name="Sign in").click()
    terminal_page.get_by_role("button", name="Clock in").click()
    expect(terminal_page.locator(".message.success")).to_contain_text("Registered: clock in")
    terminal_page.get_by_role("button", name=f"Start {job}").click()
    # The start form offers the rest of the job; the operator starts one more for the scrap.
    expect(terminal_page.get_by_label("Quantity to start")).to_have_value("5")
    terminal_page.get_by_label("Quantity to start").fill("6")
    terminal_page.get_by_role("button", name="Start", exact=True).click()
    expect(terminal_page.locator(".running")).to_contain_text(order.number)
    terminal_page.get_by_role("link", name="Report progress").click()
    terminal_page.get_by_label("Good quantity").fill("5")
    terminal_page.get_by_label("Scrap quantity").fill("1")
    terminal_page.get_by_text(floor.scrap_reason.description).click()
    terminal_page.get_by_role("button", name="Report", exact=True).click()
    expect(terminal_page.locator(".message.success")).to_contain_text("5 pcs good, 1 pcs scrap")
    terminal_page.get_by_role("link", name="Report as finished").click()
    terminal_page.get_by_label("Good quantity finished").fill("5")
    terminal_page.get_by_role("button", name="Report as finished").click()
    expect(terminal_page.locator(".message.success")).to_contain_text("Registered")
    terminal_page.get_by_role("button", name="Clock out").click()
    expect(terminal_page.locator(".message.success")).to_contain_text("Registered: clock out")

    # The worker process (not this test) turns the registrations into journals.
    def all_processed():
        statuses = set(RawRegistration.objects.values_list("status", flat=True))
        return statuses == {RegistrationStatus.PROCESSED}

    _wait_until(all_processed, "the worker processed every registration")

    # The supervisor sees them processed, the order Completed, and approves the day.
    supervisor = new_page()
    sign_in(supervisor, "sam")
    supervisor.goto("/floor/processing-log/?status=processed")
    expect(supervisor.locator("table.data caption")).to_contain_text("6 registrations")
    screenshot(supervisor, "day-processing-log")
    supervisor.goto(f"/planner/orders/{order.pk}/")
    expect(supervisor.get_by_role("heading", level=1)).to_contain_text("Completed")
    today = timezone.localdate()
    supervisor.goto("/supervisor/attendance/")
    supervisor.get_by_label("Date to calculate").fill(today.isoformat())
    supervisor.get_by_role("button", name="Calculate").click()
    supervisor.get_by_role("button", name=f"Approve {operator.badge_id} {today}").click()
    expect(supervisor.locator(".message.success")).to_contain_text(
        f"Approved 1 day(s): {operator.badge_id}"
    )
    day = AttendanceDay.objects.get(worker=operator, date=today)
    assert day.status == AttendanceStatus.APPROVED
    assert day.job_minutes >= 0 and day.clocked_minutes >= day.job_minutes

    # The planner closes the order.
    planner.reload()
    expect(planner.get_by_role("heading", level=1)).to_contain_text("Completed")
    planner.get_by_role("button", name="Close", exact=True).click()
    expect(planner.get_by_role("heading", level=1)).to_contain_text("Closed")
    screenshot(planner, "day-order-closed")
    order.refresh_from_db()
    assert order.status == OrderStatus.CLOSED
    assert (order.quantity_completed, order.quantity_scrapped) == (5, 1)

    # The terminal account may not plan.
    response = terminal_page.goto("/planner/orders/")
    assert response.status == 403
