"""A real Celery worker process (Redis in CI, the filesystem broker otherwise) processes a
batch of registrations posted through the API; killed with SIGKILL mid-batch and restarted,
it leaves every registration processed exactly once."""

import os
import signal
import time
import uuid
from decimal import Decimal as D

import pytest
from django.db.models import Count, Sum

from execution.choices import ProcessingOutcome, RegistrationStatus
from execution.models import (
    PickingListLine,
    ProcessingLogEntry,
    RawRegistration,
    ReportAsFinishedLine,
    RouteCardLine,
)
from execution.tasks import process_raw_registrations
from inventory.choices import TransactionKind
from inventory.models import InventoryTransaction
from inventory.services import inventory_verify
from orders.choices import OrderStatus
from tests.api import new_key
from tests.execution.floor import make_floor
from tests.test_celery_worker import start_worker

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

QUANTITY = 4


def _post_shift(floor, orders) -> int:
    """Each order: three operations started and reported in two halves, then reported as
    finished; posted through the list endpoint, 500 at a time. Returns how many."""
    bodies = []

    def add(kind, at, **fields):
        bodies.append(
            {
                "registration_uuid": str(uuid.uuid4()),
                "kind": kind,
                "occurred_at": floor.at(at).isoformat(),
                **fields,
            }
        )

    workers = floor.workers
    for worker in workers:
        add("clock_in", 0, badge_id=worker.badge_id)
    for index, order in enumerate(orders):
        worker = workers[index % len(workers)].badge_id
        t = 1 + (index // len(workers)) * 10
        for operation in (10, 20, 30):
            job = floor.job(order, operation).pk
            add("start_job", t, badge_id=worker, job=job)
            add("report_progress", t + 1, badge_id=worker, job=job, quantity_good="2")
            add(
                "report_progress",
                t + 2,
                badge_id=worker,
                job=job,
                quantity_good="2",
                completes_job=True,
            )
            t += 3
        add("report_as_finished", t, order=order.number, quantity_good=str(QUANTITY))
    for start in range(0, len(bodies), 500):
        response = floor.client.post(
            "/api/v1/registrations/", bodies[start : start + 500], format="json", headers=new_key()
        )
        assert response.status_code == 200
        statuses = {item["status"] for item in response.json()["results"]}
        assert statuses == {202}, response.json()["results"][:3]
    return len(bodies)


def _processed() -> int:
    return RawRegistration.objects.filter(status=RegistrationStatus.PROCESSED).count()


def _wait_for(condition, timeout: float = 240) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def _stop(worker) -> None:
    if worker.poll() is None:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=30)


def _assert_exactly_once(floor, orders, total: int) -> None:
    assert _processed() == total
    per_registration = (
        ProcessingLogEntry.objects.filter(outcome=ProcessingOutcome.PROCESSED)
        .values("registration")
        .annotate(n=Count("id"))
    )
    assert len(per_registration) == total
    assert {row["n"] for row in per_registration} == {1}
    assert RouteCardLine.objects.count() == len(orders) * 6
    assert ReportAsFinishedLine.objects.count() == len(orders)
    for order in orders:
        order.refresh_from_db()
        assert order.status == OrderStatus.COMPLETED
        assert order.quantity_completed == QUANTITY
        picked = dict(
            PickingListLine.objects.filter(order=order)
            .values_list("component__part_number")
            .annotate(total=Sum("quantity"))
        )
        prefix = floor.product.part_number.split("-")[0]
        assert picked == {
            f"{prefix}-FRAME": D(QUANTITY),
            f"{prefix}-WHEEL": D(2 * QUANTITY),
            f"{prefix}-GRIP": D(2 * QUANTITY),
        }
        issued = InventoryTransaction.objects.filter(
            order_ref=order.number, kind=TransactionKind.ISSUE
        ).aggregate(total=Sum("quantity"))["total"]
        assert -issued == 5 * QUANTITY
    assert inventory_verify().ok


def test_a_real_worker_processes_a_batch_posted_through_the_api():
    floor = make_floor(stock=100000, workers=5)
    orders = [floor.order(QUANTITY) for _ in range(10)]
    worker = start_worker()
    try:
        total = _post_shift(floor, orders)
        # The arrival nudge alone drives the worker: no beat runs in this test.
        assert _wait_for(lambda: _processed() == total), f"{_processed()} of {total}"
    finally:
        _stop(worker)
    _assert_exactly_once(floor, orders, total)


def test_a_worker_killed_mid_batch_leaves_every_registration_processed_exactly_once():
    floor = make_floor(stock=100000, workers=10)
    orders = [floor.order(QUANTITY) for _ in range(30)]
    total = _post_shift(floor, orders)
    assert total == 10 + 30 * 10
    worker = start_worker()
    try:
        process_raw_registrations.delay()
        assert _wait_for(lambda: _processed() >= 20), "the worker never started processing"
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
    finally:
        _stop(worker)
    done = _processed()
    assert 20 <= done < total, f"killed too late to prove anything: {done} of {total}"
    # What the kill interrupted was rolled back whole: no journal without its status.
    assert ProcessingLogEntry.objects.filter(outcome=ProcessingOutcome.PROCESSED).count() == done
    assert not RawRegistration.objects.filter(status=RegistrationStatus.FAILED).exists()

    worker = start_worker()
    try:
        # After a restart beat's next run (or any nudge) picks the rest up.
        process_raw_registrations.delay()
        assert _wait_for(lambda: _processed() == total), f"{_processed()} of {total}"
    finally:
        _stop(worker)
    _assert_exactly_once(floor, orders, total)
