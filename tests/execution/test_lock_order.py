"""One lock order for the whole product (docs/execution.md, "An order's life"): the order
first, then its jobs, then on-hand and reservations. Material arriving at a resource's input
location is consumed by the orders waiting there; the arrival takes their locks before its
posting locks on-hand, as the registration processor does. Taken the other way round, an
arrival and a registration of the same order each held what the other waited for, and
PostgreSQL aborted one with "deadlock detected" (the registration failed, or the arrival
answered 500).

The test forces that interleaving: the processor holds the order and is about to lock the
component's on-hand rows; it goes on only once the arrival is blocked on a lock."""

import threading
import time
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.db.models import Sum

from execution.choices import RegistrationStatus
from execution.models import PickingListLine, RawRegistration
from execution.services import resource_put_material
from execution.services.processing import registration_process_one
from inventory import services as inventory_services
from inventory.choices import SourceType, TransactionKind
from inventory.models import InventoryTransaction, OnHand
from inventory.services import Source
from tests.execution.floor import make_floor

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
D = Decimal
WAIT = 15  # seconds: far beyond PostgreSQL's deadlock_timeout (1 s)


def _pause_before(event_to_set: threading.Event, go: threading.Event | None, marker: str):
    """A query wrapper (this thread's connection only): before the first row-locking query on
    the table `marker`, set event_to_set, then wait for `go`."""
    seen = []

    def wrapper(execute, sql, params, many, context):
        if not seen and marker in sql and " FOR " in sql and "UPDATE" in sql.split(" FOR ")[-1]:
            seen.append(sql)
            event_to_set.set()
            if go is not None:
                go.wait(WAIT)
        return execute(sql, params, many, context)

    return wrapper


def _waiting_on_a_lock(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid])
        row = cursor.fetchone()
    return bool(row) and row[0] == "Lock"


def test_an_arrival_and_a_registration_of_the_order_waiting_there_never_deadlock():
    floor = make_floor(
        stock=0,
        lines=[("CHAIN", "available_at_location", 20, "1"), ("BELL", "manual", 30, "1")],
    )
    chain = floor.components["CHAIN"]
    station = floor.resources[1].input_location
    floor.stock("CHAIN", 100, floor.store)
    order = floor.order(5)  # its operation 20 waits for chains at the station
    worker = floor.workers[0]
    floor.clock_in(worker, 0)
    # A spare chain taken from the store for the order: the processor will lock the order,
    # then the store's chain row, which the arrival below also moves stock from.
    floor.post(
        "consume_material",
        at=1,
        order=order,
        material_line=10,
        quantity="1",
        location=f"{floor.warehouse.code}/{floor.store.code}",
    )
    registration = RawRegistration.objects.get(kind="consume_material")

    holds_order = threading.Event()  # the processor holds the order, on-hand is next
    arrival_locking = threading.Event()  # the arrival is about to lock an order
    arrival_blocked = threading.Event()
    arrival_pid: list[int] = []
    errors: list[str] = []
    outcome: list[str | None] = []

    def process():
        wrapper = _pause_before(holds_order, arrival_blocked, '"inventory_onhand"')
        try:
            with connection.execute_wrapper(wrapper):
                outcome.append(registration_process_one(pk=registration.pk))
        except Exception as exc:
            errors.append(f"processor: {type(exc).__name__}: {exc}")
        finally:
            holds_order.set()
            connection.close()

    def arrive():
        try:
            holds_order.wait(WAIT)
            connection.ensure_connection()
            arrival_pid.append(connection.connection.info.backend_pid)
            wrapper = _pause_before(arrival_locking, None, '"orders_productionorder"')
            with connection.execute_wrapper(wrapper), transaction.atomic():
                resource_put_material(
                    resource=floor.resources[1],
                    item=chain,
                    quantity=D(3),
                    from_location=floor.store,
                    source=Source(SourceType.MANUAL, "lock-order-test"),
                )
        except Exception as exc:
            errors.append(f"arrival: {type(exc).__name__}: {exc}")
        finally:
            arrival_locking.set()
            connection.close()

    threads = [threading.Thread(target=process), threading.Thread(target=arrive)]
    for thread in threads:
        thread.start()
    # The arrival asks for the order's lock and waits on a lock: only now may the processor
    # take the on-hand rows (the bad interleaving, if the arrival already holds them).
    assert arrival_locking.wait(WAIT)
    deadline = time.monotonic() + WAIT
    while arrival_pid and time.monotonic() < deadline and not _waiting_on_a_lock(arrival_pid[0]):
        time.sleep(0.02)
    assert arrival_pid and _waiting_on_a_lock(arrival_pid[0]), errors
    arrival_blocked.set()
    for thread in threads:
        thread.join(2 * WAIT)

    assert errors == []
    assert outcome == ["processed"]
    registration.refresh_from_db()
    assert registration.status == RegistrationStatus.PROCESSED
    # Both postings are in: 1 issued from the store, 3 moved to the station and consumed
    # there by the order (5 needed, nothing staged at release).
    assert OnHand.objects.get(item=chain, location=floor.store).quantity == 96
    assert OnHand.objects.get(item=chain, location=station).quantity == 0
    taken = PickingListLine.objects.filter(order=order, component=chain)
    issued = InventoryTransaction.objects.filter(
        order_ref=order.number, item=chain, kind=TransactionKind.ISSUE
    )
    assert taken.aggregate(total=Sum("quantity"))["total"] == 4
    assert issued.aggregate(total=Sum("quantity"))["total"] == -4
    assert sorted(taken.values_list("event", "location__code", "quantity")) == [
        ("manual", "STORE", 1),
        ("put_at_input_location", "IN2", 3),
    ]
    assert inventory_services.inventory_verify().ok
