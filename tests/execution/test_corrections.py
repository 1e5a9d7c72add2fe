"""Corrections: a supervisor reverses a processed progress, scrap, report as finished or manual
consumption. Each one goes through the real endpoint and processor, is corrected through
registration_correct, processed again, and must leave journals netting to zero, the ledger
equal to on-hand with the lots and locations restored, the job's and order's quantities and
status back, and the ERP's reversal after the original on the work order's stream. Every
refusal code, the pages (order page, processing log, admin) and a PostgreSQL race."""

import threading
import uuid
from decimal import Decimal as D

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.db.models import Sum
from django.urls import reverse

from execution.choices import JobStatus, ProcessingOutcome, RegistrationKind, RegistrationStatus
from execution.models import (
    MaterialLineState,
    PickingListLine,
    ProcessingLogEntry,
    RawRegistration,
    ReportAsFinishedLine,
    RouteCardLine,
)
from execution.services.corrections import registration_correct
from execution.services.order_lifecycle import order_transition
from integration.choices import MessageKind
from integration.models import DefectReasonMapping, OutboxMessage
from inventory import services as inventory_services
from inventory.choices import SourceType, TransactionKind
from inventory.models import InventoryTransaction, OnHand
from inventory.services import Source
from mesproject.actors import Actor
from mesproject.errors import ApplicationError, NotAllowed
from mesproject.roles import PLANNER, SUPERVISOR
from mesproject.workplace.roles import roles_ensure
from orders.choices import OrderStatus, Transition
from tests.execution.floor import make_floor
from tests.pages import assert_constant_queries

K = RegistrationKind
BOSS = Actor(process="test-supervisor")


def _post(floor, kind, *, at, **fields) -> RawRegistration:
    key = uuid.uuid4()
    floor.post(kind, at=at, registration_uuid=key, **fields)
    return RawRegistration.objects.get(uuid=key)


def _processed(floor) -> None:
    summary = floor.process()
    assert summary.failed == 0, list(RawRegistration.objects.filter(status="failed").values())


def _correct(registration, reason="wrong count") -> RawRegistration:
    return registration_correct(registration=registration, actor=BOSS, reason=reason)


def _on_hand(item, location) -> D:
    return OnHand.objects.filter(item=item, location=location).aggregate(t=Sum("quantity"))[
        "t"
    ] or D(0)


def _ledger_matches_on_hand():
    report = inventory_services.inventory_verify()
    assert report.ok, (report.differences, report.problems)


def _stream(order) -> list[tuple[str, dict]]:
    return [
        (m.kind, m.payload)
        for m in OutboxMessage.objects.filter(stream=order.number).order_by("sequence")
    ]


def _map_scrap(floor):
    DefectReasonMapping.objects.create(
        defect=floor.scrap_reason, erp_reason_code="ERP-SCR", cost_center="CC1"
    )


def _through(floor, order, worker, operations, *, start=0, good=None):
    """The worker starts each operation and reports it good and complete."""
    good = order.quantity if good is None else D(good)
    for index, operation in enumerate(operations):
        t = start + index * 30
        job = floor.job(order, operation)
        floor.post("start_job", at=t + 1, badge_id=worker, job=job)
        floor.post(
            "report_progress",
            at=t + 20,
            badge_id=worker,
            job=job,
            quantity_good=str(good),
            completes_job=True,
        )


# --- Progress and scrap ----------------------------------------------------------------------


