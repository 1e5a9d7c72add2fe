"""The supervisor's pages: the operational plan per resource, the live floor, attendance days
and the ERP's change requests. Permissions for GET and POST, each action's effect and
refusal (the services' messages), and constant query counts at 10 and 500 rows.

The plant is tests.execution.floor (orders released and registrations processed through the
real services and endpoint); the many rows of the query-count tests are inserted in bulk.
"""

import uuid
from datetime import date, timedelta
from decimal import Decimal as D

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from execution.choices import AttendanceStatus, JobKind, JobStatus, RegistrationKind
from execution.models import AttendanceDay, Job, JobActivity, RawRegistration, Worker
from execution.pages.dashboard import selectors as dashboard
from execution.services.attendance import attendance_day_calculate
from execution.services.jobs import job_plan_move
from execution.services.order_lifecycle import order_record_quantities
from integration.choices import ChangeRequestStatus
from integration.erp.services.work_orders import work_order_change
from integration.models import ChangeRequest, Notification
from mesproject.actors import Actor
from mesproject.errors import NotAllowed
from mesproject.roles import IT, OPERATOR, PLANNER, SUPERVISOR
from mesproject.workplace.roles import roles_ensure
from orders.choices import OrderStatus
from orders.models import ProductionOrder
from tests.execution.floor import make_floor
from tests.factories import ResourceFactory, advance_order, make_order
from tests.pages import assert_constant_queries

pytestmark = pytest.mark.django_db

K = RegistrationKind
PLAN = reverse("supervisor:plan")
FLOOR = reverse("supervisor:floor")
FLOOR_LIVE = reverse("supervisor:floor_fragment")
ATTENDANCE = reverse("supervisor:attendance")
CHANGE_REQUESTS = reverse("change_requests:list")
DAY = date(2026, 3, 2)  # tests.execution.floor's DAY, in UTC (the test TIME_ZONE)
ACTOR = Actor(process="test")


def light_floor(workers: int = 3):
    """The floor plant with one manual BOM line and no stock: nothing is consumed
    automatically, so jobs start without material (and the set-up is quick)."""
    return make_floor(workers=workers, lines=[("BELL", "manual", 30, "1")], stock=0)


def user_in(role: str):
    roles_ensure()
    user = get_user_model().objects.create_user(f"{role}-{uuid.uuid4().hex[:6]}", password="x")
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def boss(client):
    client.force_login(user_in(SUPERVISOR))
    return client


