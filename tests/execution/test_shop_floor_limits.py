"""What a registration may say: quantities bounded by the flow of material, judged at the
registration's own time and against what the worker did after it (docs/execution.md, "Limits
at the door"). Every refusal is a coded 4xx that stores nothing."""

import uuid
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from execution.models import RawRegistration
from execution.services.registrations import RegistrationInput, registration_accept
from orders.choices import OrderStatus
from tests.execution.floor import make_floor

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def floor():
    return make_floor()


def _refused(floor, kind, code, status=409, **fields):
    before = RawRegistration.objects.count()
    response = floor.post(kind, expect=None, **fields)
    assert response.status_code == status, response.json()
    assert response.json()["code"] == code, response.json()
    assert RawRegistration.objects.count() == before
    return response.json()


# --- Quantities -------------------------------------------------------------------------------


def test_progress_cannot_exceed_what_is_in_progress_on_the_job(floor):
    order = floor.order(40)
    worker = floor.workers[0]
    job = floor.job(order, 10)
    floor.clock_in(worker, 0)
    floor.post("start_job", at=1, badge_id=worker, job=job, quantity="10")
    body = _refused(
        floor,
        "report_progress",
        "quantity_exceeds_in_progress",
        at=2,
        badge_id=worker,
        job=job,
        quantity_good="1000000000",
    )
    assert body["fields"]["reportable"] == "10.000000"
    floor.post("report_progress", at=3, badge_id=worker, job=job, quantity_good="6")
    # Pending (not yet processed) reports count: 4 are left, good and scrap together.
    _refused(
        floor,
        "report_scrap",
        "quantity_exceeds_in_progress",
        at=4,
        badge_id=worker,
        job=job,
        quantity_scrap="5",
        reason_code=floor.scrap_reason,
    )
    floor.post(
        "report_scrap",
        at=4,
        badge_id=worker,
        job=job,
        quantity_scrap="4",
        reason_code=floor.scrap_reason,
    )
    floor.process()
    job.refresh_from_db()
    assert (job.quantity_started, job.quantity_good, job.quantity_scrapped) == (10, 6, 4)


def test_a_start_takes_only_what_the_operation_before_output(floor):
    order = floor.order(12)
    worker, other = floor.workers[0], floor.workers[1]
    floor.clock_in(worker, 0)
    floor.clock_in(other, 0)
    first, second = floor.job(order, 10), floor.job(order, 20)
    floor.post("start_job", at=1, badge_id=worker, job=first)  # default: the rest, 12
    floor.post("report_progress", at=2, badge_id=worker, job=first, quantity_good="5")
    _refused(
        floor,
        "start_job",
        "start_exceeds_available",
        at=3,
        badge_id=other,
        job=second,
        quantity="6",
    )
    response = floor.post("start_job", at=3, badge_id=other, job=second)
    assert response.json()["registrations"][0]["quantity"] == "5.000000"


def test_the_first_operation_starts_at_most_the_order_quantity_plus_tolerance(floor):
    order = floor.order(40, over_delivery_tolerance_pct=D("5"))
    worker, other = floor.workers[0], floor.workers[1]
    job = floor.job(order, 10)
    floor.clock_in(worker, 0)
    floor.clock_in(other, 0)
    _refused(
        floor, "start_job", "start_exceeds_available", at=1, badge_id=worker, job=job, quantity="43"
    )
    floor.post("start_job", at=1, badge_id=worker, job=job, quantity="42")
    # A second worker joining the job starts nothing more by default.
    response = floor.post("start_job", at=2, badge_id=other, job=job)
    assert response.json()["registrations"][0]["quantity"] == "0.000000"


def test_report_as_finished_only_from_the_last_operations_output(floor):
    order = floor.order(40, over_delivery_tolerance_pct=D("5"))
    worker = floor.workers[0]
    floor.clock_in(worker, 0)
    first = floor.job(order, 10)
    floor.post("start_job", at=1, badge_id=worker, job=first, quantity="40")
    floor.post("report_progress", at=2, badge_id=worker, job=first, quantity_good="40")
    # Operation 10's output is not finished goods: 20 and 30 never started.
    _refused(
        floor, "report_as_finished", "finish_exceeds_output", at=3, order=order, quantity_good="40"
    )
    floor.post("stop_job", at=3, badge_id=worker, job=first)
    for operation, minute in ((20, 4), (30, 6)):
        job = floor.job(order, operation)
        floor.post("start_job", at=minute, badge_id=worker, job=job)
        floor.post(
            "report_progress",
            at=minute + 1,
            badge_id=worker,
            job=job,
            quantity_good="40",
            stops_job=True,
        )
    _refused(
        floor,
        "report_as_finished",
        "finish_exceeds_output",
        at=10,
        order=order,
        quantity_good="1000",
    )
    floor.post("report_as_finished", at=10, order=order, quantity_good="38")
    _refused(
        floor, "report_as_finished", "finish_exceeds_output", at=11, order=order, quantity_good="3"
    )
    floor.post("report_as_finished", at=11, order=order, quantity_good="2")
    summary = floor.process()
    assert summary.failed == 0
    order.refresh_from_db()
    assert order.quantity_completed == 40 and order.status == OrderStatus.COMPLETED


