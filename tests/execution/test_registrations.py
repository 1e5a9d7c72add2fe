"""POST /api/v1/registrations/: what is accepted, what is refused (with which code), and that a
refusal stores nothing; replays; lists; permissions. Also jobs on release and the unrelease
guard."""

import uuid
from decimal import Decimal as D

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone
from rest_framework.test import APIClient

from execution.choices import JobKind, RegistrationStatus
from execution.models import Job, RawRegistration
from execution.services import order_lifecycle
from mesproject.errors import NotAllowed
from mesproject.roles import OPERATOR
from mesproject.workplace.roles import roles_ensure
from orders.choices import OrderStatus
from orders.models import ProductionOrder
from tests.api import new_key, openapi_schema, token_client
from tests.execution.floor import make_floor

pytestmark = pytest.mark.django_db


@pytest.fixture
def floor():
    return make_floor()


def _code(response):
    return response.json()["code"]


# --- Jobs on release ----------------------------------------------------------------------


def test_release_creates_a_process_job_per_operation_and_setup_jobs_where_there_is_setup():
    floor = make_floor(setup_minutes=15)
    order = floor.order(4)
    jobs = list(order.jobs.order_by("operation_number", "kind"))
    assert [(j.operation_number, j.kind) for j in jobs] == [
        (10, JobKind.PROCESS),
        (10, JobKind.SETUP),
        (20, JobKind.PROCESS),
        (20, JobKind.SETUP),
        (30, JobKind.PROCESS),
        (30, JobKind.SETUP),
    ]
    process = order.jobs.get(operation_number=20, kind=JobKind.PROCESS)
    assert process.resource == floor.resources[1]
    assert process.planned_quantity == 4
    assert process.planned_minutes == D("6.00")  # 1.5 min per unit x 4
    setup = order.jobs.get(operation_number=20, kind=JobKind.SETUP)
    assert setup.planned_minutes == D("15.00") and setup.planned_quantity == 0
    # Setup comes before process in the resource's plan; a second order queues behind.
    assert setup.sequence < process.sequence
    second = floor.order(1)
    assert second.jobs.get(operation_number=20, kind=JobKind.SETUP).sequence > process.sequence


def test_unrelease_removes_the_jobs_while_nothing_was_registered(floor):
    order = floor.order(3)
    assert order.jobs.count() == 3
    order = order_lifecycle.order_transition(order=order, transition="unrelease")
    assert order.status == OrderStatus.CREATED
    assert not Job.objects.filter(order=order).exists()
    order = order_lifecycle.order_release(order=order)
    assert order.jobs.count() == 3


def test_unrelease_is_refused_once_a_registration_exists(floor):
    order = floor.order(3)
    worker = floor.workers[0]
    floor.clock_in(worker, 0)
    floor.post("start_job", at=1, badge_id=worker, job=floor.job(order, 10))
    blockers = order_lifecycle.transition_blockers(order=order, transition="unrelease")
    assert blockers == ["1 shop-floor registration(s) exist for the order"]
    with pytest.raises(NotAllowed) as refused:
        order_lifecycle.order_transition(order=order, transition="unrelease")
    assert refused.value.code == "unrelease_refused"
    order.refresh_from_db()
    assert order.status == OrderStatus.RELEASED and order.jobs.count() == 3


# --- Accepted and answered at once ------------------------------------------------------------


def test_a_registration_is_stored_new_and_answered_with_202(floor):
    worker = floor.workers[0]
    key = uuid.uuid4()
    response = floor.post("clock_in", at=0, badge_id=worker, registration_uuid=key)
    body = response.json()
    assert body["replayed"] is False
    assert body["registration_uuid"] == str(key)
    [stored] = body["registrations"]
    assert stored["status"] == "new" and stored["lane"] == f"worker:{worker.pk}"
    assert RawRegistration.objects.get(uuid=key).status == RegistrationStatus.NEW