@pytest.mark.django_db
def test_a_progress_report_with_scrap_is_reversed_and_its_output_consumes_again():
    floor = make_floor()
    _map_scrap(floor)
    order = floor.order(10)
    worker = floor.workers[0]
    wheel = floor.components["WHEEL"]
    wheel_at = floor.resources[1].input_location
    floor.clock_in(worker, 0)
    _through(floor, order, worker, [10])
    job = floor.job(order, 20)
    floor.post("start_job", at=40, badge_id=worker, job=job)
    report = _post(
        floor,
        "report_progress",
        at=50,
        badge_id=worker,
        job=job,
        quantity_good="6",
        quantity_scrap="1",
        reason_code=floor.scrap_reason.code,
        completes_job=True,
    )
    _processed(floor)
    job.refresh_from_db()
    order.refresh_from_db()
    assert (job.quantity_good, job.quantity_scrapped, job.status) == (6, 1, JobStatus.COMPLETED)
    assert order.quantity_scrapped == 1
    wheel_before = _on_hand(wheel, wheel_at)
    state_before = MaterialLineState.objects.get(material__component=wheel)
    assert (state_before.covered_output, state_before.consumed) == (7, 14)

    correction = _correct(report, reason="counted twice")
    assert correction.kind == K.CORRECTION and correction.lane == report.lane
    assert correction.status == RegistrationStatus.NEW
    _processed(floor)
    correction.refresh_from_db()
    assert correction.status == RegistrationStatus.PROCESSED

    # Job and order quantities back; the job it had completed is open again.
    job.refresh_from_db()
    order.refresh_from_db()
    assert (job.quantity_good, job.quantity_scrapped) == (0, 0)
    assert job.status == JobStatus.STOPPED and job.completed_at is None
    assert order.quantity_scrapped == 0
    # The route card nets to zero, the correction's line referencing the correction.
    cards = RouteCardLine.objects.filter(job=job)
    assert cards.aggregate(g=Sum("quantity_good"), s=Sum("quantity_scrap")) == {"g": 0, "s": 0}
    line = cards.get(registration=correction)
    assert (line.quantity_good, line.quantity_scrap) == (-6, -1)
    # The wheels are back at the same input location; the picking list nets to zero.
    assert _on_hand(wheel, wheel_at) == wheel_before + 14
    picked = PickingListLine.objects.filter(order=order, component=wheel)
    assert picked.aggregate(t=Sum("quantity"))["t"] == 0
    returned = picked.get(registration=correction)
    assert returned.location == wheel_at
    assert returned.inventory_transaction.kind == TransactionKind.RETURN
    state = MaterialLineState.objects.get(material__component=wheel)
    assert (state.covered_output, state.consumed) == (0, 0)
    _ledger_matches_on_hand()

    # The ERP: the scrap, then its reversal naming it, on the work order's stream.
    messages = _stream(order)
    kinds = [kind for kind, _ in messages]
    assert kinds.index(MessageKind.SCRAP) < kinds.index(MessageKind.SCRAP_REVERSAL)
    scrap = OutboxMessage.objects.get(stream=order.number, kind=MessageKind.SCRAP)
    reversal = OutboxMessage.objects.get(stream=order.number, kind=MessageKind.SCRAP_REVERSAL)
    assert reversal.payload["qty_scrapped"] == "-1"
    assert reversal.payload["reverses_transaction_uuid"] == str(scrap.transaction_uuid)
    assert reversal.payload["reason_code"] == "ERP-SCR"
    assert reversal.payload["reason"] == "counted twice"
    assert reversal.sequence > scrap.sequence
    # Consumption nets out: what the ERP is told of wheels sums to zero.
    issued = sum(
        D(p["qty_consumed"])
        for k, p in messages
        if k == MessageKind.MATERIAL_ISSUE and p["component_part"] == wheel.part_number
    )
    assert issued == 0


@pytest.mark.django_db
def test_after_a_correction_the_output_is_reported_again_and_consumes_again():
    floor = make_floor()
    order = floor.order(10)
    worker = floor.workers[0]
    wheel = floor.components["WHEEL"]
    wheel_at = floor.resources[1].input_location
    floor.clock_in(worker, 0)
    _through(floor, order, worker, [10])
    job = floor.job(order, 20)
    floor.post("start_job", at=40, badge_id=worker, job=job)
    report = _post(floor, "report_progress", at=50, badge_id=worker, job=job, quantity_good="7")
    _processed(floor)
    wheel_before = _on_hand(wheel, wheel_at)
    _correct(report)
    _processed(floor)
    # The corrected report no longer counts at the door: 7 may be reported again, and the
    # output consumes the wheels again (the flushing state moved back).
    floor.post("report_progress", at=80, badge_id=worker, job=job, quantity_good="7")
    _processed(floor)
    state = MaterialLineState.objects.get(material__component=wheel)
    assert (state.covered_output, state.consumed) == (7, 14)
    assert _on_hand(wheel, wheel_at) == wheel_before


