"""The registration processor: journals, order quantities and automatic transitions, event-time
order per lane, idempotency, a poison registration holding its lane, Process again, Cancel,
and two processors at once on PostgreSQL."""

import threading
from decimal import Decimal as D

import pytest
from django.db import connection
from django.db.models import Sum

from execution.choices import JobStatus, LogbookKind, ProcessingOutcome, RegistrationStatus
from execution.models import (
    GenealogyLink,
    JobActivity,
    LogbookEntry,
    MaterialLineState,
    PickingListLine,
    ProcessingLogEntry,
    RawRegistration,
    ReportAsFinishedLine,
    RouteCardLine,
)
from execution.services import order_lifecycle
from execution.services.processing import (
    registration_cancel,
    registration_process_again,
    registration_process_one,
    registrations_process,
)
from inventory.choices import Tracking, TransactionKind
from inventory.models import InventoryTransaction, Lot, OnHand
from mesproject.actors import Actor
from orders.choices import OrderStatus
from tests.execution.floor import make_floor

SUPERVISOR = Actor(process="test-supervisor")


def _run_order(floor, order, worker, *, start=0, good=None, scrap=0, lot=""):
    """One worker takes the order through the three operations and reports it as finished;
    `scrap` units are scrapped at operation 20, so operation 10 makes them on top."""
    good = order.quantity if good is None else D(good)
    for index, operation in enumerate((10, 20, 30)):
        t = start + index * 30
        job = floor.job(order, operation)
        made = good + scrap if operation < 30 else good
        floor.post("start_job", at=t + 1, badge_id=worker, job=job, quantity=str(made))
        fields = {"quantity_good": str(made), "completes_job": True}
        if scrap and operation == 20:
            fields.update(
                quantity_good=str(good),
                quantity_scrap=str(scrap),
                reason_code=floor.scrap_reason.code,
            )
        floor.post("report_progress", at=t + 20, badge_id=worker, job=job, **fields)
    floor.post(
        "report_as_finished",
        at=start + 95,
        order=order,
        quantity_good=str(good),
        terminal=floor.terminals[2].code,
        lot_number=lot,
    )


@pytest.mark.django_db
def test_an_order_run_becomes_journals_quantities_and_transitions():
    floor = make_floor()
    order = floor.order(10, over_delivery_tolerance_pct=D(10))
    worker = floor.workers[0]
    floor.clock_in(worker, 0)
    _run_order(floor, order, worker, scrap=1)
    summary = floor.process()
    assert (summary.processed, summary.failed) == (8, 0)
    order.refresh_from_db()
    # 11 started at op 10, 1 scrapped at op 20, 10 reported as finished: the in-progress
    # quantity never goes below zero, the order is complete.
    assert order.status == OrderStatus.COMPLETED
    assert (order.quantity_completed, order.quantity_scrapped, order.quantity_in_progress) == (
        10,
        1,
        0,
    )
    transitions = list(
        LogbookEntry.objects.filter(order=order, kind=LogbookKind.TRANSITION)
        .order_by("pk")
        .values_list("text", flat=True)
    )
    assert transitions == [
        f"Order {order.number}: released -> in_progress",
        f"Order {order.number}: in_progress -> completed",
    ]
    # Route card: one line per progress report, with the worker's time and quantities.
    cards = list(RouteCardLine.objects.filter(order=order).order_by("operation_number"))
    assert [(c.operation_number, c.minutes, c.quantity_good, c.quantity_scrap) for c in cards] == [
        (10, D("19.00"), 11, 0),
        (20, D("19.00"), 10, 1),
        (30, D("19.00"), 10, 0),
    ]
    assert cards[1].reason_code == floor.scrap_reason
    assert all(c.worker == worker for c in cards)
    assert set(order.jobs.values_list("status", flat=True)) == {JobStatus.COMPLETED}
    assert not JobActivity.objects.filter(ended_at__isnull=True).exists()
    # Picking list: FRAME (start, 1 per) on start of 11; WHEEL (op 20, 2 per) on its feedback
    # of 11;
    # GRIP (production finish, 2 per) on report as finished of 10; BELL (manual) never.
    picked = {
        line.component.part_number.split("-")[1]: (line.quantity, line.event)
        for line in PickingListLine.objects.filter(order=order).select_related("component")
    }
    assert picked == {
        "FRAME": (D(11), "start"),
        "WHEEL": (D(22), "operation_feedback"),
        "GRIP": (D(20), "report_as_finished"),
    }
    # Every picking list line is a ledger row of the order, from its registration.
    issued = InventoryTransaction.objects.filter(order_ref=order.number, kind=TransactionKind.ISSUE)
    assert issued.count() == 3
    assert sorted(-t.quantity for t in issued) == [11, 20, 22]
    receipt = InventoryTransaction.objects.get(
        order_ref=order.number, kind=TransactionKind.FINISHED_RECEIPT
    )
    assert receipt.quantity == 10 and receipt.location == floor.output
    assert ReportAsFinishedLine.objects.get(order=order).inventory_transaction == receipt
    states = {
        s.material.component.part_number.split("-")[1]: (s.covered_output, s.consumed)
        for s in MaterialLineState.objects.select_related("material__component")
    }
    assert states == {"FRAME": (11, 11), "WHEEL": (11, 22), "GRIP": (10, 20)}
    # Each registration has its processing log entry.
    assert ProcessingLogEntry.objects.filter(outcome=ProcessingOutcome.PROCESSED).count() == 8


