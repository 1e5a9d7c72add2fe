"""The supervisors' dashboard /dashboard/: who may open it, the figures of a small known day
on the floor (orders released and registrations processed through the real API), the
period filter, and a constant number of queries whatever the data size.
"""

import itertools
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from execution.choices import JobKind, RegistrationKind, RegistrationStatus
from execution.models import Job, RawRegistration, ReportAsFinishedLine, RouteCardLine
from execution.pages.dashboard import selectors as dashboard
from mesproject.roles import IT, OPERATOR, PLANNER, SUPERVISOR
from mesproject.workplace.roles import roles_ensure
from orders.choices import ConsumptionSetting, OrderStatus, ReasonKind
from orders.models import ProductionOrder, ReasonCode
from tests.execution.floor import DAY, make_floor
from tests.pages import assert_constant_queries

pytestmark = pytest.mark.django_db

D = Decimal
URL = reverse("dashboard:index")
_seq = itertools.count(1)


def user_in(role: str):
    roles_ensure()
    user = get_user_model().objects.create_user(
        f"{role}-{next(_seq)}", password="x", is_staff=role != OPERATOR
    )
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def supervisor(client):
    client.force_login(user_in(SUPERVISOR))
    return client


# --- Permissions ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [OPERATOR])
def test_an_operator_gets_403_for_get_and_post(client, role):
    client.force_login(user_in(role))
    assert client.get(URL).status_code == 403
    assert client.post(URL).status_code == 403


@pytest.mark.parametrize("role", [SUPERVISOR, PLANNER, IT])
def test_supervisors_planners_and_it_open_it(client, role):
    client.force_login(user_in(role))
    response = client.get(URL)
    assert response.status_code == 200
    assert b"<h1>Dashboard</h1>" in response.content
    # Read-only: nothing to post.
    assert client.post(URL).status_code == 405


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_it_is_the_supervisors_start_page(supervisor):
    assert supervisor.get(reverse("home"))["Location"] == URL


# --- A known day on the floor -----------------------------------------------------------------


class Day:
    """2 March 2026 (times +01:00; the tests run in UTC, so 06:20 local is 05:20 UTC).

    A route of two operations. Order A (10): operation 10 on R1 reports 6 good + 1 scrap
    SCRATCH at 06:20 and 3 good at 07:10; operation 20 on R2 (the last) reports 5 good + 2
    scrap DENT at 07:20; report as finished of 4 good + 1 scrap DENT at 07:30. Order B (5) is
    released for later today+1h; order C (5) is created with a start that passed at 05:00.
    """

    def __init__(self):
        self.floor = floor = make_floor(
            settings=[ConsumptionSetting.ON_OPERATION_FEEDBACK] * 2,
            lines=[
                ("FRAME", "start", 10, "1"),
                ("WHEEL", "operation_finish", 20, "2"),
                ("GRIP", "production_finish", None, "2"),
            ],
        )
        self.dent = ReasonCode.objects.create(
            code=f"{floor.site.code}-DENT", description="Dented", kind=ReasonKind.SCRAP
        )
        self.scratch = floor.scrap_reason
        self.a = floor.order(10, scheduled_start=floor.at(0))
        self.b = floor.order(5, scheduled_start=timezone.now() + timedelta(hours=1))
        self.c = floor.order(5, release=False, scheduled_start=floor.at(-60))
        worker = floor.workers[0]
        op10, op20 = floor.job(self.a, 10), floor.job(self.a, 20)
        floor.clock_in(worker, 0)
        floor.post("start_job", at=1, badge_id=worker, job=op10)
        floor.post(
            "report_progress",
            at=20,
            badge_id=worker,
            job=op10,
            quantity_good="6",
            quantity_scrap="1",
            reason_code=self.scratch.code,
        )
        floor.post(
            "report_progress",
            at=70,
            badge_id=worker,
            job=op10,
            quantity_good="3",
            completes_job=True,
        )
        floor.post("start_job", at=75, badge_id=worker, job=op20)
        floor.post(
            "report_progress",
            at=80,
            badge_id=worker,
            job=op20,
            quantity_good="5",
            quantity_scrap="2",
            reason_code=self.dent.code,
        )
        floor.post(
            "report_as_finished",
            at=90,
            order=self.a,
            quantity_good="4",
            quantity_scrap="1",
            reason_code=self.dent.code,
            terminal=floor.terminals[1].code,
        )
        summary = floor.process()
        assert summary.failed == 0, summary
        self.r1, self.r2 = floor.resources[0], floor.resources[1]


@pytest.fixture
def day():
    return Day()


def utc(hour: int) -> datetime:
    return datetime(2026, 3, 2, hour, tzinfo=UTC)


