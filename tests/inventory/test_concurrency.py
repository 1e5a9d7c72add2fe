"""Races on PostgreSQL: threads posting against the same item / lot / location at once end
with exactly the expected on-hand, never negative, and refused requests leave no trace."""

import random
import threading
from decimal import Decimal

import pytest
from django.db import connection

from inventory import selectors, services
from inventory.choices import SourceType
from inventory.exceptions import InsufficientStock
from inventory.models import InventoryTransaction, OnHand, Reservation
from inventory.services import Source

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

D = Decimal
THREADS = 8


def run_threads(target, count=THREADS):
    """Start count threads at the same moment; each gets its index; returns their results."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def worker(index):
        try:
            barrier.wait()
            results[index] = target(index)
        except Exception as error:  # collected and checked by the test
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a thread hung (deadlock?)"
    return results


def issue(item, location, quantity, actor, lot=None, order_ref="WO-1"):
    return services.inventory_issue(
        item=item,
        quantity=D(quantity),
        location=location,
        lot=lot,
        order_ref=order_ref,
        source=Source(SourceType.REGISTRATION, "race"),
        actor=actor,
    )


def test_last_units_go_to_exactly_as_many_threads(item, stock, receive, actor):
    receive(item, 5, stock)
    results = run_threads(lambda i: issue(item, stock, 1, actor))
    done = [r for r in results if isinstance(r, InventoryTransaction)]
    refused = [r for r in results if isinstance(r, InsufficientStock)]
    assert (len(done), len(refused)) == (5, THREADS - 5), results
    assert selectors.on_hand_quantity(item=item, location=stock) == 0
    assert InventoryTransaction.objects.count() == 1 + 5  # refusals wrote nothing
    assert services.inventory_verify().ok


def test_many_consumers_of_one_lot(lot_item, stock, receive, actor):
    receive(lot_item, "40", stock, lot="L-1")

    def consume(index):
        rng = random.Random(index)
        taken = D(0)
        for _ in range(12):
            quantity = D(rng.randint(1, 2500)) / 1000
            try:
                issue(lot_item, stock, quantity, actor, lot="L-1")
                taken += quantity
            except InsufficientStock:
                pass
        return taken

    results = run_threads(consume)
    assert all(isinstance(r, Decimal) for r in results), results
    remaining = selectors.on_hand_quantity(item=lot_item, location=stock)
    assert remaining >= 0
    assert remaining == D(40) - sum(results)
    issues = InventoryTransaction.objects.filter(kind="issue")
    assert sum(-r.quantity for r in issues) == sum(results)
    assert services.inventory_verify().ok


def test_opposite_transfers_do_not_deadlock(item, stock, stock2, receive, actor):
    # Enough on both sides that no interleaving can run one dry (4 threads x 30 each way).
    receive(item, 200, stock)
    receive(item, 200, stock2)

    def shuffle(index):
        a, b = (stock, stock2) if index % 2 else (stock2, stock)
        for _ in range(10):
            services.inventory_transfer(
                item=item,
                quantity=D(3),
                from_location=a,
                to_location=b,
                source=Source(SourceType.MANUAL, "race"),
                actor=actor,
            )
        return True

    results = run_threads(shuffle)
    assert results == [True] * THREADS, results
    assert selectors.on_hand_quantity(item=item) == D(400)
    assert selectors.on_hand_quantity(item=item, location=stock) == D(200)
    assert services.inventory_verify().ok


def test_first_receipts_into_a_new_key_all_land(item, stock, actor):
    def first(index):
        return services.inventory_receive(
            item=item,
            quantity=D(index + 1),
            location=stock,
            source=Source(SourceType.ERP_MESSAGE, f"m-{index}"),
            actor=actor,
        )

    results = run_threads(first)
    assert all(isinstance(r, InventoryTransaction) for r in results), results
    assert OnHand.objects.filter(item=item, location=stock).count() == 1
    assert selectors.on_hand_quantity(item=item, location=stock) == sum(range(1, THREADS + 1))
    assert services.inventory_verify().ok


def test_issues_relieve_one_reservation_without_going_below_zero(item, site, stock, receive, actor):
    receive(item, 100, stock)
    services.reservation_set(
        item=item,
        site=site,
        quantity=D(10),
        order_ref="WO-1",
        source=Source(SourceType.ORDER_MATERIAL, "1"),
        actor=actor,
    )
    results = run_threads(lambda i: issue(item, stock, 3, actor))
    assert all(isinstance(r, InventoryTransaction) for r in results), results
    reservation = Reservation.objects.get()
    assert (reservation.quantity_open, reservation.quantity_consumed) == (D(0), D(10))
    assert selectors.on_hand_quantity(item=item, location=stock) == D(100 - 3 * THREADS)
    assert services.inventory_verify().ok


def test_serial_received_twice_at_once_lands_once(serial_item, stock, stock2, actor):
    def receive_serial(index):
        return services.inventory_receive(
            item=serial_item,
            quantity=D(1),
            location=stock if index % 2 else stock2,
            lot="SN-1",
            source=Source(SourceType.ERP_MESSAGE, f"m-{index}"),
            actor=actor,
        )

    results = run_threads(receive_serial)
    assert sum(isinstance(r, InventoryTransaction) for r in results) == 1, results
    assert selectors.on_hand_quantity(item=serial_item) == 1
    assert services.inventory_verify().ok
