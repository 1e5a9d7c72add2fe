"""Who sent a registration: the PIN lockout counts atomically, a browser terminal posts only
for the worker signed in there, a terminal's own credential posts only for its resource's
jobs and its site's workers, and a registration's source comes from the credential."""

import threading

import pytest
from django.db import connection

from execution.services.terminal import (
    PIN_MAX_FAILURES,
    pin_failures_reset,
    worker_check_pin,
    worker_set_pin,
)
from mesproject.errors import NotAllowed
from tests.execution.floor import make_floor

PIN = "4711"


# --- The PIN lockout ------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_wrong_pins_are_checked_no_more_than_the_limit():
    floor = make_floor(stock=0, workers=1)
    worker = floor.workers[0]
    worker_set_pin(worker=worker, pin=PIN)
    pin_failures_reset(badge_id=worker.badge_id)
    start = threading.Barrier(24)
    outcomes: list[str] = []

    def guess(n: int):
        try:
            start.wait(10)
            try:
                found = worker_check_pin(badge_id=worker.badge_id, pin=f"{9000 + n}")
                outcomes.append("checked" if found is None else "signed in")
            except NotAllowed as refused:
                outcomes.append(refused.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(24)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert outcomes.count("checked") == PIN_MAX_FAILURES
    assert outcomes.count("pin_locked") == 24 - PIN_MAX_FAILURES
    # Locked: even the right PIN is not checked now.
    with pytest.raises(NotAllowed):
        worker_check_pin(badge_id=worker.badge_id, pin=PIN)
    pin_failures_reset(badge_id=worker.badge_id)