def test_the_selectors_add_up_the_day(day):
    period = dashboard.period_for(date(2026, 3, 2))
    # Work in progress: A started 10, completed 4, scrapped 1 + 2 + 1: 2 on the floor.
    wip = dashboard.wip_by_order()
    assert (wip.open_orders, wip.in_progress) == (2, 2)
    a, b = wip.rows
    assert (a.number, a.in_progress, a.remaining, a.not_started) == (day.a.number, 2, 2, 0)
    assert (a.completed, a.scrapped, a.status) == (4, 4, OrderStatus.IN_PROGRESS)
    assert (b.number, b.in_progress, b.remaining, b.not_started) == (day.b.number, 0, 5, 5)
    # Output per resource and hour: the route card's good quantities, busiest first.
    output = dashboard.output_by_resource_hour(period)
    assert [(r.code, r.good, r.scrap) for r in output] == [
        (day.r1.code, 9, 1),
        (day.r2.code, 5, 2),
    ]
    assert output[0].by_hour == {utc(5): 6, utc(6): 3}
    assert output[1].by_hour == {utc(6): 5}
    # Scrap by reason: operations and report as finished together, largest first.
    assert [(r.code, r.quantity) for r in dashboard.scrap_by_reason(period)] == [
        (day.dent.code, 3),
        (day.scratch.code, 1),
    ]
    assert [(s.status, s.count) for s in dashboard.orders_by_status()] == [
        ("created", 1),
        ("released", 1),
        ("in_progress", 1),
        ("completed", 0),
        ("closed", 0),
        ("canceled", 0),
    ]
    # Late: C's start passed at 05:00 (+01:00); A's planned end is 06:00 + 2 x 10 x 1.5 min.
    now = DAY + timedelta(hours=3)
    late = dashboard.late_orders(now=now)
    assert late.count == 2
    assert [(r.number, r.what, r.planned_minutes, r.late_by) for r in late.rows] == [
        (day.c.number, "Start passed", 0, timedelta(hours=4)),
        (day.a.number, "Planned end passed", 30, timedelta(hours=2, minutes=30)),
    ]
    # Before A's planned end only C is late.
    assert dashboard.late_orders(now=DAY + timedelta(minutes=20)).count == 1


def test_another_day_shows_nothing_of_it(day):
    period = dashboard.period_for(date(2026, 3, 3))
    assert dashboard.output_by_resource_hour(period) == []
    assert dashboard.scrap_by_reason(period) == []


def test_hours_are_the_local_ones(day):
    with timezone.override("Europe/Amsterdam"):
        period = dashboard.period_for(date(2026, 3, 2))
        assert len(period.hours()) == 24
        output = dashboard.output_by_resource_hour(period)
    amsterdam = timezone.get_fixed_timezone(60)
    r1 = {hour.astimezone(amsterdam).hour: good for hour, good in output[0].by_hour.items()}
    assert r1 == {6: 6, 7: 3}


def test_the_page_draws_each_chart_with_its_numbers(supervisor, day):
    response = supervisor.get(URL, {"date": "2026-03-02"})
    assert response.status_code == 200
    html = response.content.decode()
    context = response.context
    assert context["period"].label == "Monday 02 March 2026"
    # Key figures.
    assert (context["output_good"], context["scrap_total"], context["late"].count) == (14, 4, 2)
    # Every chart is an SVG whose bars carry their number in a <title>.
    assert html.count("<svg") == 1 + 1 + 2 + 1  # WIP, states, a panel per resource, Pareto
    assert f"<title>{day.a.number}: in progress 2</title>" in html
    assert f"<title>{day.b.number}: not started 5</title>" in html
    assert "<title>In progress: 1 order</title>" in html
    assert f"<title>{day.r1.code} Machine 1, 05:00-05:59: 6 good</title>" in html
    assert f"<title>{day.dent.code}: 3 scrapped (75.0 % cumulative)</title>" in html
    assert "<title>Cumulative 100 %</title>" in html
    # ... and a table of the numbers under it.
    assert html.count("<summary>Numbers</summary>") == 4
    assert [(r.code, b.cumulative_pct) for r, b in context["scrap_rows"]] == [
        (day.dent.code, D("75.0")),
        (day.scratch.code, D("100.0")),
    ]
    assert [row.number for row, _late_by in context["late_rows"]] == [
        day.c.number,
        day.a.number,
    ]
    # The state bars open the planner's list filtered by state, when it is installed.
    try:
        list_url = reverse("planner:order_list")
    except NoReverseMatch:  # the planner's pages are another part of the product
        list_url = ""
    if list_url:
        assert f'href="{list_url}?status=in_progress"' in html
        # Each order in the WIP and late tables opens its order page.
        assert f'href="{reverse("planner:order_detail", args=[day.a.pk])}"' in html
        assert f'href="{reverse("planner:order_detail", args=[day.c.pk])}"' in html