@pytest.mark.django_db
def test_a_scrap_report_is_reversed():
    floor = make_floor(lines=[("BELL", "manual", 30, "1")], stock=0)
    order = floor.order(5)
    worker = floor.workers[0]
    floor.clock_in(worker, 0)
    job = floor.job(order, 10)
    floor.post("start_job", at=1, badge_id=worker, job=job)
    scrap = _post(
        floor,
        "report_scrap",
        at=5,
        badge_id=worker,
        job=job,
        quantity_scrap="2",
        reason_code=floor.scrap_reason.code,
    )
    _processed(floor)
    order.refresh_from_db()
    assert (order.quantity_scrapped, order.quantity_in_progress) == (2, 3)
    correction = _correct(scrap)
    _processed(floor)
    order.refresh_from_db()
    job.refresh_from_db()
    assert (order.quantity_scrapped, order.quantity_in_progress) == (0, 5)
    assert job.quantity_scrapped == 0
    assert RouteCardLine.objects.get(registration=correction).quantity_scrap == -2
    # The scrap message went to the DLQ (no mapping); its reversal follows it in order.
    kinds = [kind for kind, _ in _stream(order)]
    assert kinds == [MessageKind.SCRAP, MessageKind.SCRAP_REVERSAL]


# --- Report as finished ----------------------------------------------------------------------


def _finished_order(floor, quantity=10, lot=""):
    order = floor.order(quantity)
    worker = floor.workers[0]
    floor.clock_in(worker, 0)
    _through(floor, order, worker, [10, 20, 30])
    finished = _post(
        floor,
        "report_as_finished",
        at=95,
        order=order,
        quantity_good=str(quantity),
        terminal=floor.terminals[2].code,
        lot_number=lot,
    )
    _processed(floor)
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    return order, finished


@pytest.mark.django_db
def test_a_report_as_finished_is_reversed_and_the_order_goes_back_in_progress():
    floor = make_floor()
    order, finished = _finished_order(floor, 10)
    grip = floor.components["GRIP"]
    grip_at = floor.resources[2].input_location
    grip_before = _on_hand(grip, grip_at)
    assert _on_hand(floor.product, floor.output) == 10

    correction = _correct(finished, reason="reported on the wrong order")
    _processed(floor)

    order.refresh_from_db()
    assert order.status == OrderStatus.IN_PROGRESS
    assert (order.quantity_completed, order.quantity_in_progress) == (0, 10)
    # Finished goods taken back at their location; the grips returned where they came from.
    assert _on_hand(floor.product, floor.output) == 0
    taken = InventoryTransaction.objects.get(
        source_id=str(correction.uuid), kind=TransactionKind.FINISHED_REVERSAL
    )
    assert (taken.quantity, taken.location, taken.order_ref) == (-10, floor.output, order.number)
    assert _on_hand(grip, grip_at) == grip_before + 20
    lines = ReportAsFinishedLine.objects.filter(order=order)
    assert lines.aggregate(g=Sum("quantity_good"))["g"] == 0
    assert lines.get(registration=correction).inventory_transaction == taken
    assert (
        PickingListLine.objects.filter(order=order, component=grip).aggregate(t=Sum("quantity"))[
            "t"
        ]
        == 0
    )
    _ledger_matches_on_hand()
    # The as-built record no longer lists the finished quantity.
    assert inventory_services_as_built(order) == []

    # The ERP: consumption, completion, then the consumption given back and the reversal.
    kinds = [kind for kind, _ in _stream(order)]
    completion = kinds.index(MessageKind.PRODUCTION_COMPLETION)
    reversal_at = kinds.index(MessageKind.COMPLETION_REVERSAL)
    assert completion < reversal_at == len(kinds) - 1
    original = OutboxMessage.objects.get(
        stream=order.number, kind=MessageKind.PRODUCTION_COMPLETION
    )
    reversal = OutboxMessage.objects.get(stream=order.number, kind=MessageKind.COMPLETION_REVERSAL)
    assert reversal.payload == {
        "wo_id": order.number,
        "parent_part": floor.product.part_number,
        "serial_number": "",
        "qty_good": "-10",
        "uom": "pcs",
        "location_id": f"MAIN/{floor.output.code}",
        "reverses_transaction_uuid": str(original.transaction_uuid),
        "reason": "reported on the wrong order",
    }
    grips = [
        D(p["qty_consumed"])
        for k, p in _stream(order)
        if k == MessageKind.MATERIAL_ISSUE and p["component_part"] == grip.part_number
    ]
    assert sum(grips) == 0 and grips[-1] == -20


