"""The supervisor's dashboard in a real browser, at 1920x1080 and at 1024x768: the charts
render as SVG, a bar's tooltip (<title>) carries its number, the numbers table opens.

The data is a morning on the floor up to now (orders released through the services,
registrations posted to the API and processed), so the default period, the last 24 hours,
shows it.
"""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from mesproject.roles import SUPERVISOR
from orders.choices import ConsumptionSetting, ReasonKind
from orders.models import ReasonCode
from tests.execution.floor import make_floor

from .conftest import screenshot, sign_in, user_with_role

pytestmark = pytest.mark.django_db(transaction=True)


def a_morning():
    """Two running orders over the last hours with scrap of three reasons, one order released
    for later and one created whose start has passed. A route of two operations: each
    operation reports no more than it started, operation 20 starts what operation 10 output,
    and the report as finished takes operation 20's (the last) output."""
    floor = make_floor(
        workers=2,
        settings=[ConsumptionSetting.ON_OPERATION_FEEDBACK] * 2,
        lines=[
            ("FRAME", "start", 10, "1"),
            ("WHEEL", "operation_finish", 20, "2"),
            ("GRIP", "production_finish", None, "2"),
        ],
    )
    now = timezone.now()

    def ago(minutes):
        return now - timedelta(minutes=minutes)

    dent, paint = (
        ReasonCode.objects.create(
            code=f"{floor.site.code}-{code}", description=text, kind=ReasonKind.SCRAP
        )
        for code, text in (("DENT", "Dented"), ("PAINT", "Paint run"))
    )
    scratch = floor.scrap_reason
    running = floor.order(24, scheduled_start=ago(400))
    second = floor.order(12, scheduled_start=ago(300))
    floor.order(8, scheduled_start=now + timedelta(hours=3))
    floor.order(6, release=False, scheduled_start=ago(90))
    ann, bob = floor.workers
    floor.post("clock_in", at=ago(420), badge_id=ann)
    floor.post("clock_in", at=ago(420), badge_id=bob)

    def run(worker, order, operation, start, reports):
        """Start the job `start` minutes ago; reports: (minutes ago, good, scrap, reason)."""
        job = floor.job(order, operation)
        floor.post("start_job", at=ago(start), badge_id=worker, job=job)
        for index, (at, good, scrap, reason) in enumerate(reports):
            fields = {"quantity_good": str(good)}
            if scrap:
                fields.update(quantity_scrap=str(scrap), reason_code=reason.code)
            if index == len(reports) - 1:
                fields["stops_job"] = True
            floor.post("report_progress", at=ago(at), badge_id=worker, job=job, **fields)

    run(ann, running, 10, 390, [(330, 8, 1, scratch), (270, 7, 2, dent), (210, 6, 0, None)])
    # Operation 10 output 21 of the 24: operation 20 reports 17 good + 4 scrap of them.
    run(ann, running, 20, 200, [(150, 9, 3, dent), (90, 5, 1, paint), (40, 3, 0, None)])
    run(bob, second, 10, 290, [(240, 5, 0, None), (180, 4, 1, dent)])
    run(bob, second, 20, 170, [(100, 6, 2, scratch)])
    floor.post(
        "report_as_finished",
        at=ago(30),
        order=running,
        quantity_good="10",
        quantity_scrap="1",
        reason_code=dent.code,
        terminal=floor.terminals[1].code,
    )
    summary = floor.process()
    assert summary.failed == 0, summary
    return floor, running


def test_the_supervisor_reads_the_dashboard_on_a_wide_and_a_small_screen(new_page):
    floor, running = a_morning()
    user_with_role(SUPERVISOR, "sue")
    # One set of data, two screens: the data takes longer to build than a page to check.
    for width, height in ((1920, 1080), (1024, 768)):
        page = new_page(width, height)
        sign_in(page, "sue")
        # The supervisor's start page is the dashboard.
        assert page.url.endswith("/dashboard/"), page.url
        read_the_dashboard(page, floor, running)
        screenshot(page, f"dashboard-{width}")


def read_the_dashboard(page, floor, running):
    expect(page.get_by_role("heading", name="Dashboard", exact=True)).to_be_visible()
    # Every chart is drawn, and each bar's tooltip says its number.
    for section in ("#wip", "#states", "#output", "#scrap"):
        expect(page.locator(f"{section} svg").first).to_be_visible()
    # 24 started, 10 finished, 3 + 4 + 1 scrapped: 6 on the floor.
    wip_title = page.locator("#wip rect.in-progress title", has_text=running.number)
    expect(wip_title).to_have_text(f"{running.number}: in progress 6")
    expect(page.locator("#states rect.state title").nth(2)).to_have_text("In progress: 2 orders")
    scrap_titles = page.locator("#scrap rect.scrap title")
    expect(scrap_titles.first).to_contain_text(f"{floor.site.code}-DENT: 7 scrapped")
    expect(page.locator("#output figure")).to_have_count(2)
    expect(page.locator("#late tbody tr")).to_have_count(3)

    # The numbers behind a chart open under it.
    numbers = page.locator("#scrap details")
    expect(numbers.locator("table")).to_be_hidden()
    numbers.locator("summary").click()
    table = numbers.locator("table")
    expect(table).to_be_visible()
    expect(table.locator("tbody tr").first).to_contain_text("7")
    expect(table.locator("tfoot")).to_contain_text("11")

    # No chart overflows the page sideways.
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, overflow