def test_without_a_date_it_shows_the_last_24_hours(supervisor, day):
    response = supervisor.get(URL)
    assert response.context["period"].label.startswith("Last 24 hours")
    # The day of March is long gone: no output, no scrap, but the orders are still there.
    assert response.context["output"] == [] and response.context["scrap"] == []
    assert b"No output reported in the period" in response.content
    assert response.context["wip"].open_orders == 2


def test_a_bad_date_is_shown_and_the_default_period_used(supervisor):
    response = supervisor.get(URL, {"date": "2026-02-31"})
    assert response.status_code == 200
    assert response.context["filters"].errors["date"]
    assert b'class="error"' in response.content
    assert response.context["period"].label.startswith("Last 24 hours")


def test_an_empty_plant_still_renders(supervisor):
    response = supervisor.get(URL)
    assert response.status_code == 200
    assert b"No released or in-progress orders." in response.content
    assert b"No late orders." in response.content


def test_the_period_is_24_whole_hours_up_to_the_current_one():
    now = datetime(2026, 3, 2, 10, 25, tzinfo=UTC)
    period = dashboard.period_for(None, now=now)
    assert (period.start, period.end) == (utc(11) - timedelta(days=1), utc(11))
    assert len(period.hours()) == 24 and period.hours()[-1] == utc(10)


# --- Query count ------------------------------------------------------------------------------


def _volume(floor):
    """add(n): n more orders in every state with a job, a route card line (good and scrap,
    two reasons) and a report as finished line each, on the known day. Written directly:
    how a row was made does not change what reading it costs."""
    statuses = itertools.cycle(OrderStatus.values)
    other = ReasonCode.objects.create(code=f"{floor.site.code}-BENT", description="Bent")
    reasons = itertools.cycle([floor.scrap_reason, other])
    at = DAY + timedelta(hours=1)

    def add(n):
        orders = ProductionOrder.objects.bulk_create(
            ProductionOrder(
                number=f"PO-DASH{next(_seq):06d}",
                item=floor.product,
                revision=floor.product.revision,
                quantity=D(10),
                unit=floor.pcs,
                site=floor.site,
                status=next(statuses),
                scheduled_start=DAY - timedelta(hours=next(_seq) % 5),
                quantity_in_progress=D(next(_seq) % 7),
            )
            for _ in range(n)
        )
        resources = itertools.cycle(floor.resources)
        jobs = Job.objects.bulk_create(
            Job(
                order=order,
                operation_number=10,
                operation_name="Op 10",
                kind=JobKind.PROCESS,
                resource=next(resources),
                sequence=1,
                planned_minutes=D(30),
            )
            for order in orders
        )
        registrations = RawRegistration.objects.bulk_create(
            RawRegistration(
                uuid=uuid.uuid4(),
                kind=RegistrationKind.REPORT_PROGRESS,
                status=RegistrationStatus.PROCESSED,
                lane=f"order:{job.order_id}",
                occurred_at=at + timedelta(minutes=index % 600),
                order_id=job.order_id,
                job=job,
                reason_code=next(reasons),
            )
            for index, job in enumerate(jobs)
        )
        RouteCardLine.objects.bulk_create(
            RouteCardLine(
                registration=r,
                order_id=r.order_id,
                job=r.job,
                operation_number=10,
                job_kind=JobKind.PROCESS,
                resource=r.job.resource,
                ended_at=r.occurred_at,
                quantity_good=D(2),
                quantity_scrap=D(1),
                reason_code=r.reason_code,
            )
            for r in registrations
        )
        ReportAsFinishedLine.objects.bulk_create(
            ReportAsFinishedLine(
                registration=r, order_id=r.order_id, item=floor.product, quantity_scrap=D(1)
            )
            for r in registrations
        )

    return add


def test_the_page_runs_the_same_queries_at_10_and_500_orders_and_lines(supervisor):
    floor = make_floor(stock=0)
    count = assert_constant_queries(supervisor, f"{URL}?date=2026-03-02", _volume(floor))
    # Session, user, 2 for permissions, the header's unread count, and the dashboard's 8
    # (open-order totals, WIP rows, output, scrap x 2, states, late count and rows): 13.
    assert count <= 13, count
    response = supervisor.get(f"{URL}?date=2026-03-02")
    assert len(response.context["wip"].rows) == 15
    assert len(response.context["late_rows"]) == 20