def flashed(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def move(job):
    return reverse("supervisor:job_move", args=[job.pk])


def hold(job):
    return reverse("supervisor:job_hold", args=[job.pk])


def move_to(job):
    return reverse("supervisor:job_move_resource", args=[job.pk])


def plan_order(resource) -> list[int]:
    return list(
        Job.objects.filter(resource=resource)
        .exclude(status=JobStatus.COMPLETED)
        .order_by("sequence", "id")
        .values_list("pk", flat=True)
    )


# --- Permissions --------------------------------------------------------------------------------


@pytest.fixture
def targets():
    """One object of each kind an action URL names."""
    floor = light_floor(workers=1)
    order = floor.order(2)
    day = AttendanceDay.objects.create(worker=floor.workers[0], date=DAY)
    running = advance_order(make_order(), OrderStatus.IN_PROGRESS)
    _order, request = work_order_change(order=running, changes={"priority": 2}, actor=ACTOR)
    job = floor.job(order, 10)
    return {
        "job_move": reverse("supervisor:job_move", args=[job.pk]),
        "job_hold": reverse("supervisor:job_hold", args=[job.pk]),
        "job_move_resource": reverse("supervisor:job_move_resource", args=[job.pk]),
        "attendance_calculate": reverse("supervisor:attendance_calculate"),
        "attendance_approve": reverse("supervisor:attendance_approve"),
        "attendance_unapprove": reverse("supervisor:attendance_unapprove"),
        "attendance_transfer": reverse("supervisor:attendance_transfer"),
        "attendance_export": reverse("supervisor:attendance_export"),
        "change_request_decide": reverse("change_requests:decide", args=[request.pk]),
        "ids": {"job": job.pk, "day": day.pk, "request": request.pk},
    }


PAGES = [PLAN, FLOOR, FLOOR_LIVE, ATTENDANCE, CHANGE_REQUESTS]
# (role, page) pairs a role may open; every other pair is 403.
MAY_VIEW = {
    (SUPERVISOR, PLAN),
    (SUPERVISOR, FLOOR),
    (SUPERVISOR, FLOOR_LIVE),
    (SUPERVISOR, ATTENDANCE),
    (SUPERVISOR, CHANGE_REQUESTS),
    (PLANNER, PLAN),  # read-only: planners have execution.view_job
    (PLANNER, FLOOR),
    (PLANNER, FLOOR_LIVE),
    (IT, CHANGE_REQUESTS),  # read-only: view_changerequest
}


@pytest.mark.parametrize("role", [OPERATOR, PLANNER, IT, SUPERVISOR])
def test_each_page_is_refused_without_its_view_permission(client, role):
    client.force_login(user_in(role))
    for url in PAGES:
        expected = 200 if (role, url) in MAY_VIEW else 403
        assert client.get(url).status_code == expected, (role, url)


@pytest.mark.parametrize("role", [OPERATOR, PLANNER, IT])
def test_every_action_is_refused_without_the_change_permission(client, targets, role):
    client.force_login(user_in(role))
    ids = targets.pop("ids")
    bodies = {
        "job_move": {"direction": "down"},
        "job_hold": {"hold": "1"},
        "job_move_resource": {"resource": ResourceFactory().pk},
        "attendance_calculate": {"date": "2026-03-02"},
        "change_request_decide": {"decision": "approve"},
    }
    for name, url in targets.items():
        body = bodies.get(name, {"only": ids["day"]})
        assert client.post(url, body).status_code == 403, (role, name)
    job = Job.objects.get(pk=ids["job"])
    assert (job.on_hold, job.sequence) == (False, 10)
    assert AttendanceDay.objects.get(pk=ids["day"]).status == AttendanceStatus.CALCULATED
    assert ChangeRequest.objects.get(pk=ids["request"]).status == ChangeRequestStatus.PENDING


def test_pages_are_for_signed_in_users_only(client):
    for url in PAGES:
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_change_request_notification_links_to_the_page():
    running = advance_order(make_order(), OrderStatus.IN_PROGRESS)
    work_order_change(order=running, changes={"qty_target": D(12)}, actor=ACTOR)
    notification = Notification.objects.get(kind="change_request")
    assert notification.link == CHANGE_REQUESTS


# --- Operational plan ---------------------------------------------------------------------------


@pytest.fixture
def plan():
    """Three released orders: three jobs in the plan of each of the three resources."""
    floor = light_floor(workers=2)
    orders = [floor.order(4, scheduled_start=floor.at(60 * i), priority=i + 1) for i in range(3)]
    floor.orders = orders
    floor.jobs = [floor.job(order, 10) for order in orders]
    return floor


def test_the_plan_lists_resources_then_a_resources_jobs_in_sequence(boss, plan):
    resource = plan.resources[0]
    overview = boss.get(PLAN, {"site": plan.site.pk})
    assert [r.code for r in overview.context["resources"]] == [r.code for r in plan.resources]
    assert overview.context["resources"][0].jobs_open == 3
    assert f'href="?site={plan.site.pk}&amp;resource={resource.pk}"' in overview.content.decode()

    response = boss.get(PLAN, {"site": plan.site.pk, "resource": resource.pk})
    assert [j.pk for j in response.context["page"]] == [j.pk for j in plan.jobs]
    html = response.content.decode()
    for order in plan.orders:
        assert order.number in html
    assert "Not started" in html and plan.product.part_number in html
    assert f'aria-label="Move {plan.jobs[0]} up"' in html


def test_move_up_and_down_reorder_the_plan(boss, plan):
    first, second, third = plan.jobs
    resource = plan.resources[0]
    response = boss.post(move(second), {"direction": "up"}, follow=True)
    assert plan_order(resource) == [second.pk, first.pk, third.pk]
    assert flashed(response) == [f"Job {second} moved up."]

    boss.post(move(second), {"direction": "down"})
    boss.post(move(second), {"direction": "down"})
    assert plan_order(resource) == [first.pk, third.pk, second.pk]
    # Every change is recorded in the job's history, with who did it.
    assert second.history.first().history_change_reason.startswith("plan changed by user:")


def test_moving_past_the_ends_is_refused_with_the_services_message(boss, plan):
    first, _second, third = plan.jobs
    response = boss.post(move(first), {"direction": "up"}, follow=True)
    assert flashed(response) == [
        f"Job {first} is first in the plan of {plan.resources[0].code} already."
    ]
    response = boss.post(move(third), {"direction": "down"}, follow=True)
    assert "is last in the plan" in flashed(response)[0]
    assert plan_order(plan.resources[0]) == [j.pk for j in plan.jobs]


def test_equal_sequences_are_renumbered_when_moving(plan):
    first, second, third = plan.jobs
    Job.objects.filter(pk__in=[first.pk, second.pk, third.pk]).update(sequence=10)
    job_plan_move(job=third, direction="up", actor=ACTOR)
    assert plan_order(plan.resources[0]) == [first.pk, third.pk, second.pk]
    assert sorted(
        Job.objects.filter(resource=plan.resources[0]).values_list("sequence", flat=True)
    ) == [10, 20, 30]


def test_hold_and_release_hold(boss, plan):
    job = plan.jobs[1]
    back = f"{PLAN}?resource={plan.resources[0].pk}"
    response = boss.post(hold(job), {"hold": "1", "next": back}, follow=True)
    assert Job.objects.get(pk=job.pk).on_hold is True
    assert flashed(response) == [f"Job {job} put on hold."]
    assert 'class="badge hold"' in response.content.decode()
    boss.post(hold(job), {"hold": "0"})
    assert Job.objects.get(pk=job.pk).on_hold is False


def test_move_to_another_resource_puts_the_job_last_there(boss, plan):
    job, target = plan.jobs[0], plan.resources[1]
    response = boss.post(move_to(job), {"resource": target.pk}, follow=True)
    job.refresh_from_db()
    assert job.resource == target
    assert plan_order(target)[-1] == job.pk
    assert flashed(response) == [
        f"Job {job} moved to {target.code}: it is last in that resource's plan."
    ]


def test_move_to_a_resource_of_another_site_is_refused(boss, plan):
    job = plan.jobs[0]
    elsewhere = ResourceFactory()
    response = boss.post(move_to(job), {"resource": elsewhere.pk}, follow=True)
    assert flashed(response) == ["Choose an active resource of the job's site."]
    assert Job.objects.get(pk=job.pk).resource == plan.resources[0]


def test_a_started_job_cannot_move_to_another_resource_but_can_be_held(boss, plan):
    job, worker = plan.jobs[0], plan.workers[0]
    plan.clock_in(worker, 0)
    plan.post("start_job", at=1, badge_id=worker, job=job)
    plan.process()
    response = boss.post(move_to(job), {"resource": plan.resources[1].pk}, follow=True)
    assert flashed(response) == [f"Job {job} has started: it cannot move to another resource."]
    assert Job.objects.get(pk=job.pk).resource == plan.resources[0]
    boss.post(hold(job), {"hold": "1"})
    assert Job.objects.get(pk=job.pk).on_hold is True


def test_a_completed_job_is_refused_and_left_out_of_the_plan(boss, plan):
    job, worker = plan.jobs[0], plan.workers[0]
    plan.clock_in(worker, 0)
    plan.post("start_job", at=1, badge_id=worker, job=job)
    plan.post(
        "report_progress", at=9, badge_id=worker, job=job, quantity_good="4", completes_job=True
    )
    plan.process()
    assert Job.objects.get(pk=job.pk).status == JobStatus.COMPLETED
    for url, body in ((hold(job), {"hold": "1"}), (move(job), {"direction": "down"})):
        response = boss.post(url, body, follow=True)
        assert flashed(response) == [f"Job {job} is completed."]
    assert Job.objects.get(pk=job.pk).on_hold is False
    listed = boss.get(PLAN, {"resource": plan.resources[0].pk}).context["page"]
    assert job.pk not in [j.pk for j in listed]
    with_completed = boss.get(PLAN, {"resource": plan.resources[0].pk, "include_completed": "on"})
    assert job.pk in [j.pk for j in with_completed.context["page"]]


def test_htmx_actions_answer_the_table_with_the_message(boss, plan):
    first, second, _third = plan.jobs
    back = f"{PLAN}?resource={plan.resources[0].pk}"
    response = boss.post(move(second), {"direction": "up", "next": back}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith("{# ") is False and 'id="plan-jobs"' in html
    assert f"Job {second} moved up." in html
    assert "<html" not in html
    assert [j.pk for j in response.context["page"]] == [second.pk, first.pk, plan.jobs[2].pk]
    # The rows' forms keep pointing back at the plan page, not at the action URL.
    assert f'name="next" value="{back}"' in html


def test_plain_post_redirects_back_to_the_list(boss, plan):
    back = f"{PLAN}?resource={plan.resources[0].pk}&page=1"
    response = boss.post(hold(plan.jobs[0]), {"hold": "1", "next": back})
    assert response.status_code == 302 and response["Location"] == back
    response = boss.post(hold(plan.jobs[0]), {"hold": "0", "next": "https://evil.example/"})
    assert response["Location"] == PLAN


def test_plan_queries_are_constant(boss):
    floor = light_floor(workers=1)
    order = floor.order(1)
    resource = floor.resources[0]
    numbers = iter(range(1000, 100_000))

    def add_jobs(n):
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

    url = f"{PLAN}?resource={resource.pk}"
    count = assert_constant_queries(boss, url, add_jobs)
    print(f"plan: {count} queries")
    assert count <= 12


# --- Live floor ---------------------------------------------------------------------------------


@pytest.fixture
def busy_floor():
    """Worker 1 on a job running since 06:01 (planned 6 min: late), worker 2 on a break, worker
    3 clocked in doing nothing, worker 4 clocked out; an order released with a past scheduled
    start and nothing started (late), another one scheduled in the future."""
    floor = light_floor(workers=4)
    running = floor.order(4)
    waiting = floor.order(2, scheduled_start=floor.at(30))
    future = floor.order(2, scheduled_start=timezone.now() + timedelta(days=2))
    on_job, on_break, _idle, gone = floor.workers
    for index, worker in enumerate(floor.workers):
        floor.clock_in(worker, index)
    floor.post("start_job", at=5, badge_id=on_job, job=floor.job(running, 10))
    floor.post("break_start", at=6, badge_id=on_break)
    floor.post("clock_out", at=7, badge_id=gone)
    floor.process()
    floor.extra.update(running=running, waiting=waiting, future=future)
    return floor


def test_the_floor_shows_who_is_on_which_job_idle_workers_and_what_is_late(boss, busy_floor):
    floor = busy_floor
    on_job, on_break, idle, gone = floor.workers
    response = boss.get(FLOOR)
    context = response.context
    assert [a.worker for a in context["activities"]] == [on_job]
    assert context["activities"][0].job_late is True
    assert [(w.badge_id, w.state_rank) for w in context["idle"]] == [
        (idle.badge_id, 0),
        (on_break.badge_id, 1),
    ]
    assert [j.pk for j in context["late_jobs"]] == [floor.job(floor.extra["running"], 10).pk]
    assert [o.number for o in context["late_orders"]] == [floor.extra["waiting"].number]
    html = response.content.decode()
    assert f'hx-get="{FLOOR_LIVE}"' in html and 'hx-trigger="every 10s"' in html
    assert "On a break" in html and "Late job" in html
    assert gone.badge_id not in html


def test_the_floor_and_the_dashboard_count_the_same_late_orders(boss, busy_floor):
    """One definition of a late order: a Created order past its start and an order in
    progress past its planned end are late on the floor as on the dashboard (the floor
    used to show only released orders past their start)."""
    floor = busy_floor
    created = floor.order(2, release=False, scheduled_start=floor.at(0))
    running = floor.extra["running"]
    # Planned end: 06:00 + its jobs' minutes, long passed.
    ProductionOrder.objects.filter(pk=running.pk).update(scheduled_start=floor.at(0))
    context = boss.get(FLOOR).context
    on_floor = [o.number for o in context["late_orders"]]
    on_dashboard = dashboard.late_orders(now=context["now"])
    assert sorted(on_floor) == sorted(
        [created.number, running.number, floor.extra["waiting"].number]
    )
    assert [r.number for r in on_dashboard.rows] == on_floor
    assert on_dashboard.count == context["late_orders"].paginator.count == 3


def test_the_floor_fragment_is_the_live_tables_only_and_keeps_the_filter(boss, busy_floor):
    response = boss.get(FLOOR_LIVE, {"site": busy_floor.site.pk})
    html = response.content.decode()
    assert "<html" not in html and 'id="floor-live"' in html
    assert f'hx-get="{FLOOR_LIVE}?site={busy_floor.site.pk}"' in html
    assert busy_floor.workers[0].badge_id in html
    other_site = boss.get(FLOOR_LIVE, {"site": light_floor(workers=1).site.pk})
    assert busy_floor.workers[0].badge_id not in other_site.content.decode()


def test_an_indirect_activity_is_shown_for_a_worker_without_a_job(boss):
    floor = light_floor(workers=1)
    worker = floor.workers[0]
    floor.clock_in(worker, 0)
    floor.post("indirect_start", at=3, badge_id=worker, indirect_activity="CLEAN")
    floor.process()
    idle = boss.get(FLOOR).context["idle"]
    assert [(w.state_rank, w.indirect_code) for w in idle] == [(2, "CLEAN")]


def floor_volume():
    """add_rows(n): per row two workers clocked in, one of them on a started job (written
    directly: how a row was made does not change what reading it costs)."""
    floor = light_floor(workers=1)
    order = floor.order(1)
    started = timezone.now() - timedelta(hours=2)
    serial = iter(range(1, 100_000))

    def add_rows(n):
        badges = [f"LOAD-{next(serial)}" for _ in range(2 * n)]
        workers = Worker.objects.bulk_create(
            Worker(
                badge_id=b, name=b, site=floor.site, pay_agreement=floor.workers[0].pay_agreement
            )
            for b in badges
        )
        jobs = Job.objects.bulk_create(
            Job(
                order=order,
                operation_number=5000 + next(serial),
                operation_name="Load",
                kind=JobKind.PROCESS,
                resource=floor.resources[0],
                sequence=10,
                planned_minutes=D(30),
                status=JobStatus.STARTED,
                started_at=started,
            )
            for _ in range(n)
        )
        registrations = RawRegistration.objects.bulk_create(
            [
                RawRegistration(
                    uuid=uuid.uuid4(),
                    kind=K.CLOCK_IN,
                    status="processed",
                    lane="w",
                    occurred_at=started,
                    worker=worker,
                )
                for worker in workers
            ]
            + [
                RawRegistration(
                    uuid=uuid.uuid4(),
                    kind=K.START_JOB,
                    status="processed",
                    lane="o",
                    occurred_at=started,
                    worker=worker,
                    job=job,
                )
                for worker, job in zip(workers[:n], jobs, strict=True)
            ]
        )
        starts = registrations[2 * n :]
        JobActivity.objects.bulk_create(
            JobActivity(worker=r.worker, job=r.job, started_at=started, start_registration=r)
            for r in starts
        )

    return add_rows


def test_floor_queries_are_constant(boss):
    add_rows = floor_volume()
    count = assert_constant_queries(boss, FLOOR, add_rows)
    print(f"floor: {count} queries")
    fragment = assert_constant_queries(boss, FLOOR_LIVE, lambda n: add_rows(n // 10 or 1))
    print(f"floor fragment: {fragment} queries")
    assert count <= 16


# --- Attendance ---------------------------------------------------------------------------------


def worked_day(floor, worker, *, clock_out=True):
    floor.clock_in(worker, 0)
    floor.post("break_start", at=240, badge_id=worker)
    floor.post("break_stop", at=270, badge_id=worker)
    if clock_out:
        floor.post("clock_out", at=480, badge_id=worker)


@pytest.fixture
def days():
    """Two workers' full days, processed (not calculated yet)."""
    floor = light_floor(workers=2)
    for worker in floor.workers:
        worked_day(floor, worker)
    assert floor.process().failed == 0
    return floor


def day_of(worker) -> AttendanceDay:
    return AttendanceDay.objects.get(worker=worker, date=DAY)


def test_calculate_a_date_from_the_page(boss, days):
    response = boss.post(
        reverse("supervisor:attendance_calculate"),
        {"date": "2026-03-02", "site": days.site.pk},
        follow=True,
    )
    assert flashed(response)[0].startswith(f"2 attendance day(s) of 2026-03-02 at {days.site.code}")
    day = day_of(days.workers[0])
    assert (day.clocked_minutes, day.break_minutes, day.worked_minutes) == (480, 30, 450)
    html = response.content.decode()
    assert days.workers[0].badge_id in html and ">450<" in html


def test_calculate_with_a_bad_date_says_so_and_changes_nothing(boss, days):
    response = boss.post(
        reverse("supervisor:attendance_calculate"), {"date": "2026-02-31"}, follow=True
    )
    assert flashed(response) == ["Date to calculate: Enter a valid date."]
    assert not AttendanceDay.objects.exists()


def test_approve_unapprove_and_bulk_approve(boss, days):
    first, second = (
        attendance_day_calculate(worker=w, date=DAY, actor=ACTOR) for w in days.workers
    )
    approve = reverse("supervisor:attendance_approve")
    response = boss.post(approve, {"only": first.pk}, follow=True)
    assert day_of(days.workers[0]).status == AttendanceStatus.APPROVED
    assert flashed(response) == [f"Approved 1 day(s): {days.workers[0].badge_id} 2026-03-02."]
    assert day_of(days.workers[0]).approved_by_actor.startswith("user:supervisor")

    response = boss.post(
        reverse("supervisor:attendance_unapprove"), {"only": first.pk}, follow=True
    )
    assert day_of(days.workers[0]).status == AttendanceStatus.CALCULATED

    response = boss.post(approve, {"day": [first.pk, second.pk]}, follow=True)
    assert {day_of(w).status for w in days.workers} == {AttendanceStatus.APPROVED}
    assert flashed(response)[0].startswith("Approved 2 day(s)")


def test_approve_is_refused_with_the_reason_when_a_registration_waits(boss, days):
    worker = days.workers[0]
    day = attendance_day_calculate(worker=worker, date=DAY, actor=ACTOR)
    days.post("absence", at=500, badge_id=worker, absence_code="DOC", absence_minutes="30")
    response = boss.post(reverse("supervisor:attendance_approve"), {"only": day.pk}, follow=True)
    assert flashed(response) == [
        f"{worker.badge_id} has registrations on 2026-03-02 that are not processed yet "
        "(new or failed): process or cancel them, then calculate the day again."
    ]
    assert day_of(worker).status == AttendanceStatus.CALCULATED


def test_unapprove_of_a_calculated_day_and_empty_selection_are_refused(boss, days):
    day = attendance_day_calculate(worker=days.workers[0], date=DAY, actor=ACTOR)
    response = boss.post(reverse("supervisor:attendance_unapprove"), {"only": day.pk}, follow=True)
    assert flashed(response) == [
        f"The attendance day 2026-03-02 of {days.workers[0].badge_id} is not approved."
    ]
    response = boss.post(reverse("supervisor:attendance_approve"), {}, follow=True)
    assert flashed(response) == ["Select at least one attendance day."]


def test_transfer_answers_the_pay_basis_csv_and_locks_the_days(boss, days):
    ids = []
    for worker in days.workers:
        day = attendance_day_calculate(worker=worker, date=DAY, actor=ACTOR)
        boss.post(reverse("supervisor:attendance_approve"), {"only": day.pk})
        ids.append(day.pk)
    response = boss.post(reverse("supervisor:attendance_transfer"), {"day": ids})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == 'attachment; filename="pay-basis-2026-03-02.csv"'
    lines = response.content.decode().splitlines()
    assert lines[0].startswith("badge_id,name,date,pay_agreement,worked_minutes")
    assert len(lines) == 3 and lines[1].startswith(f"{days.workers[0].badge_id},")
    assert {day_of(w).status for w in days.workers} == {AttendanceStatus.TRANSFERRED}
    page = boss.get(ATTENDANCE)
    assert "Transferred to payroll" in page.content.decode()


def test_transfer_of_a_day_not_approved_is_refused_and_nothing_moves(boss, days):
    first, second = (
        attendance_day_calculate(worker=w, date=DAY, actor=ACTOR) for w in days.workers
    )
    boss.post(reverse("supervisor:attendance_approve"), {"only": first.pk})
    response = boss.post(
        reverse("supervisor:attendance_transfer"), {"day": [first.pk, second.pk]}, follow=True
    )
    assert response["Content-Type"].startswith("text/html")
    assert flashed(response)[-1:] == [
        "Only approved days can be transferred to payroll; not: "
        f"{days.workers[1].badge_id} 2026-03-02 (calculated)."
    ]
    assert day_of(days.workers[0]).status == AttendanceStatus.APPROVED


def test_export_gives_the_csv_without_transferring(boss, days):
    day = attendance_day_calculate(worker=days.workers[0], date=DAY, actor=ACTOR)
    response = boss.post(reverse("supervisor:attendance_export"), {"day": [day.pk]})
    assert response["Content-Type"].startswith("text/csv")
    assert day_of(days.workers[0]).status == AttendanceStatus.CALCULATED


def test_attendance_filters(boss, days):
    first, second = (
        attendance_day_calculate(worker=w, date=DAY, actor=ACTOR) for w in days.workers
    )
    boss.post(reverse("supervisor:attendance_approve"), {"only": first.pk})

    def listed(**params):
        return [d.pk for d in boss.get(ATTENDANCE, params).context["page"]]

    assert listed(status="approved") == [first.pk]
    assert listed(worker=days.workers[1].badge_id) == [second.pk]
    assert listed(date_from="2026-03-03") == []
    assert sorted(
        listed(date_from="2026-03-02", date_to="2026-03-02", site=days.site.pk)
    ) == sorted([first.pk, second.pk])
    wrong = boss.get(ATTENDANCE, {"date_from": "2026-03-05", "date_to": "2026-03-01"})
    assert "The end date is before the start date." in wrong.content.decode()


def test_attendance_queries_are_constant(boss):
    floor = light_floor(workers=1)
    worker = floor.workers[0]
    dates = (DAY - timedelta(days=i) for i in range(10_000))

    def add_days(n):
        AttendanceDay.objects.bulk_create(
            AttendanceDay(worker=worker, date=next(dates), worked_minutes=D(450)) for _ in range(n)
        )

    count = assert_constant_queries(boss, ATTENDANCE, add_days)
    print(f"attendance: {count} queries")
    assert count <= 12


# --- Change requests ----------------------------------------------------------------------------


@pytest.fixture
def running_order():
    return advance_order(make_order(quantity=10), OrderStatus.IN_PROGRESS)


def decide(client, request, decision, note=""):
    url = reverse("change_requests:decide", args=[request.pk])
    return client.post(url, {"decision": decision, "note": note}, follow=True)


def test_the_list_shows_pending_first_with_old_and_new_values(boss, running_order):
    _o, old = work_order_change(order=running_order, changes={"priority": 2}, actor=ACTOR)
    ChangeRequest.objects.filter(pk=old.pk).update(status=ChangeRequestStatus.REJECTED)
    _o, pending = work_order_change(
        order=running_order, changes={"qty_target": D(20), "priority": 1}, actor=ACTOR
    )
    response = boss.get(CHANGE_REQUESTS)
    assert [r.pk for r in response.context["page"]] == [pending.pk, old.pk]
    rows = response.context["page"][0].change_rows
    assert [(r["label"], r["current"], r["requested"]) for r in rows] == [
        ("Quantity", "10", "20"),
        ("Priority", "5", "1"),
    ]
    html = response.content.decode()
    assert running_order.number in html and "process:test" in html
    only_rejected = boss.get(CHANGE_REQUESTS, {"status": "rejected"}).context["page"]
    assert [r.pk for r in only_rejected] == [old.pk]


def test_approve_applies_the_change(boss, running_order):
    _o, request = work_order_change(order=running_order, changes={"qty_target": D(20)}, actor=ACTOR)
    response = decide(boss, request, "approve", "agreed with planning")
    assert flashed(response) == [
        f"The change request of order {running_order.number} is approved and applied."
    ]
    running_order.refresh_from_db()
    request.refresh_from_db()
    assert running_order.quantity == 20
    assert (request.status, request.decision_note) == ("approved", "agreed with planning")


def test_reject_keeps_the_order(boss, running_order):
    _o, request = work_order_change(order=running_order, changes={"qty_target": D(20)}, actor=ACTOR)
    response = decide(boss, request, "reject", "line is full")
    assert "is rejected" in flashed(response)[0]
    running_order.refresh_from_db()
    assert running_order.quantity == 10
    assert ChangeRequest.objects.get(pk=request.pk).status == ChangeRequestStatus.REJECTED


def test_refusals_are_shown_and_change_nothing(boss, running_order):
    _o, request = work_order_change(order=running_order, changes={"qty_target": D(5)}, actor=ACTOR)
    order_record_quantities(order=running_order, good=D(7))
    response = decide(boss, request, "approve")
    message = flashed(response)[0]
    assert message.startswith(f"Change request of order {running_order.number}: ")
    assert "7" in message  # the service names what is already produced
    assert ChangeRequest.objects.get(pk=request.pk).status == ChangeRequestStatus.PENDING

    decide(boss, request, "reject")
    response = decide(boss, request, "approve")
    assert flashed(response) == [
        f"Change request of order {running_order.number}: This change request is Rejected already."
    ]
    response = decide(boss, request, "maybe")
    assert flashed(response) == ["Choose Approve or Reject."]


def test_change_request_queries_are_constant(boss, running_order):
    now = timezone.now()

    def add_requests(n):
        ChangeRequest.objects.bulk_create(
            ChangeRequest(
                order=running_order,
                changes={"qty_target": "12", "scheduled_start": "2026-04-01T06:00:00+00:00"},
                requested_by_actor="erp",
                requested_at=now,
                status=ChangeRequestStatus.PENDING if i % 2 else ChangeRequestStatus.REJECTED,
            )
            for i in range(n)
        )

    count = assert_constant_queries(boss, CHANGE_REQUESTS, add_requests)
    print(f"change requests: {count} queries")
    assert count <= 10


def test_the_service_refuses_an_unknown_direction(plan):
    with pytest.raises(NotAllowed):
        job_plan_move(job=plan.jobs[0], direction="sideways", actor=ACTOR)


def test_the_old_inbox_addresses_lead_to_the_pages_now_named_for_what_they_are(client):
    # Notifications keep their links (a change request's was /inbox/change-requests/).
    moved = client.get("/inbox/notifications/?unread=1")
    assert moved.status_code == 301 and moved.headers["Location"] == "/notifications/?unread=1"
    moved = client.get("/inbox/change-requests/")
    assert moved.status_code == 301 and moved.headers["Location"] == "/change-requests/"
    assert reverse("notifications:list") == "/notifications/"
    assert reverse("change_requests:decide", args=[7]) == "/change-requests/7/decide/"
