"""No races at the door (PostgreSQL, threads posting at the same instant through the real
endpoint): acceptance locks the worker and the jobs it checks, so concurrent starts of one
job share its quantity, concurrent clock-ins of one worker make one, and two reports cannot
both take the last pieces in progress."""

import threading
import uuid
from decimal import Decimal

import pytest
from django.db import connection
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from execution.models import RawRegistration
from tests.execution.floor import make_floor

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
D = Decimal


def _post_together(floor, bodies: list[dict]) -> list[int]:
    """Post every body from its own thread and connection, released at the same instant."""
    token = Token.objects.get(user=floor.user).key
    barrier = threading.Barrier(len(bodies))
    statuses: list[int] = [0] * len(bodies)

    def post(index: int, body: dict) -> None:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        try:
            barrier.wait(10)
            response = client.post("/api/v1/registrations/", body, format="json")
            statuses[index] = response.status_code
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(i, b)) for i, b in enumerate(bodies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return statuses


def _body(floor, kind: str, minute: float, **fields) -> dict:
    return {
        "registration_uuid": str(uuid.uuid4()),
        "kind": kind,
        "occurred_at": floor.at(minute).isoformat(),
        **fields,
    }


def test_concurrent_starts_of_one_job_share_its_quantity():
    floor = make_floor(workers=6)
    order = floor.order(12)
    job = floor.job(order, 10)
    for worker in floor.workers:
        floor.clock_in(worker, 0)
    statuses = _post_together(
        floor,
        [
            _body(floor, "start_job", 1, badge_id=worker.badge_id, job=job.pk)
            for worker in floor.workers
        ],
    )
    assert statuses == [202] * 6
    starts = RawRegistration.objects.filter(job=job, kind="start_job")
    assert sorted(starts.values_list("quantity", flat=True)) == [0, 0, 0, 0, 0, 12]
    summary = floor.process()
    assert summary.failed == 0
    job.refresh_from_db()
    order.refresh_from_db()
    assert job.quantity_started == 12 and order.quantity_in_progress == 12


def test_concurrent_explicit_starts_never_exceed_what_may_be_started():
    floor = make_floor(workers=5)
    order = floor.order(12)
    job = floor.job(order, 10)
    for worker in floor.workers:
        floor.clock_in(worker, 0)
    statuses = _post_together(
        floor,
        [
            _body(floor, "start_job", 1, badge_id=w.badge_id, job=job.pk, quantity="5")
            for w in floor.workers
        ],
    )
    assert sorted(statuses) == [202, 202, 409, 409, 409]
    assert sum(RawRegistration.objects.filter(job=job).values_list("quantity", flat=True)) == 10


def test_concurrent_clock_ins_of_one_worker_make_exactly_one():
    floor = make_floor(workers=1)
    badge = floor.workers[0].badge_id
    # Different times, as terminals with their own clocks would send them.
    statuses = _post_together(
        floor, [_body(floor, "clock_in", minute / 10, badge_id=badge) for minute in range(30)]
    )
    assert statuses.count(202) == 1 and statuses.count(409) == 29
    assert RawRegistration.objects.filter(kind="clock_in").count() == 1


def test_concurrent_reports_cannot_both_take_the_last_pieces():
    floor = make_floor(workers=4)
    order = floor.order(8)
    job = floor.job(order, 10)
    for worker in floor.workers:
        floor.clock_in(worker, 0)
        floor.post("start_job", at=1, badge_id=worker, job=job, quantity="2")
    statuses = _post_together(
        floor,
        [
            _body(floor, "report_progress", 2, badge_id=w.badge_id, job=job.pk, quantity_good="5")
            for w in floor.workers
        ],
    )
    assert sorted(statuses) == [202, 409, 409, 409]
    floor.process()
    job.refresh_from_db()
    assert job.quantity_good == 5 <= job.quantity_started
