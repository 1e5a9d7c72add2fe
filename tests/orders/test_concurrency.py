"""Conflicting requests on one order from several threads at once (PostgreSQL row locks).

Each thread loads the order first (a stale copy, as a web worker would hold), waits at a
barrier, then calls the use case. A slow receiver of execution's order_changed signal, sent
inside the transaction like integration's, holds the first caller there long enough for
the second to arrive, so that without the row lock both would pass their checks.
"""

import threading
import time
from decimal import Decimal

import pytest
from django.db import connection

from execution.services import order_lifecycle
from execution.signals import order_changed
from mesproject.actors import Actor
from mesproject.errors import ApplicationError, NotAllowed
from orders import services
from orders.choices import OrderStatus, Transition
from orders.models import ProductionOrder
from tests.factories import advance_order, make_order, make_releasable_product
from tests.orders.helpers import log_chain, reload

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

S = OrderStatus
T = Transition


def run_at_once(order, *calls, timeout: float = 30) -> list[tuple[str, object]]:
    """Run each call(stale_order) in its own thread, released together by a barrier.

    Returns ("ok", result) or ("error", exception) per call, in the order given.
    """
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def worker(index, call):
        try:
            copy = ProductionOrder.objects.get(pk=order.pk)  # loaded before the race
            barrier.wait(timeout=timeout)
            results[index] = ("ok", call(copy))
        except Exception as error:
            results[index] = ("error", error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not any(t.is_alive() for t in threads), "a thread is stuck"
    return results


@pytest.fixture
def slow_guards():
    """Every transition lingers 0.2 s inside its transaction, after the row lock."""

    def linger(**_):
        time.sleep(0.2)

    order_changed.connect(linger, dispatch_uid="test-linger")
    yield
    order_changed.disconnect(dispatch_uid="test-linger")


def asks(name):
    def call(order):
        return order_lifecycle.order_transition(
            order=order, transition=name, reason=f"{name} in a race"
        )

    return call


def reports(**quantities):
    def call(order):
        return services.production_order_record_quantities(
            order=order, actor=Actor(process="terminal"), **quantities
        )

    return call


@pytest.mark.parametrize(
    ("start", "first", "second"),
    [
        (S.CREATED, T.RELEASE, T.RELEASE),
        (S.COMPLETED, T.CLOSE, T.CANCEL),
        (S.COMPLETED, T.CLOSE, T.CLOSE),
        (S.RELEASED, T.UNRELEASE, T.UNRELEASE),
        (S.CANCELED, T.UNTERMINATE, T.UNTERMINATE),
    ],
)
def test_exactly_one_of_two_conflicting_transitions_wins(slow_guards, start, first, second):
    order = advance_order(make_order(make_releasable_product()), start)
    logs_before = order.transition_log.count()

    results = run_at_once(order, asks(first), asks(second))

    outcomes = sorted(outcome for outcome, _ in results)
    assert outcomes == ["error", "ok"], results
    (winner,) = [value for outcome, value in results if outcome == "ok"]
    (loser,) = [value for outcome, value in results if outcome == "error"]
    assert isinstance(loser, NotAllowed), repr(loser)
    assert loser.code.endswith("_refused")
    assert loser.fields["status"] == winner.status
    assert reload(order).status == winner.status
    new_logs = log_chain(order)[logs_before:]
    assert len(new_logs) == 1
    assert new_logs[0][1:] == (start, winner.status)


def test_release_racing_cancel_ends_canceled_in_one_serial_order(slow_guards):
    # Cancel is allowed from Released too, so both may succeed, but only one after the other:
    # either release then cancel, or cancel then a refused release.
    order = make_order(make_releasable_product())

    results = run_at_once(order, asks(T.RELEASE), asks(T.CANCEL))

    release, cancel = results
    assert cancel[0] == "ok", cancel
    assert reload(order).status == S.CANCELED
    if release[0] == "ok":
        assert log_chain(order) == [
            (T.RELEASE, S.CREATED, S.RELEASED),
            (T.CANCEL, S.RELEASED, S.CANCELED),
        ]
    else:
        assert isinstance(release[1], NotAllowed)
        assert release[1].code == "release_refused"
        assert log_chain(order) == [(T.CANCEL, S.CREATED, S.CANCELED)]
        assert not order.materials.exists()


def test_concurrent_reports_add_up(slow_guards):
    order = advance_order(make_order(make_releasable_product(), quantity=10), S.RELEASED)
    threads = 10

    results = run_at_once(order, *[reports(good=Decimal(1))] * threads)

    errors = [value for outcome, value in results if outcome == "error"]
    assert not errors, errors
    stored = reload(order)
    assert stored.quantity_completed == threads
    assert stored.status == S.COMPLETED
    # One start and one completion, however the reports interleaved.
    assert log_chain(order) == [
        (T.RELEASE, S.CREATED, S.RELEASED),
        (T.START, S.RELEASED, S.IN_PROGRESS),
        (T.COMPLETE, S.IN_PROGRESS, S.COMPLETED),
    ]
    assert order.history.filter(history_change_reason="quantities reported").count() == threads


def test_a_report_racing_a_cancel_is_either_applied_or_refused(slow_guards):
    order = advance_order(make_order(make_releasable_product(), quantity=10), S.IN_PROGRESS)

    reported, canceled = run_at_once(order, reports(good=Decimal(3)), asks(T.CANCEL))

    assert canceled[0] == "ok", canceled
    stored = reload(order)
    assert stored.status == S.CANCELED
    if reported[0] == "ok":
        assert stored.quantity_completed == 3
    else:
        assert isinstance(reported[1], ApplicationError)
        assert reported[1].code == "order_not_running"
        assert stored.quantity_completed == 0