@pytest.mark.django_db
def test_processing_again_changes_nothing():
    floor = make_floor()
    order = floor.order(4)
    worker = floor.workers[0]
    floor.clock_in(worker, 0)
    _run_order(floor, order, worker)
    floor.process()
    counts = (
        RouteCardLine.objects.count(),
        PickingListLine.objects.count(),
        InventoryTransaction.objects.count(),
        LogbookEntry.objects.count(),
    )
    assert floor.process().processed == 0
    for registration in RawRegistration.objects.all():
        assert registration_process_one(pk=registration.pk) is None
    assert counts == (
        RouteCardLine.objects.count(),
        PickingListLine.objects.count(),
        InventoryTransaction.objects.count(),
        LogbookEntry.objects.count(),
    )
    order.refresh_from_db()
    assert order.quantity_completed == 4


@pytest.mark.django_db
def test_registrations_are_processed_in_event_time_order_per_order():
    floor = make_floor()
    order = floor.order(10)
    worker = floor.workers[0]
    floor.clock_in(worker, 0)
    floor.run_route(order, 7, worker, at=1)
    # Posted in the reverse of the order they happened in.
    floor.post("report_as_finished", at=30, order=order, quantity_good="4", note="second")
    floor.post("report_as_finished", at=10, order=order, quantity_good="3", note="first")
    floor.post("consume_material", at=20, order=order, material_line=40, quantity="2")
    floor.process()
    texts = list(
        LogbookEntry.objects.filter(
            order=order,
            kind__in=["quantity", "consumption"],
            registration__kind__in=["report_as_finished", "consume_material"],
        )
        .order_by("pk")
        .values_list("registration__note", "registration__kind")
    )
    assert texts == [
        ("first", "report_as_finished"),
        ("", "consume_material"),
        ("second", "report_as_finished"),
    ]
    # The production finish line (GRIP, 2 per) followed the cumulative output: 3 then 7.
    grip = PickingListLine.objects.filter(order=order, component=floor.components["GRIP"]).order_by(
        "pk"
    )
    assert [(line.quantity, line.covered_to) for line in grip] == [(6, 3), (8, 7)]


