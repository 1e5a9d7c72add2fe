"""Random sequences of transitions, reports and changes on one order, checked against a model.

The machine keeps its own account of the status, the quantities and the transitions that
should have been logged, predicts for every call whether the services accept or refuse it
(and with which code), and checks the stored order against that account after each step.
"""

import math
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from mesproject.errors import ApplicationError
from orders import services
from orders.choices import MANUAL_TRANSITIONS, OrderStatus, Transition
from tests.factories import make_order, make_releasable_product
from tests.orders.helpers import log_chain, reload, snapshot

pytestmark = pytest.mark.django_db

S = OrderStatus
T = Transition
D = Decimal
RUNNING = (S.IN_PROGRESS, S.COMPLETED)
EDITABLE = (S.CREATED, S.RELEASED, *RUNNING)
QUANTITY_FIELDS = ("in_progress", "good", "scrap")
# Where the manual transitions other than cancel start from.
SOURCES = {
    T.RELEASE: (S.CREATED,),
    T.UNRELEASE: (S.RELEASED,),
    T.CLOSE: (S.COMPLETED,),
    T.REOPEN: (S.CLOSED,),
    T.UNTERMINATE: (S.CANCELED,),
}


def deltas(*values: int) -> st.SearchStrategy[Decimal]:
    """Reported deltas: mostly nothing or progress, now and then a correction."""
    return st.sampled_from([D(v) for v in values])


reasons = st.sampled_from(["", "why not"])


class OrderMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        # Each example runs in its own savepoint inside the test's transaction and leaves
        # nothing behind for the next one.
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.order = None
        self.status = S.CREATED

    def teardown(self):
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    @initialize(
        quantity=st.integers(min_value=1, max_value=12),
        tolerance=st.sampled_from(["0", "10", "12.5", "50"]),
    )
    def create_order(self, quantity, tolerance):
        product = make_releasable_product(lines=2)
        self.order = make_order(product, quantity=quantity, tolerance=tolerance)
        self.status = S.CREATED
        self.quantity = D(quantity)
        self.tolerance = D(tolerance)
        self.done = dict.fromkeys(QUANTITY_FIELDS, D(0))
        self.expected_log: list[str] = []
        self.steps: list[Decimal] = []

    # --- The model ---------------------------------------------------------------------------

    def has_activity(self) -> bool:
        return any(self.done[f] > 0 for f in ("in_progress", "good", "scrap"))

    def implied_running(self) -> str:
        finished = self.done["good"] >= self.quantity and self.done["in_progress"] == 0
        return S.COMPLETED if finished else S.IN_PROGRESS

    def settle(self, started: bool = False) -> None:
        """The automatic transitions, as the state model describes them."""
        if self.status == S.RELEASED and (started or self.has_activity()):
            self.move(T.START, S.IN_PROGRESS)
        if self.status in RUNNING and self.implied_running() != self.status:
            name = T.COMPLETE if self.status == S.IN_PROGRESS else T.RESUME
            self.move(name, self.implied_running())

    def move(self, name: str, status: str) -> None:
        self.status = status
        self.expected_log.append(name)

    def manual_target(self, name: str) -> str | None:
        """Where a manual transition leads from here, or None when it must be refused."""
        status, good = self.status, self.done["good"]
        if name == T.RELEASE and status == S.CREATED:
            return S.RELEASED
        if name == T.UNRELEASE and status == S.RELEASED and not self.has_activity():
            return S.CREATED
        if name == T.CANCEL and status in EDITABLE:
            return S.CANCELED
        ceiling = self.quantity * (1 + self.tolerance / 100)
        if (
            name == T.CLOSE
            and status == S.COMPLETED
            and self.quantity <= good <= ceiling
            and self.done["in_progress"] == 0
        ):
            return S.CLOSED
        if name == T.REOPEN and status == S.CLOSED:
            return S.COMPLETED
        if name == T.UNTERMINATE and status == S.CANCELED:
            return self.implied_running() if self.has_activity() else S.CREATED
        return None

    def edit_refusal(self) -> str | None:
        if self.status == S.CLOSED:
            return "order_frozen"
        if self.status not in EDITABLE:
            return "order_not_editable"
        return None

    def refused(self, code: str, call, **kwargs) -> None:
        before = snapshot(self.order)
        try:
            call(order=self.order, **kwargs)
        except ApplicationError as error:
            assert error.code == code, error.message
        else:
            raise AssertionError(f"expected a refusal with {code}")
        assert snapshot(self.order) == before

    # --- Rules -------------------------------------------------------------------------------

    def try_transition(self, name: str, reason: str) -> None:
        target = self.manual_target(name)
        call = services.production_order_transition
        if target is None:
            self.refused(f"{name}_refused", call, transition=name, reason=reason)
            return
        result = call(order=self.order, transition=name, reason=reason)
        self.move(name, target)
        assert result.status == target
        log = self.order.transition_log.latest("id")
        assert (log.transition, log.reason) == (name, reason)

    @rule(name=st.sampled_from(MANUAL_TRANSITIONS), reason=reasons)
    def any_transition(self, name, reason):
        """Whatever a user clicks: most are refused from where the order is."""
        self.try_transition(name, reason)

    @precondition(lambda self: self.startable_transitions())
    @rule(data=st.data(), reason=reasons)
    def startable_transition(self, data, reason):
        """A transition that starts from the current status (cancel aside), so sequences go
        far; its guard may still refuse it (close beyond the tolerance, say)."""
        self.try_transition(data.draw(st.sampled_from(self.startable_transitions())), reason)

    def startable_transitions(self) -> list[str]:
        return [n for n, sources in SOURCES.items() if self.status in sources]

    @precondition(lambda self: self.status not in (S.RELEASED, *RUNNING))
    @rule(good=deltas(1, 2), work_started=st.booleans())
    def report_on_an_order_not_running(self, good, work_started):
        call = services.production_order_record_quantities
        self.refused("order_not_running", call, good=good, work_started=work_started)

    @precondition(lambda self: self.status in (S.RELEASED, *RUNNING))
    @rule(
        in_progress=deltas(0, 0, 1, 2, -1),
        good=deltas(0, 1, 2, 3, 5, -1),
        scrap=deltas(0, 0, 0, 1, -1),
        work_started=st.booleans(),
    )
    def report(self, in_progress, good, scrap, work_started):
        self.record(in_progress, good, scrap, work_started)

    def record(self, in_progress, good, scrap, work_started) -> None:
        """Report deltas, predicting the refusal or the automatic transitions they cause."""
        reported = dict(zip(QUANTITY_FIELDS, (in_progress, good, scrap), strict=True))
        after = {f: self.done[f] + reported[f] for f in QUANTITY_FIELDS}
        code = "quantity_negative" if any(v < 0 for v in after.values()) else None
        call = services.production_order_record_quantities
        if code:
            self.refused(code, call, **reported, work_started=work_started)
            return
        call(order=self.order, **reported, work_started=work_started)
        self.done = after
        self.settle(started=work_started)

    @precondition(lambda self: self.status in (S.RELEASED, *RUNNING))
    @rule(over=deltas(0, 0, 1, 2))
    def finish_the_work(self, over):
        """The floor reports everything in progress as done, up to the target (or over)."""
        in_progress = -self.done["in_progress"]
        good = max(self.quantity - self.done["good"], D(0)) + over
        self.record(in_progress, good, D(0), work_started=False)

    @rule(quantity=st.integers(min_value=-1, max_value=15).map(D))
    def change_quantity(self, quantity):
        code = self.edit_refusal()
        if code is None and quantity <= 0:
            code = "quantity_not_positive"
        elif code is None and quantity < self.done["good"]:
            code = "qty_below_produced"
        call = services.production_order_change_quantity
        if code:
            self.refused(code, call, quantity=quantity)
            return
        call(order=self.order, quantity=quantity)
        self.quantity = quantity
        self.settle()

    @rule(step_size=st.integers(min_value=-1, max_value=5).map(D))
    def split(self, step_size):
        remaining = self.quantity - self.done["good"]
        code = self.edit_refusal()
        if code is None and step_size <= 0:
            code = "step_size_invalid"
        elif code is None and remaining <= 0:
            code = "nothing_remaining"
        call = services.production_order_split_into_steps
        if code:
            self.refused(code, call, step_size=step_size)
            return
        call(order=self.order, step_size=step_size)
        count = math.ceil(remaining / step_size)
        self.steps = [step_size] * (count - 1) + [remaining - step_size * (count - 1)]

    # --- Invariants --------------------------------------------------------------------------

    @invariant()
    def stored_order_matches_the_model(self):
        stored = reload(self.order)
        event(f"reached {self.status}")  # see --hypothesis-show-statistics
        assert stored.status == self.status
        assert stored.quantity == self.quantity
        assert {
            "in_progress": stored.quantity_in_progress,
            "good": stored.quantity_completed,
            "scrap": stored.quantity_scrapped,
        } == self.done
        assert list(stored.steps.values_list("quantity", flat=True)) == self.steps

    @invariant()
    def status_agrees_with_the_quantities(self):
        stored = reload(self.order)
        quantities = (
            stored.quantity_in_progress,
            stored.quantity_completed,
            stored.quantity_scrapped,
        )
        assert all(q >= 0 for q in quantities)
        if stored.status in (S.CREATED, S.RELEASED):
            assert not stored.has_activity()
        if stored.status in RUNNING:
            assert stored.status == stored.implied_running_status()
        if stored.status == S.CLOSED:
            assert stored.quantity <= stored.quantity_completed <= stored.max_completed_quantity
            assert stored.quantity_in_progress == 0
        # Released at least once: the BOM was exploded once, whatever came after.
        released = T.RELEASE in self.expected_log
        assert stored.materials.count() == (2 if released else 0)
        assert (stored.bom_id is not None) == released

    @invariant()
    def transition_log_tells_the_whole_story(self):
        chain = log_chain(self.order)
        assert [name for name, _, _ in chain] == self.expected_log
        status = S.CREATED
        for _, from_status, to_status in chain:
            assert from_status == status
            status = to_status
        assert status == self.status


OrderMachine.TestCase.settings = settings(
    max_examples=50, stateful_step_count=30, deadline=None, print_blob=True
)
TestOrderStateMachine = OrderMachine.TestCase
