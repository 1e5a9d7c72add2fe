"""Ledger invariants under random sequences of receipts, issues, returns, scrap, transfers,
reservations, releases and adjustment journals (Hypothesis stateful testing).

After every step: on-hand == sum(ledger) for every key (inventory_verify), on-hand equals a
plain Python model of what should be there, nothing is negative where that is not allowed,
no reservation is below zero, WIP per order and item matches. Refused steps change nothing.
"""

from collections import defaultdict
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from inventory import selectors, services
from inventory.choices import SourceType, Tracking
from inventory.exceptions import InsufficientStock, InvalidMovement
from inventory.models import InventoryTransaction, OnHand, Reservation
from inventory.services import JournalLineInput, Source
from mesproject.actors import Actor

from .factories import ItemFactory, LocationFactory, SiteFactory, UnitFactory, WarehouseFactory

D = Decimal
ZERO = D(0)
ACTOR = Actor(process="hypothesis")
SRC = Source(SourceType.REGISTRATION, "h")
ORDERS = ("WO-1", "WO-2")
LOTS = ("A", "B")

ITEM = st.integers(min_value=0, max_value=2)
LOCATION = st.integers(min_value=0, max_value=2)
ORDER = st.sampled_from(ORDERS)
LOT = st.sampled_from(LOTS)
UNITS = st.integers(min_value=1, max_value=30)
LINE = st.integers(min_value=0, max_value=3)


class World:
    """Master data shared by every example (created once, outside the rolled-back steps)."""

    def __init__(self):
        pcs = UnitFactory(code="PCS", decimal_places=0)
        kg = UnitFactory(code="KG", decimal_places=3)
        site = SiteFactory(code="HS")
        warehouse = WarehouseFactory(site=site, code="HW")
        self.site = site
        self.items = [
            ItemFactory(part_number="H-BOLT", unit=pcs),
            ItemFactory(part_number="H-NEG", unit=pcs, allow_negative_stock=True),
            ItemFactory(part_number="H-RESIN", unit=kg, tracking=Tracking.LOT),
        ]
        self.locations = [
            LocationFactory(warehouse=warehouse, code="H1"),
            LocationFactory(warehouse=warehouse, code="H2"),
            LocationFactory(warehouse=warehouse, code="HFLOOR", allow_negative_stock=True),
        ]


def quantity(item_index: int, units: int) -> Decimal:
    # Kilograms get three decimals (units / 8 has up to 3), pieces are whole.
    return D(units) / 8 if item_index == 2 else D(units)