def test_a_repeated_uuid_is_a_no_op_returning_the_first_answer(floor):
    worker = floor.workers[0]
    key = uuid.uuid4()
    first = floor.post("clock_in", at=0, badge_id=worker, registration_uuid=key)
    # The registration's UUID is the request's idempotency key: the API replays the first
    # answer as it was. The replay would be refused on its own (already clocked in).
    again = floor.post("clock_in", at=0, badge_id=worker, registration_uuid=key, expect=202)
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    # Under another request key (a terminal that re-sends it in a batch), the registration
    # itself is still a no-op that answers with the first rows.
    body = {
        "registration_uuid": str(key),
        "kind": "clock_in",
        "badge_id": worker.badge_id,
        "occurred_at": floor.at(0).isoformat(),
    }
    batch = floor.client.post("/api/v1/registrations/", [body], format="json", headers=new_key())
    result = batch.json()["results"][0]
    assert result["status"] == 200 and result["replayed"] is True
    assert result["registrations"] == first.json()["registrations"]
    assert RawRegistration.objects.filter(uuid=key).count() == 1


def test_a_bundle_is_stored_once_per_job_and_replays_as_a_whole(floor):
    worker = floor.workers[0]
    one, two = floor.order(2), floor.order(3)
    floor.clock_in(worker, 0)
    key = uuid.uuid4()
    jobs = [floor.job(one, 10), floor.job(two, 10)]
    response = floor.post("bundle", at=1, badge_id=worker, jobs=jobs, registration_uuid=key)
    rows = response.json()["registrations"]
    assert [r["job"] for r in rows] == [jobs[0].pk, jobs[1].pk]
    assert {r["lane"] for r in rows} == {f"order:{one.pk}", f"order:{two.pk}"}
    assert {r["bundle_uuid"] for r in rows} == {str(key)}
    assert [r["quantity"] for r in rows] == ["2.000000", "3.000000"]
    replay = floor.post(
        "bundle", at=1, badge_id=worker, jobs=jobs, registration_uuid=key, expect=202
    )
    assert replay.json()["registrations"] == rows
    assert RawRegistration.objects.filter(bundle_uuid=key).count() == 2


def test_clock_out_stops_the_jobs_the_worker_still_runs(floor):
    worker = floor.workers[0]
    order = floor.order(2)
    floor.clock_in(worker, 0)
    floor.post("start_job", at=1, badge_id=worker, job=floor.job(order, 10))
    rows = floor.post("clock_out", at=60, badge_id=worker).json()["registrations"]
    assert [(r["kind"], r["job"], r["stops_job"]) for r in rows] == [
        ("clock_out", None, False),
        ("stop_job", floor.job(order, 10).pk, True),
    ]


def test_a_list_is_answered_item_by_item(floor):
    worker = floor.workers[0]
    good = {
        "registration_uuid": str(uuid.uuid4()),
        "kind": "clock_in",
        "badge_id": worker.badge_id,
        "occurred_at": floor.at(0).isoformat(),
    }
    bad = {
        "registration_uuid": str(uuid.uuid4()),
        "kind": "clock_out",
        "badge_id": "NOBODY",
        "occurred_at": floor.at(1).isoformat(),
    }
    response = floor.client.post(
        "/api/v1/registrations/", [good, bad], format="json", headers=new_key()
    )
    assert response.status_code == 200
    first, second = response.json()["results"]
    assert first["status"] == 202 and first["registrations"][0]["kind"] == "clock_in"
    assert second["status"] == 400 and second["code"] == "worker_unknown"
    assert RawRegistration.objects.count() == 1


def test_the_schema_takes_a_list_and_describes_its_answer(floor):
    response = floor.client.post("/api/v1/registrations/", [], format="json", headers=new_key())
    assert response.status_code == 200 and response.json() == {"results": []}
    schemas = openapi_schema()["components"]["schemas"]
    listed = {"type": "array", "items": {"$ref": "#/components/schemas/RegistrationIn"}}
    assert listed in schemas["RegistrationPost"]["oneOf"]
    answered = schemas["RegistrationAnswered"]["oneOf"]
    assert {"$ref": "#/components/schemas/BatchAnswered"} in answered
    assert schemas["BatchAnswered"]["required"] == ["results"]


# --- Refused, with a reason, storing nothing --------------------------------------------------


def _refused(floor, kind, code, status, **fields):
    before = RawRegistration.objects.count()
    response = floor.post(kind, expect=status, **fields)
    body = response.json()
    assert body["code"] == code, body
    assert body["message"]
    assert RawRegistration.objects.count() == before
    return body