@pytest.mark.django_db
def test_after_a_correction_the_order_is_reported_as_finished_again():
    floor = make_floor()
    order, finished = _finished_order(floor, 10)
    grip = floor.components["GRIP"]
    grip_at = floor.resources[2].input_location
    grip_before = _on_hand(grip, grip_at)
    _correct(finished)
    _processed(floor)
    _post(
        floor,
        "report_as_finished",
        at=120,
        order=order,
        quantity_good="10",
        terminal=floor.terminals[2].code,
    )
    _processed(floor)
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    assert _on_hand(grip, grip_at) == grip_before
    assert _on_hand(floor.product, floor.output) == 10


def inventory_services_as_built(order):
    from inventory.selectors import order_as_built

    return order_as_built(order_ref=order.number).outputs


@pytest.mark.django_db
def test_a_lot_reported_as_finished_is_taken_back_from_that_lot():
    floor = make_floor(product_tracking="lot")
    _order, finished = _finished_order(floor, 4, lot="LOT-7")
    _correct(finished)
    _processed(floor)
    taken = InventoryTransaction.objects.get(kind=TransactionKind.FINISHED_REVERSAL)
    assert taken.lot.number == "LOT-7"
    assert OnHand.objects.get(item=floor.product, lot__number="LOT-7").quantity == 0
    _ledger_matches_on_hand()


# --- Manual consumption ------------------------------------------------------------------------


def _consume(floor, order, quantity, at):
    bell = order.materials.get(component=floor.components["BELL"])
    return _post(
        floor,
        "consume_material",
        at=at,
        order=order,
        material_line=bell.line_number,
        quantity=str(quantity),
    )


@pytest.mark.django_db
def test_a_manual_consumption_and_a_return_are_reversed_at_their_location():
    floor = make_floor()
    order = floor.order(10)
    worker = floor.workers[0]
    floor.clock_in(worker, 0)
    floor.post("start_job", at=1, badge_id=worker, job=floor.job(order, 10))
    bell = floor.components["BELL"]
    at = floor.resources[2].input_location
    before = _on_hand(bell, at)
    consumed = _consume(floor, order, 3, 5)
    returned = _consume(floor, order, -1, 6)
    _processed(floor)
    assert _on_hand(bell, at) == before - 2

    _correct(consumed)
    _processed(floor)
    assert _on_hand(bell, at) == before + 1
    state = MaterialLineState.objects.get(material__component=bell)
    assert state.manual_consumed == -1
    _correct(returned)
    _processed(floor)
    assert _on_hand(bell, at) == before
    state.refresh_from_db()
    assert state.manual_consumed == 0
    picked = PickingListLine.objects.filter(order=order, component=bell)
    assert picked.aggregate(t=Sum("quantity"))["t"] == 0
    assert {line.location for line in picked} == {at}
    _ledger_matches_on_hand()


# --- Refusals --------------------------------------------------------------------------------


def _refused(registration, code, *, reason="mistake", error=NotAllowed):
    count = RawRegistration.objects.count()
    entries = ProcessingLogEntry.objects.count()
    with pytest.raises(error) as refusal:
        _correct(registration, reason=reason)
    assert refusal.value.code == code, refusal.value.message
    assert RawRegistration.objects.count() == count
    assert ProcessingLogEntry.objects.count() == entries
    return refusal.value


@pytest.mark.django_db
def test_output_the_next_operation_started_cannot_be_reversed():
    floor = make_floor(lines=[("BELL", "manual", 30, "1")], stock=0)
    order = floor.order(10)
    worker = floor.workers[0]
    floor.clock_in(worker, 0)
    first = floor.job(order, 10)
    floor.post("start_job", at=1, badge_id=worker, job=first)
    five = _post(floor, "report_progress", at=5, badge_id=worker, job=first, quantity_good="5")
    _post(floor, "report_progress", at=6, badge_id=worker, job=first, quantity_good="5")
    floor.post("stop_job", at=7, badge_id=worker, job=first)
    floor.post("start_job", at=8, badge_id=worker, job=floor.job(order, 20), quantity="6")
    _processed(floor)
    # 10 out of operation 10, 6 started at 20: only 4 may be reversed.
    refusal = _refused(five, "used_by_later_work")
    assert refusal.fields["reversible"] == "4"


@pytest.mark.django_db
def test_a_pending_start_of_the_next_operation_counts_too():
    floor = make_floor(lines=[("BELL", "manual", 30, "1")], stock=0)
    order = floor.order(10)
    worker, other = floor.workers[:2]
    floor.clock_in(worker, 0)
    floor.clock_in(other, 0)
    first = floor.job(order, 10)
    floor.post("start_job", at=1, badge_id=worker, job=first)
    report = _post(floor, "report_progress", at=5, badge_id=worker, job=first, quantity_good="10")
    _processed(floor)
    floor.post("start_job", at=8, badge_id=other, job=floor.job(order, 20), quantity="3")
    _refused(report, "used_by_later_work")