def test_report_as_finished_never_beyond_the_order_quantity_plus_tolerance(floor):
    order = floor.order(10, over_delivery_tolerance_pct=D("10"))
    worker = floor.workers[0]
    floor.clock_in(worker, 0)
    floor.run_route(order, 11, worker, at=1)
    floor.post("report_as_finished", at=20, order=order, quantity_good="10")
    order.quantity = D(5)  # a planner lowered it meanwhile (as the ERP may, before work)
    order.save(update_fields=["quantity"])
    body = _refused(
        floor, "report_as_finished", "finish_exceeds_order", at=21, order=order, quantity_good="1"
    )
    assert body["fields"]["finishable_good"] == "0"
    # Scrap at report as finished is not over-delivery.
    floor.post(
        "report_as_finished", at=21, order=order, quantity_scrap="1", reason_code=floor.scrap_reason
    )


def test_a_return_cannot_exceed_what_was_consumed_on_the_line(floor):
    order = floor.order(5)
    bell = order.materials.get(component=floor.components["BELL"])
    floor.post("consume_material", at=1, order=order, material_line=bell.line_number, quantity="3")
    floor.process()
    _refused(
        floor,
        "consume_material",
        "return_exceeds_consumed",
        at=2,
        order=order,
        material_line=bell.line_number,
        quantity="-1000",
    )
    floor.post("consume_material", at=2, order=order, material_line=bell.line_number, quantity="-2")
    # The pending return counts: 1 is left to return.
    _refused(
        floor,
        "consume_material",
        "return_exceeds_consumed",
        at=3,
        order=order,
        material_line=bell.line_number,
        quantity="-2",
    )
    assert floor.process().failed == 0


def test_a_start_whose_start_material_is_not_on_hand_is_refused_naming_it():
    floor = make_floor(stock=5)  # FRAME is flushed at start of operation 10, 1 per bike
    order = floor.order(8)
    worker = floor.workers[0]
    floor.clock_in(worker, 0)
    job = floor.job(order, 10)
    body = _refused(floor, "start_job", "material_short", at=1, badge_id=worker, job=job)
    assert "FRAME needs 8" in body["message"] and "5 on hand" in body["message"]
    floor.post("start_job", at=1, badge_id=worker, job=job, quantity="5")
    assert floor.process().failed == 0


def test_a_start_on_a_location_that_allows_negative_stock_is_accepted():
    floor = make_floor(stock=0)
    location = floor.resources[0].input_location
    location.allow_negative_stock = True
    location.save()
    order = floor.order(3)
    worker = floor.workers[0]
    floor.clock_in(worker, 0)
    floor.post("start_job", at=1, badge_id=worker, job=floor.job(order, 10))
    assert floor.process().failed == 0


def test_a_manual_consumption_beyond_stock_is_refused():
    floor = make_floor(stock=2)
    order = floor.order(5)
    bell = order.materials.get(component=floor.components["BELL"])
    _refused(
        floor,
        "consume_material",
        "material_short",
        at=1,
        order=order,
        material_line=bell.line_number,
        quantity="3",
    )


def test_setup_jobs_report_no_quantity():
    floor = make_floor(setup_minutes=10)
    order = floor.order(5)
    worker = floor.workers[0]
    floor.clock_in(worker, 0)
    setup = order.jobs.get(operation_number=10, kind="setup")
    floor.post("start_job", at=1, badge_id=worker, job=setup)
    _refused(
        floor,
        "report_scrap",
        "setup_job_no_output",
        400,
        at=2,
        badge_id=worker,
        job=setup,
        quantity_scrap="1",
        reason_code=floor.scrap_reason,
    )


# --- Time -------------------------------------------------------------------------------------


def test_quantities_are_judged_at_the_registrations_time(floor):
    order = floor.order(20)
    worker, other = floor.workers[0], floor.workers[1]
    job = floor.job(order, 10)
    floor.clock_in(worker, 0)
    floor.clock_in(other, 0)
    floor.post("start_job", at=60, badge_id=worker, job=job, quantity="10")
    floor.post(
        "report_progress", at=90, badge_id=worker, job=job, quantity_good="10", stops_job=True
    )
    floor.post("start_job", at=120, badge_id=other, job=job, quantity="10")
    # At 08:15 (minute 75) 10 were in progress, all of them reported at 08:30: none left then,
    # though 10 more were started later.
    _refused(
        floor,
        "report_progress",
        "quantity_exceeds_in_progress",
        at=75,
        badge_id=worker,
        job=job,
        quantity_good="1",
    )