def test_clock_out_without_clock_in_is_refused(floor):
    _refused(floor, "clock_out", "worker_not_clocked_in", 409, at=5, badge_id=floor.workers[0])


def test_clock_in_twice_is_refused(floor):
    floor.clock_in(floor.workers[0], 0)
    _refused(floor, "clock_in", "worker_already_clocked_in", 409, at=5, badge_id=floor.workers[0])


def test_state_is_read_at_the_events_own_time(floor):
    worker = floor.workers[0]
    floor.clock_in(worker, 60)
    # Posted later, happened earlier: before 07:00 the worker was not clocked in.
    _refused(floor, "clock_out", "worker_not_clocked_in", 409, at=30, badge_id=worker)
    floor.post("clock_out", at=90, badge_id=worker)


def test_progress_on_a_job_never_started_is_refused(floor):
    order = floor.order(5)
    worker = floor.workers[0]
    floor.clock_in(worker, 0)
    job = floor.job(order, 10)
    _refused(
        floor,
        "report_progress",
        "job_not_started",
        409,
        at=2,
        badge_id=worker,
        job=job,
        quantity_good="1",
    )
    # Without a worker (a machine counter), the job must have been started by someone.
    _refused(floor, "report_progress", "job_not_started", 409, at=2, job=job, quantity_good="1")
    floor.post("start_job", at=3, badge_id=worker, job=job)
    floor.post("report_progress", at=4, badge_id=worker, job=job, quantity_good="1")
    floor.post("report_progress", at=5, job=job, quantity_good="1")
    # Another worker has not started it.
    floor.clock_in(floor.workers[1], 0)
    _refused(
        floor,
        "report_progress",
        "job_not_started",
        409,
        at=6,
        badge_id=floor.workers[1],
        job=job,
        quantity_good="1",
    )


def test_no_quantity_on_a_closed_or_canceled_or_created_order(floor):
    worker = floor.workers[0]
    floor.clock_in(worker, 0)
    order = floor.order(1)
    job = floor.job(order, 10)
    order_lifecycle.order_cancel(order=order)
    body = _refused(floor, "start_job", "order_not_running", 409, at=1, badge_id=worker, job=job)
    assert body["fields"]["status"] == "canceled"
    created = floor.order(1, release=False)
    _refused(
        floor,
        "report_as_finished",
        "order_not_running",
        409,
        at=1,
        order=created.number,
        quantity_good="1",
    )


def test_an_order_closing_refuses_new_starts_but_lets_the_units_at_an_operation_finish():
    floor = make_floor(workers=2)
    first, second = floor.workers
    for worker in floor.workers:
        floor.clock_in(worker, 0)
    order = floor.order(4)
    job10, job20 = floor.job(order, 10), floor.job(order, 20)
    floor.post("start_job", at=1, badge_id=first, job=job10, quantity="2")
    # What integration's force close sets: execution reads it on the order alone.
    ProductionOrder.objects.filter(pk=order.pk).update(closing_since=timezone.now())

    body = _refused(floor, "start_job", "order_closing", 409, at=2, badge_id=second, job=job20)
    assert order.number in body["message"] and body["fields"]["order"] == order.number
    _refused(floor, "bundle", "order_closing", 409, at=2, badge_id=second, jobs=[job10, job20])
    floor.post("report_progress", at=3, badge_id=first, job=job10, quantity_good="2")


def test_job_rules(floor):
    worker, other = floor.workers[0], floor.workers[1]
    floor.clock_in(worker, 0)
    order = floor.order(2)
    job10, job20 = floor.job(order, 10), floor.job(order, 20)
    _refused(floor, "start_job", "worker_not_clocked_in", 409, at=1, badge_id=other, job=job10)
    floor.post("start_job", at=1, badge_id=worker, job=job10)
    _refused(floor, "start_job", "job_already_started", 409, at=2, badge_id=worker, job=job10)
    _refused(floor, "start_job", "worker_busy", 409, at=2, badge_id=worker, job=job20)
    _refused(
        floor,
        "report_progress",
        "reason_required",
        400,
        at=3,
        badge_id=worker,
        job=job10,
        quantity_scrap="1",
    )
    _refused(floor, "report_progress", "quantity_required", 400, at=3, badge_id=worker, job=job10)
    _refused(
        floor,
        "report_progress",
        "too_many_decimals",
        400,
        at=3,
        badge_id=worker,
        job=job10,
        quantity_good="0.5",
    )
    _refused(floor, "report_scrap", "quantity_required", 400, at=3, badge_id=worker, job=job10)
    job20.on_hold = True
    job20.save()
    floor.post("stop_job", at=4, badge_id=worker, job=job10)
    _refused(floor, "start_job", "job_on_hold", 409, at=5, badge_id=worker, job=job20)
    _refused(floor, "bundle", "bundle_too_small", 400, at=5, badge_id=worker, jobs=[job10])