@pytest.mark.django_db
def test_a_poison_registration_holds_its_order_and_nothing_else():
    floor = make_floor(stock=100)
    poisoned, healthy = floor.order(5), floor.order(5)
    one, two = floor.workers[0], floor.workers[1]
    floor.clock_in(one, 0)
    floor.clock_in(two, 0)
    job = floor.job(poisoned, 10)
    floor.post("start_job", at=1, badge_id=one, job=job)
    # 50 bells of the 100 at the input location; the 100 are written off as damaged before
    # the processor gets there: the issue cannot be posted.
    bad = floor.post("consume_material", at=2, order=poisoned, material_line=40, quantity="50")
    floor.post("report_progress", at=3, badge_id=one, job=job, quantity_good="5")
    floor.post("start_job", at=1, badge_id=two, job=floor.job(healthy, 10))
    floor.post("report_progress", at=3, badge_id=two, job=floor.job(healthy, 10), quantity_good="5")
    floor.post("break_start", at=4, badge_id=one)
    floor.write_off("BELL", 100, floor.resources[2].input_location)

    summary = floor.process()
    assert (summary.processed, summary.failed) == (6, 1)
    assert summary.held_lanes == {f"order:{poisoned.pk}"}
    failed = RawRegistration.objects.get(uuid=bad.json()["registration_uuid"])
    assert failed.status == RegistrationStatus.FAILED
    assert failed.error_code == "insufficient_stock"
    assert "BELL" in failed.error
    assert failed.log_entries.get().outcome == ProcessingOutcome.FAILED
    # The same order's later progress waits behind it; the other order and the worker's
    # attendance went on.
    waiting = RawRegistration.objects.get(job=job, kind="report_progress")
    assert waiting.status == RegistrationStatus.NEW
    assert floor.job(healthy, 10).quantity_good == 5
    assert floor.job(poisoned, 10).quantity_good == 0
    # Nothing of the failed one was written: no picking line, no ledger row.
    assert not PickingListLine.objects.filter(registration=failed).exists()
    assert not InventoryTransaction.objects.filter(source_id=str(failed.uuid)).exists()
    # Running again does not retry it nor release its lane.
    assert floor.process().processed == 0
    assert RawRegistration.objects.get(pk=waiting.pk).status == RegistrationStatus.NEW

    # The supervisor fixes the cause (stock arrives), then processes it again.
    floor.stock("BELL", 400, floor.resources[2].input_location)
    registration_process_again(registration=failed, actor=SUPERVISOR)
    summary = floor.process()
    assert (summary.processed, summary.failed) == (2, 0)
    failed.refresh_from_db()
    assert failed.status == RegistrationStatus.PROCESSED and failed.attempts == 2
    assert [e.outcome for e in failed.log_entries.order_by("pk")] == [
        ProcessingOutcome.FAILED,
        ProcessingOutcome.REQUEUED,
        ProcessingOutcome.PROCESSED,
    ]
    assert floor.job(poisoned, 10).quantity_good == 5
    bells = PickingListLine.objects.get(registration=failed)
    assert bells.quantity == 50 and bells.event == "manual"


@pytest.mark.django_db
def test_cancel_gives_up_a_failed_registration_and_releases_its_lane():
    floor = make_floor(stock=10)
    order = floor.order(5)
    bad = floor.post("consume_material", at=1, order=order, material_line=40, quantity="5")
    worker = floor.workers[0]
    floor.clock_in(worker, 0)
    floor.run_route(order, 1, worker, at=2)
    floor.post("report_as_finished", at=20, order=order, quantity_good="1")
    floor.write_off("BELL", 10, floor.resources[2].input_location)  # damaged meanwhile
    floor.process()
    failed = RawRegistration.objects.get(uuid=bad.json()["registration_uuid"])
    assert failed.status == RegistrationStatus.FAILED
    with pytest.raises(Exception) as refused:
        registration_process_again(
            registration=RawRegistration.objects.get(kind="report_as_finished"), actor=SUPERVISOR
        )
    assert refused.value.code == "registration_not_failed"
    registration_cancel(registration=failed, actor=SUPERVISOR, reason="typed 5 for 0")
    assert floor.process().processed == 7  # the route's 6 and the report as finished
    failed.refresh_from_db()
    assert failed.status == RegistrationStatus.CANCELED
    assert failed.log_entries.order_by("-pk").first().message == "typed 5 for 0"
    with pytest.raises(Exception) as refused:
        registration_cancel(registration=failed, actor=SUPERVISOR)
    assert refused.value.code == "registration_not_cancelable"
    order.refresh_from_db()
    assert order.quantity_completed == 1


@pytest.mark.django_db
def test_an_order_canceled_after_acceptance_fails_its_registration_cleanly():

    floor = make_floor()
    order = floor.order(5)
    worker = floor.workers[0]
    floor.clock_in(worker, 0)
    floor.post("start_job", at=1, badge_id=worker, job=floor.job(order, 10))
    order_lifecycle.order_cancel(order=order)
    floor.process()
    registration = RawRegistration.objects.get(order=order)
    assert registration.status == RegistrationStatus.FAILED
    assert registration.error_code == "order_not_running"
    assert (
        not InventoryTransaction.objects.filter(order_ref=order.number)
        .exclude(kind__in=["reserve", "unreserve"])
        .exists()
    )


