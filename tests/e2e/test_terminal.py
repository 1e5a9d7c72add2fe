"""The operator terminal on a 1024x768 touch screen: a worker signs in by badge and PIN,
clocks in, starts a job, reports progress with scrap and a reason, reports as finished with a
lot; the processor then turns the registrations into journals and order quantities."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from execution.choices import RegistrationStatus
from execution.models import RawRegistration, ReportAsFinishedLine, RouteCardLine
from execution.services.processing import registrations_process
from execution.services.terminal import worker_set_pin
from inventory.choices import Tracking
from mesproject.roles import OPERATOR
from orders.choices import ConsumptionSetting
from tests.execution.floor import make_floor
from tests.orders.helpers import reload

from .conftest import screenshot, sign_in, user_with_role

pytestmark = pytest.mark.django_db(transaction=True)

D = Decimal


def _fits(page) -> None:
    """Nothing wider than the 1024 px screen: no sideways scrolling on a terminal."""
    assert page.evaluate("document.documentElement.scrollWidth") <= 1024


def test_an_operator_works_a_job_at_the_terminal(new_page):
    # One operation: the terminal's resource makes the bike, and reports it as finished.
    floor = make_floor(
        product_tracking=Tracking.LOT,
        stock=100,
        settings=[ConsumptionSetting.ON_OPERATION_FEEDBACK],
        lines=[("FRAME", "start", 10, "1"), ("GRIP", "production_finish", None, "2")],
    )
    worker = floor.workers[0]
    worker_set_pin(worker=worker, pin="2468")
    order = floor.order(10)
    for quantity in (25, 8, 40):  # the orders queued behind it at the machine
        floor.order(quantity)
    terminal = floor.terminals[0]
    user_with_role(OPERATOR, "terminal-device")

    page = new_page(1024, 768)
    sign_in(page, "terminal-device")
    # The device's start page: which terminal is this?
    page.get_by_role("link", name=terminal.code).click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    screenshot(page, "terminal-sign-in")

    page.get_by_label("Badge").fill(worker.badge_id)
    page.get_by_label("PIN").fill("1111")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".message.error")).to_contain_text("Badge or PIN not recognized")
    page.get_by_label("Badge").fill(worker.badge_id)
    page.get_by_label("PIN").fill("2468")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".message.success")).to_contain_text(f"Hello, {worker.name}")

    page.get_by_role("button", name="Clock in").click()
    expect(page.locator(".message.success")).to_contain_text("Registered: clock in")
    expect(page.locator(".state-list")).to_contain_text("Clocked in")
    job = floor.job(order, 10)
    page.get_by_role("button", name=f"Start {job}").click()
    # The start form: the rest of the job by default; the operator starts less.
    expect(page.get_by_label("Quantity to start")).to_have_value("10")
    page.get_by_label("Quantity to start").fill("6")
    _fits(page)
    screenshot(page, "terminal-start")
    page.get_by_role("button", name="Start", exact=True).click()
    expect(page.locator(".message.success")).to_contain_text(
        f"Registered: job {job} started (6 pcs)"
    )
    expect(page.locator(".running")).to_contain_text(order.number)
    _fits(page)
    screenshot(page, "terminal-jobs")

    page.get_by_role("link", name="Report progress").click()
    page.get_by_label("Good quantity").fill("4")
    page.get_by_label("Scrap quantity").fill("1")
    page.get_by_text(floor.scrap_reason.description).click()
    _fits(page)
    screenshot(page, "terminal-progress")
    page.get_by_role("button", name="Report", exact=True).click()
    expect(page.locator(".message.success")).to_contain_text("4 pcs good, 1 pcs scrap")

    page.get_by_role("link", name="Report as finished").click()
    page.get_by_label("Good quantity finished").fill("4")
    page.get_by_label("Lot or serial number").fill("LOT-2026-001")
    _fits(page)
    screenshot(page, "terminal-finish")
    page.get_by_role("button", name="Report as finished").click()
    expect(page.locator(".message.success")).to_contain_text("lot LOT-2026-001")

    # Accepted at once; the processor (Celery's task, run here) makes the journals.
    summary = registrations_process()
    assert summary.failed == 0, summary
    statuses = set(RawRegistration.objects.values_list("status", flat=True))
    assert statuses == {RegistrationStatus.PROCESSED}
    card = RouteCardLine.objects.get(job=job, quantity_scrap__gt=0)
    assert (card.quantity_good, card.quantity_scrap, card.reason_code) == (
        D(4),
        D(1),
        floor.scrap_reason,
    )
    finished = ReportAsFinishedLine.objects.get(order=order)
    assert finished.quantity_good == D(4) and finished.lot.number == "LOT-2026-001"
    order = reload(order)
    assert order.quantity_completed == D(4)
    # The polled panel shows what the processor did.
    expect(page.locator("#recent")).to_contain_text("Processed", timeout=8_000)

    page.get_by_role("button", name="Done").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