def test_break_and_indirect_rules(floor):
    worker = floor.workers[0]
    _refused(floor, "break_start", "worker_not_clocked_in", 409, at=1, badge_id=worker)
    floor.clock_in(worker, 0)
    _refused(floor, "break_stop", "worker_not_on_break", 409, at=1, badge_id=worker)
    floor.post("break_start", at=10, badge_id=worker)
    _refused(floor, "break_start", "worker_on_break", 409, at=11, badge_id=worker)
    _refused(
        floor,
        "indirect_start",
        "worker_on_break",
        409,
        at=11,
        badge_id=worker,
        indirect_activity="CLEAN",
    )
    floor.post("break_stop", at=20, badge_id=worker)
    _refused(floor, "indirect_stop", "indirect_not_running", 409, at=21, badge_id=worker)
    floor.post("indirect_start", at=21, badge_id=worker, indirect_activity="CLEAN")
    _refused(
        floor,
        "indirect_start",
        "indirect_running",
        409,
        at=22,
        badge_id=worker,
        indirect_activity="CLEAN",
    )
    floor.post("indirect_stop", at=30, badge_id=worker)
    _refused(floor, "absence", "absence_code_required", 400, at=31, badge_id=worker)


def test_report_as_finished_rules():
    floor = make_floor(product_tracking="serial")
    order = floor.order(2)
    floor.clock_in(floor.workers[0], 0)
    floor.run_route(order, 1, floor.workers[0], at=0.5)
    _refused(
        floor, "report_as_finished", "lot_required", 400, at=10, order=order, quantity_good="1"
    )
    _refused(
        floor,
        "report_as_finished",
        "serial_quantity",
        400,
        at=10,
        order=order,
        quantity_good="2",
        lot_number="SN-1",
    )
    _refused(floor, "report_as_finished", "quantity_required", 400, at=10, order=order)
    _refused(
        floor,
        "report_as_finished",
        "location_unknown",
        400,
        at=10,
        order=order,
        quantity_good="1",
        lot_number="SN-1",
        location="NOPE/X",
    )
    response = floor.post(
        "report_as_finished", at=10, order=order, quantity_good="1", lot_number="SN-1"
    )
    stored = RawRegistration.objects.get(uuid=response.json()["registration_uuid"])
    assert stored.location == floor.output  # the last operation's resource output location


def test_malformed_and_unknown_references_are_400(floor):
    client = floor.client
    response = client.post("/api/v1/registrations/", {"kind": "clock_in"}, format="json")
    assert response.status_code == 400 and _code(response) == "idempotency_key_missing"
    response = client.post(
        "/api/v1/registrations/", {"kind": "clock_in"}, format="json", headers=new_key()
    )
    assert response.status_code == 400 and _code(response) == "invalid"
    assert "registration_uuid" in response.json()["fields"]
    response = floor.post("start_job", expect=400, at=1, badge_id=floor.workers[0], job=999999)
    assert _code(response) == "job_unknown"
    response = floor.post("teleport", expect=400, at=1)
    assert _code(response) == "invalid"
    response = floor.post(
        "report_progress", expect=400, at=1, job=floor.job(floor.order(1), 10), quantity_good="abc"
    )
    assert _code(response) == "invalid"
    assert RawRegistration.objects.count() == 0


def test_future_and_naive_times_are_refused(floor):
    worker = floor.workers[0]
    from django.utils import timezone

    response = floor.post(
        "clock_in", expect=400, at=timezone.now() + timezone.timedelta(hours=1), badge_id=worker
    )
    assert _code(response) == "occurred_at_future"