@pytest.mark.django_db
def test_a_consumption_accepted_before_the_cancel_does_not_post_to_the_canceled_order():
    floor = make_floor()
    order = floor.order(5)
    floor.post("consume_material", at=1, order=order, material_line=40, quantity="2")
    order_lifecycle.order_cancel(order=order)
    floor.process()
    registration = RawRegistration.objects.get(order=order)
    assert registration.status == RegistrationStatus.FAILED
    assert registration.error_code == "order_not_running"
    assert not PickingListLine.objects.filter(order=order).exists()
    assert (
        not InventoryTransaction.objects.filter(order_ref=order.number)
        .exclude(kind__in=["reserve", "unreserve"])
        .exists()
    )


@pytest.mark.django_db
def test_report_as_finished_of_lots_records_the_genealogy():
    floor = make_floor(stock=0, product_tracking=Tracking.LOT)
    for part in ("FRAME",):
        item = floor.components[part]
        item.tracking = Tracking.LOT
        item.save()
    floor.stock("FRAME", 6, floor.resources[0].input_location, lot="FR-OLD")
    floor.stock("FRAME", 20, floor.resources[0].input_location, lot="FR-NEW")
    for part in ("WHEEL", "GRIP", "BELL"):
        for resource in floor.resources:
            floor.stock(part, 100, resource.input_location)
    order = floor.order(10)
    worker = floor.workers[0]
    floor.clock_in(worker, 0)
    _run_order(floor, order, worker, lot="BIKE-LOT-1")
    summary = floor.process()
    assert summary.failed == 0, RawRegistration.objects.filter(status="failed").values("error")
    # First in, first out: the 6 of the older lot, then 4 of the newer.
    frames = PickingListLine.objects.filter(component=floor.components["FRAME"]).order_by("pk")
    assert [(line.lot.number, line.quantity) for line in frames] == [("FR-OLD", 6), ("FR-NEW", 4)]
    finished = Lot.objects.get(number="BIKE-LOT-1")
    assert OnHand.objects.get(lot=finished).quantity == 10
    links = {
        (link.component_lot.number, link.quantity)
        for link in GenealogyLink.objects.filter(finished_lot=finished)
    }
    assert links == {("FR-OLD", 6), ("FR-NEW", 4)}


@pytest.mark.django_db
def test_manual_consumption_and_return():
    floor = make_floor(stock=50)
    order = floor.order(5)
    floor.post("consume_material", at=1, order=order, material_line=40, quantity="5")
    floor.post("consume_material", at=2, order=order, material_line=40, quantity="-2")
    too_much = floor.post(
        "consume_material", at=3, order=order, material_line=40, quantity="-9", expect=409
    )
    assert too_much.json()["code"] == "return_exceeds_consumed"
    floor.process()
    bell = floor.components["BELL"]
    lines = PickingListLine.objects.filter(component=bell).order_by("pk")
    assert [(line.quantity, line.event) for line in lines] == [(5, "manual"), (-2, "manual")]
    assert OnHand.objects.get(item=bell, location=floor.resources[2].input_location).quantity == 47
    state = MaterialLineState.objects.get(material__component=bell)
    assert (state.consumed, state.manual_consumed) == (0, 3)
    assert RawRegistration.objects.filter(order=order).count() == 2


@pytest.mark.django_db
def test_a_bundle_splits_the_time_over_the_jobs_that_run():
    floor = make_floor()
    one, two = floor.order(2), floor.order(2)
    worker = floor.workers[0]
    floor.clock_in(worker, 0)
    jobs = [floor.job(one, 10), floor.job(two, 10)]
    floor.post("bundle", at=0, badge_id=worker, jobs=jobs)
    # 0-30: both run (15 min each); 30-40: only the second (10 more).
    floor.post("stop_job", at=30, badge_id=worker, job=jobs[0])
    floor.post(
        "report_progress",
        at=40,
        badge_id=worker,
        job=jobs[1],
        quantity_good="2",
        completes_job=True,
    )
    floor.process()
    minutes = dict(RouteCardLine.objects.values_list("job_id", "minutes"))
    assert minutes == {jobs[0].pk: D("15.00"), jobs[1].pk: D("25.00")}
    assert {c.bundle_size for c in RouteCardLine.objects.all()} == {2}