class LedgerMachine(RuleBasedStateMachine):
    world: World
    checks = 0  # invariant passes over the whole run: one per step, plus one per example
    outcomes: dict[str, int] = defaultdict(int)

    def __init__(self):
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.on_hand: dict[tuple, Decimal] = defaultdict(Decimal)
        self.lots: set[str] = set()
        self.reserved: dict[str, Decimal] = {}  # reservation source id -> open
        self.reservation_order: list[str] = []  # creation order (relief goes oldest first)
        self.wip: dict[tuple, Decimal] = defaultdict(Decimal)
        self.steps = 0

    def teardown(self):
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    # --- helpers --------------------------------------------------------------------------

    def lot_for(self, item: int, lot: str) -> str | None:
        return lot if item == 2 else None

    def key(self, item: int, lot: str | None, location: int) -> tuple:
        return (item, lot, location)

    def allowed_negative(self, item: int, location: int) -> bool:
        return item == 1 or location == 2

    def refuses(self, changes: dict[tuple, Decimal]) -> bool:
        return any(
            net < 0 and self.on_hand[key] + net < 0 and not self.allowed_negative(key[0], key[2])
            for key, net in changes.items()
        )

    def relieve(self, order: str, item: int, amount: Decimal) -> None:
        for source in self.reservation_order:
            line_item, line_order = LINES[int(source)]
            if (line_item, line_order) != (item, order) or self.reserved[source] <= 0:
                continue
            take = min(self.reserved[source], amount)
            self.reserved[source] -= take
            amount -= take
            if amount <= 0:
                return

    def refused(self, error):
        LedgerMachine.outcomes["refused"] += 1
        return pytest.raises(error)

    def post(self, kind, item, units, location, lot, **kwargs):
        LedgerMachine.outcomes["movements"] += 1
        w = self.world
        q = quantity(item, units)
        lot = self.lot_for(item, lot)
        return getattr(services, kind)(
            item=w.items[item],
            quantity=q,
            location=w.locations[location],
            lot=lot,
            source=SRC,
            actor=ACTOR,
            **kwargs,
        )

    # --- rules ----------------------------------------------------------------------------

    @initialize()
    def start(self):
        assert not InventoryTransaction.objects.exists()

    @rule(item=ITEM, location=LOCATION, units=UNITS, lot=LOT)
    def receive(self, item, location, units, lot):
        self.post("inventory_receive", item, units, location, lot)
        self.on_hand[self.key(item, self.lot_for(item, lot), location)] += quantity(item, units)
        if item == 2:
            self.lots.add(lot)

    @rule(item=ITEM, location=LOCATION, units=UNITS, lot=LOT, order=ORDER)
    def issue(self, item, location, units, lot, order):
        key = self.key(item, self.lot_for(item, lot), location)
        q = quantity(item, units)
        if item == 2 and lot not in self.lots:
            with self.refused(InvalidMovement):
                self.post("inventory_issue", item, units, location, lot, order_ref=order)
            return
        if self.refuses({key: -q}):
            with self.refused(InsufficientStock):
                self.post("inventory_issue", item, units, location, lot, order_ref=order)
            return
        self.post("inventory_issue", item, units, location, lot, order_ref=order)
        self.on_hand[key] -= q
        self.wip[(order, item)] += q
        self.relieve(order, item, q)

    @rule(item=ITEM, location=LOCATION, units=UNITS, lot=LOT, order=ORDER)
    def give_back(self, item, location, units, lot, order):
        if item == 2 and lot not in self.lots:
            return
        self.post("inventory_return", item, units, location, lot, order_ref=order)
        self.on_hand[self.key(item, self.lot_for(item, lot), location)] += quantity(item, units)
        self.wip[(order, item)] -= quantity(item, units)

    @rule(item=ITEM, location=LOCATION, units=UNITS, lot=LOT)
    def scrap(self, item, location, units, lot):
        if item == 2 and lot not in self.lots:
            return
        key = self.key(item, self.lot_for(item, lot), location)
        q = quantity(item, units)
        if self.refuses({key: -q}):
            with self.refused(InsufficientStock):
                self.post("inventory_scrap", item, units, location, lot, reason="damaged")
            return
        self.post("inventory_scrap", item, units, location, lot, reason="damaged")
        self.on_hand[key] -= q

    @rule(item=ITEM, source=LOCATION, dest=LOCATION, units=UNITS, lot=LOT)
    def transfer(self, item, source, dest, units, lot):
        if source == dest or (item == 2 and lot not in self.lots):
            return
        w, q, lot = self.world, quantity(item, units), self.lot_for(item, lot)
        out_key, in_key = self.key(item, lot, source), self.key(item, lot, dest)

        def call():
            services.inventory_transfer(
                item=w.items[item],
                quantity=q,
                from_location=w.locations[source],
                to_location=w.locations[dest],
                lot=lot,
                source=SRC,
                actor=ACTOR,
            )

        if self.refuses({out_key: -q}):
            with self.refused(InsufficientStock):
                call()
            return
        call()
        self.on_hand[out_key] -= q
        self.on_hand[in_key] += q

    @rule(line=LINE, units=st.integers(min_value=0, max_value=40))
    def reserve(self, line, units):
        item, order = LINES[line]
        target = quantity(item, units)
        services.reservation_set(
            item=self.world.items[item],
            site=self.world.site,
            quantity=target,
            order_ref=order,
            source=Source(SourceType.ORDER_MATERIAL, str(line)),
            actor=ACTOR,
        )
        if str(line) not in self.reserved:
            self.reservation_order.append(str(line))
        self.reserved[str(line)] = target

    @rule(order=ORDER)
    def free_order(self, order):
        freed = services.reservation_free_for_order(order_ref=order, actor=ACTOR)
        expected = ZERO
        for source, open_qty in self.reserved.items():
            if LINES[int(source)][1] == order:
                expected += open_qty
                self.reserved[source] = ZERO
        assert freed == expected

    @rule(
        lines=st.lists(
            st.tuples(ITEM, LOCATION, st.integers(min_value=-30, max_value=30), LOT),
            min_size=1,
            max_size=3,
        )
    )
    def adjust(self, lines):
        w = self.world
        inputs, changes = [], defaultdict(Decimal)
        for item, location, units, lot in lines:
            if units == 0:
                continue
            if item == 2 and lot not in self.lots and units < 0:
                units = -units
            q = quantity(item, abs(units)) * (1 if units > 0 else -1)
            lot = self.lot_for(item, lot)
            inputs.append(
                JournalLineInput(
                    item=w.items[item], location=w.locations[location], quantity=q, lot=lot
                )
            )
            changes[self.key(item, lot, location)] += q
        if not inputs:
            return
        journal = services.adjustment_journal_create(reason="count", lines=inputs, actor=ACTOR)
        self.lots.update(line.lot for line in inputs if line.lot)
        if self.refuses(changes):
            with self.refused(InsufficientStock):
                services.adjustment_journal_post(journal=journal, actor=ACTOR)
            return
        services.adjustment_journal_post(journal=journal, actor=ACTOR)
        for key, net in changes.items():
            self.on_hand[key] += net

    @rule(item=ITEM, location=LOCATION)
    def bad_decimals(self, item, location):
        with self.refused(InvalidMovement):
            services.inventory_receive(
                item=self.world.items[item],
                quantity=D("1.00001"),
                location=self.world.locations[location],
                lot=self.lot_for(item, "A"),
                source=SRC,
                actor=ACTOR,
            )

    # --- invariants -----------------------------------------------------------------------

    @invariant()
    def ledger_explains_every_balance(self):
        LedgerMachine.checks += 1
        report = services.inventory_verify()
        assert report.ok, [str(d) for d in report.differences] + report.problems

    @invariant()
    def balances_match_the_model(self):
        w = self.world
        actual = {
            (
                w.items.index(next(i for i in w.items if i.pk == row.item_id)),
                row.lot.number if row.lot_id else None,
                w.locations.index(next(loc for loc in w.locations if loc.pk == row.location_id)),
            ): row.quantity
            for row in OnHand.objects.select_related("lot")
        }
        expected = {k: v for k, v in self.on_hand.items() if v != 0}
        assert {k: v for k, v in actual.items() if v != 0} == expected
        for (item, _, location), value in actual.items():
            assert value >= 0 or self.allowed_negative(item, location)

    @invariant()
    def reservations_never_below_zero(self):
        assert not Reservation.objects.filter(quantity_open__lt=0).exists()
        actual = dict(Reservation.objects.values_list("source_id", "quantity_open"))
        assert actual == self.reserved

    @invariant()
    def wip_matches(self):
        w = self.world
        actual = {
            (b.order_ref, w.items.index(next(i for i in w.items if i.pk == b.item_id))): b.balance
            for b in selectors.wip_balances()
        }
        assert {k: v for k, v in actual.items() if v} == {k: v for k, v in self.wip.items() if v}


# Reservation source line -> (item index, order): fixed, as order material lines are.
LINES = {0: (0, "WO-1"), 1: (2, "WO-1"), 2: (0, "WO-2"), 3: (1, "WO-2")}


@pytest.mark.django_db
def test_ledger_invariants_hold_under_random_operations():
    LedgerMachine.world = World()
    LedgerMachine.checks = 0
    LedgerMachine.outcomes.clear()
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=60,
            stateful_step_count=60,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
    # Thousands of steps in total, and the refusals were exercised as well as the postings.
    assert LedgerMachine.checks >= 2000, LedgerMachine.checks
    assert LedgerMachine.outcomes["refused"] > 50, dict(LedgerMachine.outcomes)
    assert LedgerMachine.outcomes["movements"] > 500, dict(LedgerMachine.outcomes)
    print(f"ledger machine: {LedgerMachine.checks} checks, {dict(LedgerMachine.outcomes)}")
