"""Force close from the ERP: the units in progress finish their operation, nothing new may
start on the order, and the order closes once nothing is in progress."""

from decimal import Decimal as D

import pytest
from django.urls import reverse

from execution.models import LogbookEntry
from execution.services import order_lifecycle
from integration.choices import MessageKind
from integration.models import ForceCloseRequest, OutboxMessage
from orders.choices import ConsumptionSetting, OrderStatus, Transition
from tests.api import new_key
from tests.execution.floor import make_floor
from tests.orders.helpers import reload

from .helpers import erp_client

pytestmark = pytest.mark.django_db


def test_force_close_lets_the_unit_in_progress_finish_and_refuses_new_starts():
    # One operation, the gate: the unit there finishes and is reported as finished.
    floor = make_floor(
        workers=2,
        settings=[ConsumptionSetting.ON_OPERATION_FEEDBACK],
        lines=[("FRAME", "start", 10, "1"), ("GRIP", "production_finish", None, "2")],
    )
    first, second = floor.workers
    order = floor.order(10)
    job = floor.job(order, 10)
    for worker in floor.workers:
        floor.clock_in(worker, 0)
    floor.post("start_job", at=1, badge_id=first, job=job, quantity="2")
    floor.post("report_progress", at=10, badge_id=first, job=job, quantity_good="1")
    floor.process()
    order = reload(order)
    assert order.status == OrderStatus.IN_PROGRESS and order.quantity_in_progress == D(2)

    response = erp_client().post(
        reverse("integration:work-order-close", args=[order.number]),
        {"mode": "force"},
        format="json",
        headers=new_key(),
    )
    assert response.status_code == 202, response.json()
    request = ForceCloseRequest.objects.get(order=order, closed_at__isnull=True)
    assert reload(order).closing_since == request.requested_at

    # Nothing new starts on the order while it is being closed...
    refused = floor.post("start_job", at=12, badge_id=second, job=job, quantity="3", expect=409)
    assert refused.json()["code"] == "order_closing"
    assert "force closing" in refused.json()["message"]
    # ... but the unit at the gate finishes, and then the order closes by itself.
    floor.post(
        "report_progress",
        at=20,
        badge_id=first,
        job=job,
        quantity_good="1",
        completes_job=True,
    )
    floor.post("report_as_finished", at=25, badge_id=first, order=order, quantity_good="2")
    summary = floor.process()
    assert summary.failed == 0, summary
    order = reload(order)
    assert order.status == OrderStatus.CLOSED
    assert order.quantity_completed == D(2) and order.quantity_in_progress == 0
    assert ForceCloseRequest.objects.get(order=order).closed_at is not None
    assert order.closing_since is None


# --- A route of two operations: units finish their current operation, then the order
# closes by itself; units that finished an earlier one are left unfinished. ---------------


def _two_operations():
    floor = make_floor(
        workers=2,
        settings=[ConsumptionSetting.ON_OPERATION_FEEDBACK] * 2,
        lines=[("FRAME", "start", 10, "1"), ("GRIP", "production_finish", None, "2")],
    )
    for worker in floor.workers:
        floor.clock_in(worker, 0)
    return floor


def _force_close(order, expect=202):
    response = erp_client().post(
        reverse("integration:work-order-close", args=[order.number]),
        {"mode": "force"},
        format="json",
        headers=new_key(),
    )
    assert response.status_code == expect, response.json()
    return response.json()


def _processed(floor):
    summary = floor.process()
    assert summary.failed == 0, summary


def _genealogy(order):
    return OutboxMessage.objects.filter(order=order, kind=MessageKind.GENEALOGY)


def test_force_close_closes_by_itself_when_the_last_running_units_finish_operation_10():
    floor = _two_operations()
    first, second = floor.workers
    order = floor.order(10)
    op10, op20 = floor.job(order, 10), floor.job(order, 20)
    # Two units through operation 10 (waiting for operation 20), three more running there.
    floor.post("start_job", at=1, badge_id=first, job=op10, quantity="2")
    floor.post("report_progress", at=2, badge_id=first, job=op10, quantity_good="2", stops_job=True)
    floor.post("start_job", at=3, badge_id=first, job=op10, quantity="3")
    _processed(floor)

    assert _force_close(order)["closing"] is True
    # The units that finished operation 10 may not go on to operation 20.
    refused = floor.post("start_job", at=4, badge_id=second, job=op20, quantity="2", expect=409)
    assert refused.json()["code"] == "order_closing"
    assert "force clos" in refused.json()["message"]

    # The three at operation 10 finish it: nothing runs any more, so the order closes in the
    # same processing, with nothing completed: canceled, as a short close of nothing is.
    floor.post("report_progress", at=5, badge_id=first, job=op10, quantity_good="3")
    _processed(floor)
    order = reload(order)
    assert order.status == OrderStatus.CANCELED
    assert order.quantity_completed == 0
    assert ForceCloseRequest.objects.get(order=order).closed_at is not None
    assert order.closing_since is None
    # The five started units are named as left unfinished, in the logbook and the history.
    note = LogbookEntry.objects.filter(order=order, text__contains="unfinished").get()
    assert "5 started" in note.text
    assert "5 started" in order.transition_log.get(to_status=OrderStatus.CANCELED).reason