def test_a_backdated_start_cannot_contradict_a_later_one(floor):
    first, second = floor.order(2), floor.order(2)
    worker = floor.workers[0]
    floor.clock_in(worker, 0)
    later = floor.post("start_job", at=30, badge_id=worker, job=floor.job(first, 10))
    # Refused now: busy on the first order's job.
    _refused(floor, "start_job", "worker_busy", at=31, badge_id=worker, job=floor.job(second, 10))
    # Dated 15 minutes earlier, it would leave two jobs open without a bundle.
    body = _refused(
        floor,
        "start_job",
        "occurred_out_of_order",
        at=15,
        badge_id=worker,
        job=floor.job(second, 10),
    )
    assert body["fields"]["registration"] == later.json()["registration_uuid"]
    assert body["fields"]["contradiction"] == "worker_busy"


def test_a_clock_in_before_an_existing_one_is_refused(floor):
    worker = floor.workers[0]
    floor.clock_in(worker, 373)  # 12:13
    body = _refused(floor, "clock_in", "occurred_out_of_order", at=300, badge_id=worker)
    assert body["fields"]["contradiction"] == "worker_already_clocked_in"


def test_a_backdated_clock_out_cannot_cut_off_later_work(floor):
    order = floor.order(2)
    worker = floor.workers[0]
    floor.clock_in(worker, 0)
    floor.post("start_job", at=30, badge_id=worker, job=floor.job(order, 10))
    floor.post(
        "report_progress", at=60, badge_id=worker, job=floor.job(order, 10), quantity_good="1"
    )
    _refused(floor, "clock_out", "occurred_out_of_order", at=45, badge_id=worker)
    floor.post("clock_out", at=61, badge_id=worker)


def test_a_time_without_a_zone_is_refused(floor):
    worker = floor.workers[0]
    response = floor.client.post(
        "/api/v1/registrations/",
        {
            "registration_uuid": "5d9a7c1e-0000-4000-8000-000000000001",
            "kind": "clock_in",
            "occurred_at": "2026-03-02T06:00:00",
            "badge_id": worker.badge_id,
        },
        format="json",
    )
    assert response.status_code == 400 and response.json()["code"] == "occurred_at_invalid"
    assert not RawRegistration.objects.exists()


def test_the_backdating_window_and_the_clock_skew(floor, settings):
    settings.MES_REGISTRATION_BACKDATING_HOURS = 24
    worker = floor.workers[0]
    now = timezone.now()
    _refused(
        floor, "clock_in", "occurred_at_too_old", 400, at=now - timedelta(hours=25), badge_id=worker
    )
    _refused(
        floor, "clock_in", "occurred_at_future", 400, at=now + timedelta(minutes=3), badge_id=worker
    )
    floor.post("clock_in", at=now - timedelta(hours=23), badge_id=worker)
    floor.post("clock_out", at=now + timedelta(seconds=90), badge_id=worker)


def test_a_scale_unit_forwards_registrations_older_than_the_window(floor, settings):
    """The scale unit judged them when they were made; a long outage must not lose them."""
    settings.MES_REGISTRATION_BACKDATING_HOURS = 24
    worker = floor.workers[0]
    old = datetime(2026, 3, 2, 6, 0, tzinfo=timezone.get_fixed_timezone(60))
    accepted = registration_accept(
        data=RegistrationInput(uuid=uuid.uuid4(), kind="clock_in", occurred_at=old, worker=worker),
        source="scale-unit:PLANT2",
    )
    assert not accepted.replayed


def test_a_scale_units_start_is_not_refused_for_stock_at_the_hub():
    """The scale unit's floor started it (it holds no stock to check): refusing it at the hub
    would leave the two apart. Processing fails it if the stock really is missing, and a
    supervisor sees it in the processing log."""
    floor = make_floor(stock=0)
    order = floor.order(3)
    worker = floor.workers[0]
    for kind, job in (("clock_in", None), ("start_job", floor.job(order, 10))):
        registration_accept(
            data=RegistrationInput(
                uuid=uuid.uuid4(), kind=kind, occurred_at=floor.at(1), worker=worker, job=job
            ),
            source="scale-unit:PLANT2",
        )
    floor.process()
    start = RawRegistration.objects.get(kind="start_job")
    assert (start.status, start.error_code) == ("failed", "insufficient_stock")