@pytest.mark.django_db
def test_the_last_operations_output_reported_as_finished_cannot_be_reversed():
    floor = make_floor()
    order, _ = _finished_order(floor, 5)
    last = RawRegistration.objects.get(job=floor.job(order, 30), kind=K.REPORT_PROGRESS)
    _refused(last, "used_by_later_work")


@pytest.mark.django_db
def test_two_corrections_of_one_job_share_what_is_reversible():
    floor = make_floor(lines=[("BELL", "manual", 30, "1")], stock=0)
    order = floor.order(10)
    worker = floor.workers[0]
    floor.clock_in(worker, 0)
    first = floor.job(order, 10)
    floor.post("start_job", at=1, badge_id=worker, job=first)
    a = _post(floor, "report_progress", at=5, badge_id=worker, job=first, quantity_good="5")
    b = _post(floor, "report_progress", at=6, badge_id=worker, job=first, quantity_good="5")
    floor.post("stop_job", at=7, badge_id=worker, job=first)
    floor.post("start_job", at=8, badge_id=worker, job=floor.job(order, 20), quantity="5")
    _processed(floor)
    _correct(a)  # 10 - 5 started at 20 leaves 5
    _refused(b, "used_by_later_work")  # the pending correction already takes them


@pytest.mark.django_db
def test_finished_goods_moved_away_cannot_be_taken_back():
    floor = make_floor()
    _order, finished = _finished_order(floor, 10)
    inventory_services.inventory_transfer(
        item=floor.product,
        quantity=D(4),
        from_location=floor.output,
        to_location=floor.store,
        source=Source(SourceType.MANUAL, "shipping"),
        actor=Actor(process="test"),
    )
    _refused(finished, "finished_goods_used")


@pytest.mark.django_db
def test_a_return_whose_material_is_gone_cannot_be_reversed():
    floor = make_floor(lines=[("BELL", "manual", 30, "1")], stock=0)
    order = floor.order(2)
    bell = floor.components["BELL"]
    at = floor.resources[2].input_location
    floor.stock("BELL", 2, at)
    worker = floor.workers[0]
    floor.clock_in(worker, 0)
    floor.post("start_job", at=1, badge_id=worker, job=floor.job(order, 10))
    _consume(floor, order, 2, 5)
    returned = _consume(floor, order, -2, 6)
    _processed(floor)
    inventory_services.inventory_scrap(
        item=bell,
        quantity=D(2),
        location=at,
        reason="dropped",
        source=Source(SourceType.MANUAL, "x"),
        actor=Actor(process="test"),
    )
    _refused(returned, "insufficient_stock")


@pytest.mark.django_db
def test_refusals_already_corrected_not_processed_kind_closed_and_no_reason():
    floor = make_floor(lines=[("BELL", "manual", 30, "1")], stock=0)
    order = floor.order(4)
    worker = floor.workers[0]
    floor.clock_in(worker, 0)
    job = floor.job(order, 10)
    start = _post(floor, "start_job", at=1, badge_id=worker, job=job)
    report = _post(
        floor,
        "report_scrap",
        at=2,
        badge_id=worker,
        job=job,
        quantity_scrap="1",
        reason_code=floor.scrap_reason.code,
    )
    _processed(floor)
    pending = _post(
        floor,
        "report_scrap",
        at=3,
        badge_id=worker,
        job=job,
        quantity_scrap="1",
        reason_code=floor.scrap_reason.code,
    )

    _refused(report, "reason_required", reason="  ", error=ApplicationError)
    _refused(start, "kind_not_correctable")
    _refused(pending, "registration_not_processed")
    correction = _correct(report)
    _refused(report, "already_corrected")  # still pending
    _refused(correction, "kind_not_correctable")  # a correction is not corrected
    _processed(floor)
    _refused(report, "already_corrected")  # and once processed


@pytest.mark.django_db
def test_a_closed_order_is_reopened_before_a_correction():
    floor = make_floor()
    order, finished = _finished_order(floor, 5)
    order_transition(order=order, transition=Transition.CLOSE)
    _refused(finished, "order_closed")
    order_transition(order=order, transition=Transition.REOPEN)
    _correct(finished)
    _processed(floor)
    order.refresh_from_db()
    assert order.status == OrderStatus.IN_PROGRESS