@pytest.mark.django_db
def test_work_reported_again_resumes_a_completed_order():
    floor = make_floor()
    order = floor.order(2, over_delivery_tolerance_pct=D(50))
    worker = floor.workers[0]
    floor.clock_in(worker, 0)
    job = floor.job(order, 10)
    floor.run_route(order, 2, worker, at=1)
    floor.post("report_as_finished", at=8, order=order, quantity_good="2")
    floor.process()
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED and order.quantity_in_progress == 0
    # One more started beyond what was finished (within the tolerance): work on the floor again.
    floor.post("start_job", at=9, badge_id=worker, job=job, quantity="1")
    floor.process()
    order.refresh_from_db()
    assert order.status == OrderStatus.IN_PROGRESS and order.quantity_in_progress == 1


@pytest.mark.django_db
def test_in_progress_does_not_depend_on_the_order_reports_arrive_in():
    """A start processed after the report as finished it preceded (a second worker joined the
    job at a terminal that was offline) leaves nothing in progress once it arrives."""
    floor = make_floor()
    order = floor.order(2)
    worker, late = floor.workers[0], floor.workers[1]
    floor.clock_in(worker, 0)
    floor.clock_in(late, 0)
    floor.run_route(order, 2, worker, at=1)
    floor.post("report_as_finished", at=30, order=order, quantity_good="2")
    floor.process()
    floor.post("start_job", at=1.5, badge_id=late, job=floor.job(order, 10))
    floor.process()
    order.refresh_from_db()
    assert (order.quantity_in_progress, order.status) == (0, OrderStatus.COMPLETED)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_processors_at_once_process_everything_exactly_once():
    floor = make_floor(stock=100000, workers=8)
    orders = [floor.order(6) for _ in range(8)]
    for index, (order, worker) in enumerate(zip(orders, floor.workers, strict=True)):
        floor.clock_in(worker, 0)
        for step in range(3):
            floor.run_route(order, 2, worker, at=1 + step * 10)
            floor.post("report_as_finished", at=8 + step * 10, order=order, quantity_good="2")
        floor.post("break_start", at=40 + index, badge_id=worker)
    total = RawRegistration.objects.count()
    results = []

    def run():
        try:
            results.append(registrations_process(batch=7))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Whatever one processor skipped because the other held the lane is picked up now.
    results.append(registrations_process())
    assert sum(r.processed for r in results) == total
    assert sum(r.failed for r in results) == 0
    assert RawRegistration.objects.filter(status=RegistrationStatus.PROCESSED).count() == total
    assert ProcessingLogEntry.objects.filter(outcome=ProcessingOutcome.PROCESSED).count() == total
    for order in orders:
        order.refresh_from_db()
        assert order.status == OrderStatus.COMPLETED
        assert order.quantity_completed == 6
        frame = PickingListLine.objects.filter(order=order, component=floor.components["FRAME"])
        assert frame.aggregate(total=Sum("quantity"))["total"] == 6
        grip = PickingListLine.objects.filter(order=order, component=floor.components["GRIP"])
        assert grip.aggregate(total=Sum("quantity"))["total"] == 12


@pytest.mark.django_db
def test_material_put_at_the_input_location_is_consumed_by_the_running_order():
    floor = make_floor(
        stock=0,
        lines=[("CHAIN", "available_at_location", 20, "1"), ("BELL", "manual", 30, "1")],
    )
    waiting, running = floor.order(3), floor.order(4)
    worker = floor.workers[0]
    floor.clock_in(worker, 0)
    floor.post("start_job", at=1, badge_id=worker, job=floor.job(running, 20))
    floor.process()
    chain = floor.components["CHAIN"]
    station = floor.resources[1].input_location
    # 10 chains put at operation 20's input: the running order takes its 4, the next order
    # in the resource's plan its 3, the rest stays there.
    floor.stock("CHAIN", 10, floor.store)
    from execution.services import resource_put_material
    from inventory.choices import SourceType
    from inventory.services import Source

    resource_put_material(
        resource=floor.resources[1],
        item=chain,
        quantity=D(10),
        from_location=floor.store,
        source=Source(SourceType.MANUAL, "put-away-1"),
    )
    taken = dict(
        PickingListLine.objects.filter(component=chain).values_list("order__number", "quantity")
    )
    assert taken == {running.number: 4, waiting.number: 3}
    assert {line.event for line in PickingListLine.objects.filter(component=chain)} == {
        "put_at_input_location"
    }
    assert OnHand.objects.get(item=chain, location=station).quantity == 3
    # A second put-away finds nothing left to take.
    floor.stock("CHAIN", 5, station)
    assert OnHand.objects.get(item=chain, location=station).quantity == 8
    assert PickingListLine.objects.filter(component=chain).count() == 2
