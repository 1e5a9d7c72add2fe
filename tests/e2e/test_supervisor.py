"""A supervisor in the browser: reorders and holds jobs on a resource's plan, watches the floor,
approves and transfers an attendance day, approves the ERP's change request."""

import re
from datetime import date, timedelta
from decimal import Decimal as D

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from execution.choices import AttendanceStatus
from execution.models import AttendanceDay, Job
from execution.services.attendance import attendance_day_calculate
from integration.erp.services.work_orders import work_order_change
from mesproject.actors import Actor
from mesproject.roles import SUPERVISOR
from orders.choices import OrderStatus
from orders.models import ProductionOrder
from tests.execution.floor import make_floor
from tests.factories import advance_order, make_order

from .conftest import screenshot, sign_in, user_with_role

pytestmark = pytest.mark.django_db(transaction=True)

ACTOR = Actor(process="test")
DAY = date(2026, 3, 2)


def light_floor(workers: int = 3):
    """One manual BOM line and no stock: jobs start without automatic consumption."""
    return make_floor(workers=workers, lines=[("BELL", "manual", 30, "1")], stock=0)


def fits_in(page, name: str, width: int) -> None:
    """At this width the page needs no sideways scrolling (wide tables scroll in their box)."""
    page.set_viewport_size({"width": width, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    screenshot(page, f"{name}-{width}")
    page.set_viewport_size({"width": 1280, "height": 800})


def test_the_supervisor_reorders_and_holds_jobs_on_the_plan(page):
    floor = light_floor(workers=1)
    now = timezone.now()
    orders = [
        floor.order(5 * (i + 1), scheduled_start=now + timedelta(hours=i), priority=i + 2)
        for i in range(4)
    ]
    jobs = [floor.job(order, 10) for order in orders]
    resource = floor.resources[0]
    user_with_role(SUPERVISOR, "sam")
    sign_in(page, "sam")

    page.goto("/supervisor/plan/")
    page.get_by_role("link", name=f"{resource.code} {resource.name}").click()
    rows = page.locator("#plan-jobs tbody tr")
    expect(rows).to_have_count(4)
    expect(rows.first).to_contain_text(orders[0].number)

    page.get_by_role("button", name=f"Move {jobs[2]} up").click()
    expect(page.locator("#plan-jobs .message.success")).to_contain_text(f"Job {jobs[2]} moved up.")
    expect(rows.nth(1)).to_contain_text(orders[2].number)
    page.get_by_role("button", name=f"Hold {jobs[3]}").click()
    expect(rows.nth(3).locator(".badge.hold")).to_have_text("On hold")
    page.get_by_role("button", name=f"Move {jobs[0]} up").click()
    expect(page.locator("#plan-jobs .message.error")).to_contain_text("is first in the plan")
    screenshot(page, "supervisor-plan")
    fits_in(page, "supervisor-plan", 1024)

    assert list(
        Job.objects.filter(resource=resource).order_by("sequence").values_list("pk", flat=True)
    ) == [jobs[0].pk, jobs[2].pk, jobs[1].pk, jobs[3].pk]
    assert Job.objects.get(pk=jobs[3].pk).on_hold


def test_the_supervisor_watches_the_floor(page):
    floor = light_floor(workers=4)
    running = floor.order(4)
    floor.order(2, scheduled_start=floor.at(30))
    on_job, on_break, idle, cleaning = floor.workers
    for index, worker in enumerate(floor.workers):
        floor.clock_in(worker, index)
    floor.post("start_job", at=5, badge_id=on_job, job=floor.job(running, 10))
    floor.post("break_start", at=6, badge_id=on_break)
    floor.post("indirect_start", at=7, badge_id=cleaning, indirect_activity="CLEAN")
    floor.process()
    user_with_role(SUPERVISOR, "sam")
    sign_in(page, "sam")

    page.goto("/supervisor/floor/")
    live = page.locator("#floor-live")
    expect(live).to_have_attribute("hx-trigger", "every 10s")
    expect(page.get_by_role("table", name="Who works on which job")).to_contain_text(
        on_job.badge_id
    )
    without = page.get_by_role("table", name="Idle first")
    expect(without).to_contain_text("On a break")
    expect(without).to_contain_text("Indirect: CLEAN")
    expect(without).to_contain_text(idle.badge_id)
    expect(page.get_by_role("table", name="Running jobs past")).to_contain_text(running.number)
    page.get_by_text('What "late" means here').click()
    screenshot(page, "supervisor-floor")


def test_the_supervisor_approves_and_transfers_an_attendance_day(page):
    floor = light_floor(workers=2)
    for worker in floor.workers:
        floor.clock_in(worker, 0)
        floor.post("break_start", at=240, badge_id=worker)
        floor.post("break_stop", at=270, badge_id=worker)
        floor.post("clock_out", at=500, badge_id=worker)
    floor.process()
    for worker in floor.workers:
        attendance_day_calculate(worker=worker, date=DAY, actor=ACTOR)
    first = floor.workers[0]
    user_with_role(SUPERVISOR, "sam")
    sign_in(page, "sam")

    page.goto("/supervisor/attendance/")
    page.get_by_role("button", name=f"Approve {first.badge_id} 2026-03-02").click()
    expect(page.locator(".message.success")).to_contain_text(f"Approved 1 day(s): {first.badge_id}")
    row = page.get_by_role("row").filter(has_text=first.badge_id)
    expect(row.locator(".badge")).to_have_text("Approved")
    expect(row).to_contain_text("470")  # 500 clocked - 30 break
    screenshot(page, "supervisor-attendance")
    fits_in(page, "supervisor-attendance", 1024)

    page.get_by_label(f"Select {first.badge_id} 2026-03-02").check()
    with page.expect_download() as download:
        page.get_by_role("button", name="Transfer selected to payroll (CSV)").click()
    assert download.value.suggested_filename == "pay-basis-2026-03-02.csv"
    assert AttendanceDay.objects.get(worker=first).status == AttendanceStatus.TRANSFERRED


def test_the_supervisor_approves_a_change_request(page):
    order = advance_order(make_order(quantity=10), OrderStatus.IN_PROGRESS)
    work_order_change(order=order, changes={"qty_target": D(14), "priority": 2}, actor=ACTOR)
    other = advance_order(make_order(quantity=10), OrderStatus.IN_PROGRESS)
    work_order_change(order=other, changes={"qty_target": D(8)}, actor=ACTOR)
    user_with_role(SUPERVISOR, "sam")
    sign_in(page, "sam")

    # From the notification, as the supervisor would.
    page.goto("/notifications/")
    page.get_by_role("link", name=f"The ERP asks to change running order {order.number}").click()
    expect(page).to_have_url(re.compile(r"/change-requests/$"))
    row = page.locator("tr[id^=change-request-]").filter(has_text=order.number)
    expect(row).to_contain_text("Quantity")
    row.get_by_label("Note (optional)").fill("agreed with planning")
    screenshot(page, "supervisor-change-requests")
    row.get_by_role("button", name=f"Approve the change of {order.number}").click()
    expect(page.locator(".message.success")).to_contain_text(
        f"The change request of order {order.number} is approved and applied."
    )
    expect(row.locator(".badge")).to_have_text("Approved")
    assert ProductionOrder.objects.get(pk=order.pk).quantity == 14