@pytest.mark.django_db
def test_a_correction_that_can_no_longer_apply_fails_in_processing_with_its_code():
    floor = make_floor()
    order, finished = _finished_order(floor, 10)
    correction = _correct(finished)
    # Meanwhile the goods leave (the door checked them while they were there).
    inventory_services.inventory_transfer(
        item=floor.product,
        quantity=D(10),
        from_location=floor.output,
        to_location=floor.store,
        source=Source(SourceType.MANUAL, "shipping"),
        actor=Actor(process="test"),
    )
    summary = floor.process()
    correction.refresh_from_db()
    assert summary.failed == 1
    assert (correction.status, correction.error_code) == (
        RegistrationStatus.FAILED,
        "finished_goods_used",
    )
    order.refresh_from_db()
    assert order.quantity_completed == 10  # nothing applied


@pytest.mark.django_db
def test_a_terminal_cannot_post_a_correction():
    floor, order, report = _scrapped_order()
    response = floor.post("correction", at=10, order=order, job=floor.job(order, 10), expect=400)
    assert response.json()["fields"].keys() == {"kind"}
    assert not report.corrections.exists()


@pytest.mark.django_db
def test_a_scale_unit_leaves_corrections_to_the_hub(settings):
    _floor, _order, report = _scrapped_order()
    settings.MES_ROLE = "scale_unit"
    _refused(report, "hub_only")


# --- Audit -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_who_when_and_why_are_kept():
    floor = make_floor(lines=[("BELL", "manual", 30, "1")], stock=0)
    order = floor.order(4)
    worker = floor.workers[0]
    floor.clock_in(worker, 0)
    job = floor.job(order, 10)
    floor.post("start_job", at=1, badge_id=worker, job=job)
    report = _post(
        floor,
        "report_scrap",
        at=2,
        badge_id=worker,
        job=job,
        quantity_scrap="1",
        reason_code=floor.scrap_reason.code,
    )
    _processed(floor)
    user = get_user_model().objects.create_user("sue", password="x")
    correction = registration_correct(
        registration=report, actor=Actor(user=user), reason="scrap was a good part"
    )
    assert (correction.source, correction.note, correction.corrects) == (
        "user:sue",
        "scrap was a good part",
        report,
    )
    entries = ProcessingLogEntry.objects.filter(outcome=ProcessingOutcome.CORRECTED)
    assert {(e.registration_id, e.actor) for e in entries} == {
        (report.pk, "user:sue"),
        (correction.pk, "user:sue"),
    }
    assert all("scrap was a good part" in e.message for e in entries)
    _processed(floor)
    assert order.logbook.filter(kind="correction", text__contains="user:sue").exists()


# --- Pages -----------------------------------------------------------------------------------


def _user(role):
    roles_ensure()
    user = get_user_model().objects.create_user(f"{role}-{uuid.uuid4().hex[:6]}", password="x")
    user.groups.add(Group.objects.get(name=role))
    return user


def _scrapped_order():
    floor = make_floor(lines=[("BELL", "manual", 30, "1")], stock=0)
    order = floor.order(4)
    worker = floor.workers[0]
    floor.clock_in(worker, 0)
    job = floor.job(order, 10)
    floor.post("start_job", at=1, badge_id=worker, job=job)
    report = _post(
        floor,
        "report_scrap",
        at=2,
        badge_id=worker,
        job=job,
        quantity_scrap="1",
        reason_code=floor.scrap_reason.code,
    )
    _processed(floor)
    return floor, order, report


@pytest.mark.django_db
def test_a_supervisor_corrects_from_the_order_page(client):
    floor, order, report = _scrapped_order()
    client.force_login(_user(SUPERVISOR))
    page = client.get(reverse("planner:order_detail", args=[order.pk]))
    url = reverse("floor:registration_correct", args=[report.pk])
    assert url in page.content.decode()
    form = client.get(url)
    assert form.status_code == 200 and "Reason" in form.content.decode()
    answer = client.post(url, {"reason": "", "next": "/x"})
    assert answer.status_code == 200  # shown again with the refusal
    assert not report.corrections.exists()
    back = reverse("planner:order_detail", args=[order.pk])
    answer = client.post(url, {"reason": "not scrapped after all", "next": back})
    assert answer.status_code == 302 and answer["Location"] == back
    correction = report.corrections.get()
    _processed(floor)
    page = client.get(back).content.decode()
    assert "not scrapped after all" in page and "Corrected" in page
    assert correction.source in page
    # A second correction is refused and shown with its reason, nothing stored.
    answer = client.post(url, {"reason": "again", "next": back})
    assert answer.status_code == 409
    assert "already corrected" in answer.content.decode()
    assert report.corrections.count() == 1