def test_posting_needs_the_permission():
    floor = make_floor(stock=0)
    roles_ensure()
    user = get_user_model().objects.create_user("nobody", password="x")
    client = token_client(user)
    body = {
        "registration_uuid": str(uuid.uuid4()),
        "kind": "clock_in",
        "badge_id": floor.workers[0].badge_id,
        "occurred_at": floor.at(0).isoformat(),
    }
    assert client.post("/api/v1/registrations/", body, format="json").status_code == 403
    user.groups.add(Group.objects.get(name=OPERATOR))
    assert client.post("/api/v1/registrations/", body, format="json").status_code == 202
    # Operators post; reading the processing log is for supervisors.
    assert client.get("/api/v1/registrations/").status_code == 403
    assert APIClient().post("/api/v1/registrations/", body, format="json").status_code in (401, 403)


def test_the_log_endpoint_lists_and_filters(floor):
    worker = floor.workers[0]
    floor.clock_in(worker, 0)
    floor.post("break_start", at=5, badge_id=worker)
    response = floor.client.get("/api/v1/registrations/", {"kind": "break_start"})
    assert response.status_code == 200
    assert [r["kind"] for r in response.json()["results"]] == ["break_start"]
    key = response.json()["results"][0]["registration_uuid"]
    assert floor.client.get(f"/api/v1/registrations/{key}/").json()["kind"] == "break_start"


@pytest.mark.parametrize(
    "when, status",
    [
        # PostgreSQL takes offsets up to 15:59 only: handed on as it came, this was a 500.
        ("4754-07-13T13:32:29.8-19:11", 200),
        ("0001-01-01T00:00:00+14:00", 400),  # before year 1 in UTC
        ("9999-12-31T23:59:59-14:00", 400),  # after year 9999 in UTC
    ],
)
def test_the_log_filters_by_time_at_any_offset_or_refuse_it(floor, when, status):
    floor.clock_in(floor.workers[0], 0)
    for name in ("occurred_before", "occurred_after"):
        response = floor.client.get("/api/v1/registrations/", {name: when})
        assert response.status_code == status, response.json()
        if status == 400:
            assert name in response.json()["fields"]


def test_a_registration_without_an_order_reads_null_as_the_schema_says(floor):
    floor.clock_in(floor.workers[0], 0)
    [stored] = floor.client.get("/api/v1/registrations/").json()["results"]
    assert stored["order"] is None
    properties = openapi_schema()["components"]["schemas"]["RegistrationOut"]["properties"]
    assert properties["order"]["nullable"] and properties["badge_id"]["nullable"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_uuid_posted_concurrently_is_stored_once():
    import threading

    from django.db import connection

    floor = make_floor(stock=0)
    worker = floor.workers[0]
    key = str(uuid.uuid4())
    body = {
        "registration_uuid": key,
        "kind": "clock_in",
        "badge_id": worker.badge_id,
        "occurred_at": floor.at(0).isoformat(),
    }
    answers = []
    barrier = threading.Barrier(8)

    def post():
        client = token_client(floor.user)
        barrier.wait()
        try:
            response = client.post("/api/v1/registrations/", body, format="json")
            answers.append((response.status_code, response.json().get("registrations")))
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert RawRegistration.objects.filter(uuid=key).count() == 1
    # One runs; the others find its key in flight (409, retry later) or its stored answer.
    codes = sorted(code for code, _ in answers)
    assert codes.count(202) == 1 and set(codes) <= {200, 202, 409}, codes
    assert len({str(rows) for code, rows in answers if code != 409}) == 1


def test_a_night_shift_belongs_to_the_day_it_started_on(floor):
    from execution.choices import AttendanceStatus
    from execution.models import AttendanceDay

    worker = floor.workers[0]
    floor.clock_in(worker, 16 * 60)  # 22:00
    day = AttendanceDay.objects.create(
        worker=worker, date=floor.at(16 * 60).date(), status=AttendanceStatus.APPROVED
    )
    # 06:00 next morning: another date, but the shift started on the approved day.
    body = _refused(floor, "clock_out", "attendance_day_approved", 409, at=24 * 60, badge_id=worker)
    assert "approved" in body["message"]
    AttendanceDay.objects.filter(pk=day.pk).update(status=AttendanceStatus.CALCULATED)
    floor.post("clock_out", at=24 * 60, badge_id=worker)