def test_force_close_waits_for_units_at_two_operations_and_their_report_as_finished():
    floor = _two_operations()
    first, second = floor.workers
    order = floor.order(10)
    op10, op20 = floor.job(order, 10), floor.job(order, 20)
    floor.post("start_job", at=1, badge_id=first, job=op10, quantity="5")
    floor.post("report_progress", at=2, badge_id=first, job=op10, quantity_good="3")
    # Two of the three go on to operation 20; one waits between the operations.
    floor.post("start_job", at=3, badge_id=second, job=op20, quantity="2")
    _processed(floor)

    _force_close(order)
    floor.post("start_job", at=4, badge_id=second, job=op20, quantity="1", expect=409)

    # Operation 10 scraps its last two: operation 20 still runs.
    floor.post(
        "report_scrap",
        at=5,
        badge_id=first,
        job=op10,
        quantity_scrap="2",
        reason_code=floor.scrap_reason,
    )
    _processed(floor)
    assert reload(order).status == OrderStatus.IN_PROGRESS
    # Operation 20 finishes its two: they are made, waiting for their report as finished.
    floor.post("report_progress", at=6, badge_id=second, job=op20, quantity_good="2")
    _processed(floor)
    assert reload(order).status == OrderStatus.IN_PROGRESS
    assert ForceCloseRequest.objects.get(order=order).closed_at is None

    floor.post("report_as_finished", at=7, badge_id=second, order=order, quantity_good="2")
    _processed(floor)
    order = reload(order)
    # Short-closed to what was completed; the unit between the operations is unfinished.
    assert order.status == OrderStatus.CLOSED
    assert (order.quantity, order.quantity_completed) == (D(2), D(2))
    assert order.quantity_scrapped == D(2) and order.quantity_in_progress == 0
    assert "1 started" in LogbookEntry.objects.get(order=order, text__contains="unfinished").text
    assert _genealogy(order).get().payload["qty_unfinished"] == "1"


def test_force_close_with_nothing_running_closes_at_once_leaving_units_between_operations():
    floor = _two_operations()
    first = floor.workers[0]
    order = floor.order(10)
    op10 = floor.job(order, 10)
    # One unit through both operations and reported as finished; two stop after operation 10.
    floor.post("start_job", at=1, badge_id=first, job=op10, quantity="2")
    floor.post("report_progress", at=2, badge_id=first, job=op10, quantity_good="2", stops_job=True)
    floor.run_route(order, 1, first, at=3)
    floor.post("report_as_finished", at=7, badge_id=first, order=order, quantity_good="1")
    _processed(floor)
    assert reload(order).quantity_in_progress == D(2)

    answer = _force_close(order, expect=200)
    assert answer["closing"] is False
    order = reload(order)
    assert order.status == OrderStatus.CLOSED
    assert (order.quantity, order.quantity_completed) == (D(1), D(1))
    assert _genealogy(order).get().payload["qty_unfinished"] == "2"
    assert "2 started" in LogbookEntry.objects.get(order=order, text__contains="unfinished").text


def _waiting_force_close():
    """An order force closed by the ERP while 3 units run at operation 10."""
    floor = _two_operations()
    first = floor.workers[0]
    order = floor.order(10)
    floor.post("start_job", at=1, badge_id=first, job=floor.job(order, 10), quantity="3")
    _processed(floor)
    assert _force_close(order)["closing"] is True
    return floor, order


def test_a_second_force_close_after_a_reopen_waits_and_closes_again():
    floor = _two_operations()
    first = floor.workers[0]
    order = floor.order(10)
    op10, op20 = floor.job(order, 10), floor.job(order, 20)
    floor.post("start_job", at=1, badge_id=first, job=op10, quantity="3")
    floor.post("report_progress", at=2, badge_id=first, job=op10, quantity_good="3", stops_job=True)
    floor.post("start_job", at=3, badge_id=first, job=op20, quantity="2")
    _processed(floor)
    _force_close(order)  # waits for the 2 at operation 20
    floor.post("report_progress", at=4, badge_id=first, job=op20, quantity_good="2", stops_job=True)
    floor.post("report_as_finished", at=5, badge_id=first, order=order, quantity_good="2")
    _processed(floor)
    order = reload(order)
    assert order.status == OrderStatus.CLOSED and order.quantity_completed == D(2)

    # Reopened, the last unit through operation 10 goes on at operation 20 ...
    order_lifecycle.order_transition(order=order, transition=Transition.REOPEN)
    floor.post("start_job", at=10, badge_id=first, job=op20, quantity="1")
    _processed(floor)
    # ... and the ERP force closes the order again: a new wait, and a close once it is done.
    assert _force_close(order)["closing"] is True
    order = reload(order)
    assert order.closing_since is not None
    assert ForceCloseRequest.objects.get(order=order).closed_at is None
    # (The short close cut the order to the 2 completed: the last unit can only be scrapped.)
    floor.post(
        "report_scrap",
        at=12,
        badge_id=first,
        job=op20,
        quantity_scrap="1",
        reason_code=floor.scrap_reason,
    )
    _processed(floor)
    order = reload(order)
    assert order.status == OrderStatus.CLOSED and order.quantity_completed == D(2)
    assert order.closing_since is None


def test_a_cancel_while_a_force_close_waits_ends_the_force_close():
    floor, order = _waiting_force_close()
    order_lifecycle.order_cancel(order=order)
    order = reload(order)
    assert order.status == OrderStatus.CANCELED
    assert order.closing_since is None
    assert ForceCloseRequest.objects.get(order=order).closed_at is not None
    # Brought back, the order runs as before: starts are allowed again.
    order_lifecycle.order_transition(order=order, transition=Transition.UNTERMINATE)
    order = reload(order)
    assert order.status == OrderStatus.IN_PROGRESS and order.closing_since is None
    floor.post("start_job", at=8, badge_id=floor.workers[1], job=floor.job(order, 10), quantity="1")
    _processed(floor)
    assert reload(order).status == OrderStatus.IN_PROGRESS