@pytest.mark.django_db
def test_the_processing_log_offers_and_shows_corrections(client):
    floor, _order, report = _scrapped_order()
    client.force_login(_user(SUPERVISOR))
    log = reverse("floor:processing_log")
    url = reverse("floor:registration_correct", args=[report.pk])
    assert url in client.get(log).content.decode()
    answer = client.post(url, {"reason": "typo on the terminal", "next": log})
    assert answer.status_code == 302
    _processed(floor)
    text = client.get(log).content.decode()
    assert "typo on the terminal" in text
    assert url not in text  # corrected: no second offer
    # The admin's processing log links to the same action.
    admin = _user(SUPERVISOR)
    admin.is_staff = True
    admin.save()
    client.force_login(admin)
    change = client.get(reverse("admin:execution_rawregistration_change", args=[report.pk]))
    assert change.status_code == 200
    assert "typo on the terminal" in change.content.decode()


@pytest.mark.django_db
def test_the_order_page_section_runs_the_same_queries_at_10_and_200_registrations(client):
    floor, order, report = _scrapped_order()
    client.force_login(_user(SUPERVISOR))
    job = floor.job(order, 10)
    at = report.occurred_at

    def add(n):
        rows = RawRegistration.objects.bulk_create(
            RawRegistration(
                uuid=uuid.uuid4(),
                kind=K.REPORT_SCRAP,
                status=RegistrationStatus.PROCESSED,
                lane=report.lane,
                occurred_at=at,
                order=order,
                job=job,
                worker=floor.workers[0],
                quantity_scrap=D(0),
            )
            for _ in range(n)
        )
        RawRegistration.objects.bulk_create(
            RawRegistration(
                uuid=uuid.uuid4(),
                kind=K.CORRECTION,
                status=RegistrationStatus.PROCESSED,
                lane=report.lane,
                occurred_at=at,
                order=order,
                job=job,
                corrects=row,
                note="bulk",
                source="user:test",
            )
            for row in rows[::2]
        )

    assert_constant_queries(
        client, reverse("planner:order_detail", args=[order.pk]), add, small=10, large=200
    )


@pytest.mark.django_db
@pytest.mark.parametrize("role", [PLANNER, None])
def test_only_a_supervisor_may_correct(client, role):
    _floor, order, report = _scrapped_order()
    user = _user(role) if role else get_user_model().objects.create_user("nobody", password="x")
    client.force_login(user)
    url = reverse("floor:registration_correct", args=[report.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, {"reason": "mine"}).status_code == 403
    assert not report.corrections.exists()
    if role == PLANNER:
        page = client.get(reverse("planner:order_detail", args=[order.pk])).content.decode()
        assert url not in page


# --- Two supervisors at once (PostgreSQL) ---------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_corrections_of_one_registration_make_exactly_one():
    floor = make_floor(lines=[("BELL", "manual", 30, "1")], stock=0)
    order = floor.order(4)
    worker = floor.workers[0]
    floor.clock_in(worker, 0)
    job = floor.job(order, 10)
    floor.post("start_job", at=1, badge_id=worker, job=job)
    report = _post(
        floor,
        "report_scrap",
        at=2,
        badge_id=worker,
        job=job,
        quantity_scrap="1",
        reason_code=floor.scrap_reason.code,
    )
    _processed(floor)
    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def correct():
        try:
            barrier.wait(10)
            registration_correct(registration=report, actor=BOSS, reason="twice")
            outcomes.append("accepted")
        except NotAllowed as refusal:
            outcomes.append(refusal.code)
        except Exception as exc:
            outcomes.append(f"{type(exc).__name__}: {exc}")
        finally:
            connection.close()

    threads = [threading.Thread(target=correct) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == ["accepted"] + ["already_corrected"] * 3
    assert report.corrections.count() == 1
    _processed(floor)
    order.refresh_from_db()
    assert order.quantity_scrapped == 0
