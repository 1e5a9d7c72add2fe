"""The nightly ERP-vs-MES WIP reconciliation: snapshot intake, comparison, adjustments,
concurrency, query counts, and the API, pages, admin action, task and command around it.

WIP is built the real way: stock received and issued to released orders through the
inventory services, so the ledger (and wip_balances) is what the run reads.
"""

import threading
import time
import uuid
from decimal import Decimal
from io import StringIO

import pytest
from django.contrib.admin import AdminSite
from django.contrib.auth.models import Group, Permission, User
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from integration.choices import MessageKind, MessageStatus, NotificationKind, RunStatus
from integration.erp.services.outbox import material_issues_flush
from integration.models import (
    ErpWipLine,
    ErpWipSnapshot,
    MaterialIssueBatch,
    Notification,
    OutboxMessage,
    ReconciliationRun,
    ReconciliationVariance,
)
from integration.reconciliation.admin import RUN_NOW, ReconciliationRunAdmin
from integration.reconciliation.services import (
    NO_SNAPSHOT,
    erp_wip_snapshot_receive,
    reconciliation_run,
)
from integration.reconciliation.tasks import reconcile_wip_nightly, reconcile_wip_now
from inventory.choices import JournalStatus, SourceType, TransactionKind
from inventory.models import AdjustmentJournal, InventoryTransaction, UnitConversion
from inventory.selectors import wip_balances
from inventory.services import (
    MovementInput,
    Source,
    inventory_issue,
    inventory_issue_many,
    inventory_receive,
)
from mesproject.actors import Actor
from mesproject.errors import ApplicationError
from mesproject.roles import ERP_INTEGRATION
from orders.choices import OrderStatus
from tests.api import new_key, token_client
from tests.factories import (
    ItemFactory,
    LocationFactory,
    UnitOfMeasureFactory,
    WarehouseFactory,
    advance_order,
    make_order,
    make_releasable_product,
)

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.integration.reconciliation_urls")]

D = Decimal
ACTOR = Actor(process="tests")
SOURCE = Source(SourceType.MANUAL, "test")


# --- Building WIP ---------------------------------------------------------------------------


class Floor:
    """One site: a product whose orders are released, a stock location, WIP by issues."""

    def __init__(self):
        self.product = make_releasable_product()
        self.location = LocationFactory(warehouse=WarehouseFactory(site=self.product.site))
        self.components = [line.component for line in self.product.bom.lines.order_by("pk")]

    def order(self, status=OrderStatus.RELEASED):
        return advance_order(make_order(self.product), status)

    def receive(self, item, quantity, location=None):
        inventory_receive(
            item=item,
            quantity=D(quantity),
            location=location or self.location,
            source=SOURCE,
            actor=ACTOR,
        )

    def issue(self, order, item, quantity, *, stock_left=0, reported=True):
        """Issue to the order, after receiving what it takes (plus stock_left); reported: the
        ERP has received the material-issue message (else it waits in the outbox)."""
        self.receive(item, D(quantity) + D(stock_left))
        inventory_issue(
            item=item,
            quantity=D(quantity),
            location=self.location,
            order_ref=order.number,
            source=SOURCE,
            actor=ACTOR,
        )
        if reported:
            report_to_erp(order)


def report_to_erp(order):
    """What the relay does when the ERP answers: the order's material issues delivered."""
    material_issues_flush(order=order)
    OutboxMessage.objects.filter(
        order=order, kind=MessageKind.MATERIAL_ISSUE, status=MessageStatus.PENDING
    ).update(status=MessageStatus.DELIVERED, delivered_at=timezone.now())


@pytest.fixture
def floor(db):
    return Floor()


def snapshot(*lines, as_of=None):
    """An ERP snapshot of (order or wo_id, item or part, quantity) lines."""
    return erp_wip_snapshot_receive(
        as_of=as_of or timezone.now(),
        lines=[
            {
                "wo_id": getattr(order, "number", order),
                "component_part": getattr(item, "part_number", item),
                "quantity": str(quantity),
            }
            for order, item, quantity in lines
        ],
        user=None,
    )


def wip(order) -> dict[str, Decimal]:
    return {w.part_number: w.balance for w in wip_balances(order_refs=[order.number])}


def run(**kwargs):
    return reconciliation_run(trigger="command", actor_label="process:tests", **kwargs)


def journals():
    return AdjustmentJournal.objects.filter(reason_code="WIPREC")


# --- Snapshot intake ------------------------------------------------------------------------


def test_snapshot_stores_every_line_and_counts_them(db):
    received = snapshot(("WO-1", "BOLT", "12.5"), ("WO-1", "NUT", 0), ("WO-2", "BOLT", "3"))

    assert received.line_count == 3
    assert sorted(received.lines.values_list("wo_id", "component_part", "quantity")) == [
        ("WO-1", "BOLT", D("12.5")),
        ("WO-1", "NUT", D("0")),
        ("WO-2", "BOLT", D("3")),
    ]


@pytest.mark.parametrize(
    ("line", "field", "code"),
    [
        ({"wo_id": "WO-1", "component_part": "BOLT", "quantity": "-1"}, "quantity", "invalid_line"),
        ({"wo_id": "WO-1", "component_part": "BOLT", "quantity": 1.5}, "quantity", "invalid_line"),
        ({"wo_id": "WO-1", "component_part": "BOLT", "quantity": "x"}, "quantity", "invalid_line"),
        (
            {"wo_id": "WO-1", "component_part": "BOLT", "quantity": "0.0000001"},
            "quantity",
            "invalid_line",
        ),
        ({"wo_id": " ", "component_part": "BOLT", "quantity": "1"}, "wo_id", "invalid_line"),
        (
            {"wo_id": "WO-1", "component_part": "", "quantity": "1"},
            "component_part",
            "invalid_line",
        ),
    ],
)
def test_snapshot_with_a_bad_value_is_refused_whole(db, line, field, code):
    good = {"wo_id": "WO-0", "component_part": "BOLT", "quantity": "1"}

    with pytest.raises(ApplicationError) as refused:
        erp_wip_snapshot_receive(as_of=timezone.now(), lines=[good, line], user=None)

    assert refused.value.code == code
    assert f"lines[1].{field}" in refused.value.fields
    assert not ErpWipSnapshot.objects.exists()
    assert not ErpWipLine.objects.exists()


def test_snapshot_with_a_pair_twice_is_refused(db):
    with pytest.raises(ApplicationError) as refused:
        snapshot(("WO-1", "BOLT", 1), ("WO-2", "BOLT", 1), (" WO-1", "BOLT ", 2))

    assert refused.value.code == "duplicate_line"
    assert refused.value.fields == {"lines[2]": "same wo_id and component_part as lines[0]"}
    assert not ErpWipSnapshot.objects.exists()


# --- The comparison -------------------------------------------------------------------------


def test_variance_within_either_threshold_writes_nothing(floor, settings):
    settings.MES_RECONCILIATION_THRESHOLD_QTY = "0.5"
    settings.MES_RECONCILIATION_THRESHOLD_PCT = "1"
    order = floor.order()
    big, small, same = floor.components
    floor.issue(order, big, 1000)
    floor.issue(order, same, 7)
    # 5 on 1000 is 0.5 %: a rounding difference on a big balance. 0.4 on nothing is 100 %
    # but below 0.5 units: noise on a tiny one.
    received = snapshot((order, big, 1005), (order, small, "0.4"), (order, same, 7))

    done = run(snapshot=received)

    assert (done.status, done.pairs_total, done.pairs_done) == (RunStatus.DONE, 3, 3)
    assert done.variances_flagged == 0
    assert done.adjustment_journal is None
    assert not ReconciliationVariance.objects.exists()
    assert not journals().exists()
    assert not Notification.objects.exists()
    assert done.finished_at is not None


def test_variance_beyond_threshold_is_booked_to_match_the_erp(floor):
    order = floor.order()
    short, over, _ = floor.components
    floor.issue(order, short, 10, stock_left=5)
    floor.issue(order, over, 10)
    received = snapshot((order, short, 12), (order, over, 7))

    done = run(snapshot=received)

    assert (done.status, done.pairs_total, done.variances_flagged) == (RunStatus.DONE, 2, 2)
    variances = {v.component_part: v for v in done.variances.all()}
    assert (
        variances[short.part_number].erp_quantity,
        variances[short.part_number].mes_quantity,
        variances[short.part_number].variance,
        variances[short.part_number].variance_pct,
    ) == (D(12), D(10), D(2), D("16.6667"))
    assert variances[over.part_number].variance == D(-3)
    assert all(v.adjusted and v.audit_flag and not v.note for v in variances.values())

    journal = done.adjustment_journal
    assert journal.status == JournalStatus.POSTED
    assert journal.audit_flag
    assert (journal.reason, journal.reason_code) == (f"WIP reconciliation run {done.pk}", "WIPREC")
    lines = {line.item.part_number: line for line in journal.lines.all()}
    assert (lines[short.part_number].quantity, lines[over.part_number].quantity) == (D(-2), D(3))
    assert {line.order_ref for line in lines.values()} == {order.number}
    assert {line.location for line in lines.values()} == {floor.location}

    assert wip(order) == {short.part_number: D(12), over.part_number: D(7)}

    notes = Notification.objects.order_by("role")
    assert [(n.role, n.kind) for n in notes] == [
        ("it", NotificationKind.RECONCILIATION),
        ("supervisor", NotificationKind.RECONCILIATION),
    ]
    assert notes[0].link == reverse("integration-pages:reconciliation-detail", args=[done.pk])
    assert "2 variance(s)" in notes[0].title


def test_pair_on_one_side_only_counts_zero_on_the_other(floor):
    order = floor.order()
    erp_only, mes_only, _ = floor.components
    floor.issue(order, mes_only, 6)
    # The ERP's pair has no issue in the ledger: the line goes to the input location of the
    # resource of the order's first operation.
    line_in = LocationFactory(warehouse=floor.location.warehouse)
    first = order.route.operations.order_by("operation_number").first().resource
    first.input_location = line_in
    first.save()
    floor.receive(erp_only, 10, line_in)
    # WIP of an order that is not released is not compared unless the ERP lists it.
    created = floor.order(OrderStatus.CREATED)
    floor.issue(created, mes_only, 2)
    received = snapshot((order, erp_only, 4))

    done = run(snapshot=received)

    assert done.pairs_total == 2
    variances = {v.component_part: v for v in done.variances.all()}
    assert (
        variances[erp_only.part_number].erp_quantity,
        variances[erp_only.part_number].mes_quantity,
    ) == (D(4), D(0))
    assert (
        variances[mes_only.part_number].erp_quantity,
        variances[mes_only.part_number].mes_quantity,
    ) == (D(0), D(6))
    assert all(v.adjusted for v in variances.values())
    locations = dict(done.adjustment_journal.lines.values_list("item__part_number", "location_id"))
    assert locations == {erp_only.part_number: line_in.pk, mes_only.part_number: floor.location.pk}
    assert wip(order) == {erp_only.part_number: D(4), mes_only.part_number: D(0)}
    assert wip(created) == {mes_only.part_number: D(2)}


def test_variance_that_cannot_be_booked_is_flagged_with_the_reason(floor):
    order = floor.order()
    component, fine, _ = floor.components
    floor.issue(order, fine, 5, stock_left=5)
    received = snapshot(
        ("WO-NOT-HERE", component, 3),  # an order the MES does not know
        (order, "PART-NOT-HERE", 3),  # a part the MES does not know
        (order, component, 3),  # no issue, no input location on the first resource
        (order, fine, "7.5"),  # pieces: no decimals
    )

    done = run(snapshot=received)

    assert done.variances_flagged == 4
    notes = {(v.wo_id, v.component_part): (v.adjusted, v.note) for v in done.variances.all()}
    assert notes[("WO-NOT-HERE", component.part_number)] == (
        False,
        "no location to adjust at (order unknown in the MES): not adjusted",
    )
    assert notes[(order.number, "PART-NOT-HERE")] == (
        False,
        "part PART-NOT-HERE is unknown in the MES: not adjusted",
    )
    assert notes[(order.number, component.part_number)][0] is False
    assert "no input location" in notes[(order.number, component.part_number)][1]
    assert notes[(order.number, fine.part_number)][0] is False
    assert "more decimals" in notes[(order.number, fine.part_number)][1]
    assert done.adjustment_journal is None
    assert not journals().exists()


def test_what_waits_to_be_reported_is_not_a_variance(floor):
    order = floor.order()
    component, _, _ = floor.components
    floor.issue(order, component, 10)  # the ERP has these
    floor.issue(order, component, 2, reported=False)
    material_issues_flush(order=order)  # a pending message of 2
    floor.issue(order, component, 3, reported=False)
    material_issues_flush(order=order)
    dead = OutboxMessage.objects.filter(status=MessageStatus.PENDING).order_by("sequence").last()
    OutboxMessage.objects.filter(pk=dead.pk).update(status=MessageStatus.DEAD_LETTER)
    floor.issue(order, component, 1, reported=False)  # still in its batch
    assert MaterialIssueBatch.objects.get().quantity == D(1)
    received = snapshot((order, component, 10))

    done = run(snapshot=received)

    assert (done.pairs_total, done.variances_flagged) == (1, 0)
    assert not journals().exists()
    assert wip(order) == {component.part_number: D(16)}


def test_insufficient_stock_leaves_the_journal_as_a_draft(floor):
    order = floor.order()
    component, _, _ = floor.components
    floor.issue(order, component, 10)  # nothing left at the location
    received = snapshot((order, component, 15))

    done = run(snapshot=received)

    assert done.status == RunStatus.DONE
    assert done.variances_flagged == 1
    journal = done.adjustment_journal
    assert journal.status == JournalStatus.DRAFT
    assert journal.audit_flag
    assert journal.lines.get().quantity == D(-5)
    variance = done.variances.get()
    assert variance.adjusted is False
    assert variance.note.startswith("journal left as draft: Not enough")
    assert wip(order) == {component.part_number: D(10)}
    assert not InventoryTransaction.objects.filter(kind=TransactionKind.ADJUSTMENT).exists()


def test_the_same_night_twice_writes_one_set_of_adjustments(floor):
    order = floor.order()
    component, _, _ = floor.components
    floor.issue(order, component, 10, stock_left=10)
    snapshot((order, component, 14))

    first = run()
    second = run()

    assert (first.variances_flagged, second.variances_flagged) == (1, 0)
    assert second.snapshot_id == first.snapshot_id
    assert second.adjustment_journal is None
    assert journals().count() == 1
    assert Notification.objects.count() == 2
    assert wip(order) == {component.part_number: D(14)}


def test_without_a_snapshot_the_run_says_so(db):
    done = run()

    assert (done.status, done.pairs_total, done.snapshot) == (RunStatus.DONE, 0, None)
    assert done.error == NO_SNAPSHOT


def test_a_crash_marks_the_run_failed_and_propagates(floor):
    order = floor.order()
    component, _, _ = floor.components
    floor.issue(order, component, 10)
    received = snapshot((order, component, 10))

    def crash(done, total):
        raise RuntimeError("worker lost")

    with pytest.raises(RuntimeError):
        run(snapshot=received, on_progress=crash)

    failed = ReconciliationRun.objects.get()
    assert failed.status == RunStatus.FAILED
    assert failed.error == "RuntimeError: worker lost"
    assert failed.finished_at is not None


def test_progress_is_reported_every_5000_pairs_and_at_the_end(db):
    received = snapshot(*[(f"WO-{n}", "BOLT", 0) for n in range(12000)])
    calls = []

    done = run(snapshot=received, on_progress=lambda d, t: calls.append((d, t)))

    assert done.pairs_total == 12000
    assert calls == [(5000, 12000), (10000, 12000), (12000, 12000)]


# --- Two runs at once -----------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_write_one_journal(floor):
    order = floor.order()
    component, _, _ = floor.components
    floor.issue(order, component, 10, stock_left=10)
    snapshot((order, component, 13))
    barrier = threading.Barrier(2)
    runs, errors = [], []

    def night():
        try:
            barrier.wait(timeout=10)
            # Slow down the comparison so the other run arrives while this one holds the lock.
            runs.append(run(on_progress=lambda done, total: time.sleep(0.5)))
        except Exception as error:  # reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=night) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert sorted(r.variances_flagged for r in runs) == [0, 1]
    assert journals().count() == 1
    assert ReconciliationVariance.objects.count() == 1
    assert wip(order) == {component.part_number: D(13)}


# --- Query counts ---------------------------------------------------------------------------


class Pairs:
    """Released orders with 10 components each, issued at a location allowing negative stock
    (so a test builds hundreds of pairs without receipts); every pair's MES WIP is 10."""

    def __init__(self):
        self.product = make_releasable_product(lines=1)
        self.location = LocationFactory(allow_negative_stock=True)
        pcs = UnitOfMeasureFactory()
        self.items = [ItemFactory(unit=pcs) for _ in range(10)]
        self.orders = []

    def add_orders(self, count):
        for _ in range(count):
            order = advance_order(make_order(self.product), OrderStatus.RELEASED)
            inventory_issue_many(
                lines=[
                    MovementInput(item=item, quantity=D(10), location=self.location)
                    for item in self.items
                ],
                order_ref=order.number,
                source=SOURCE,
                actor=ACTOR,
            )
            report_to_erp(order)
            self.orders.append(order)

    def snapshot(self, quantity=10, **special):
        """Every pair at quantity, except the pairs at the given indexes: {"i3": 15}."""
        pairs = [(order, item) for order in self.orders for item in self.items]
        return snapshot(
            *[
                (order, item, special.get(f"i{index}", quantity))
                for index, (order, item) in enumerate(pairs)
            ]
        )


def _queries(received) -> tuple[int, ReconciliationRun]:
    with CaptureQueriesContext(connection) as captured:
        done = run(snapshot=received)
    return len(captured), done


def test_queries_do_not_grow_with_the_pairs_compared(db):
    pairs = Pairs()
    pairs.add_orders(1)
    few, few_run = _queries(pairs.snapshot())
    pairs.add_orders(29)
    many, many_run = _queries(pairs.snapshot())

    print(f"reconciliation within threshold: {few} queries for 10 pairs, {many} for 300")
    assert (few_run.pairs_total, many_run.pairs_total) == (10, 300)
    assert few_run.variances_flagged == many_run.variances_flagged == 0
    assert few == many


def test_flagged_lines_cost_the_same_whatever_the_pairs_compared(db):
    """With variances the count grows only with the flagged lines, inside the inventory
    journal services (adjustment_journal_create / _post save and post line by line)."""
    pairs = Pairs()
    pairs.add_orders(1)
    first_five = {f"i{index}": 15 for index in range(5)}
    few, few_run = _queries(pairs.snapshot(**first_five))
    pairs.add_orders(29)
    # The first five now match; five others differ.
    many, many_run = _queries(
        pairs.snapshot(**first_five, **{f"i{index}": 20 for index in range(100, 105)})
    )
    all_flagged, all_run = _queries(pairs.snapshot(30, **first_five))

    print(
        f"reconciliation, 5 flagged: {few} queries among 10 pairs, {many} among 300; "
        f"all 295 others flagged: {all_flagged}"
    )
    assert (few_run.variances_flagged, many_run.variances_flagged) == (5, 5)
    assert few == many
    assert all_run.variances_flagged == 295
    assert all_run.adjustment_journal.status == JournalStatus.POSTED


# --- The snapshot API -----------------------------------------------------------------------


@pytest.fixture
def erp_user(db):
    user = User.objects.create_user("erp")
    user.groups.add(Group.objects.get_or_create(name=ERP_INTEGRATION)[0])
    user.user_permissions.add(Permission.objects.get(codename="add_erpwipsnapshot"))
    return user


def post_snapshot(client, body):
    return client.post(reverse("integration:erp-wip"), body, format="json", headers=new_key())


BODY = {
    "as_of": "2026-01-15T02:00:00+01:00",
    "lines": [
        {"wo_id": "WO-1", "component_part": "BOLT", "quantity": "12.5", "uom": "PCS"},
        {"wo_id": "WO-1", "component_part": "NUT", "quantity": "0"},
    ],
}


def test_api_stores_a_snapshot(erp_user):
    UnitOfMeasureFactory(code="PCS")  # a line's unit must exist (BOLT is unknown here)
    response = post_snapshot(token_client(erp_user), BODY)

    assert response.status_code == 201, response.json()
    received = ErpWipSnapshot.objects.get()
    assert response.json() == {
        "id": received.pk,
        "as_of": response.json()["as_of"],
        "line_count": 2,
    }
    assert received.received_by == erp_user
    assert received.as_of.isoformat() == "2026-01-15T01:00:00+00:00"
    assert dict(received.lines.values_list("component_part", "uom")) == {"BOLT": "PCS", "NUT": ""}


def test_api_refuses_a_number_where_the_contract_says_decimal_string(erp_user):
    # The schema says "quantity": string; DRF would take 290287 as "290287" (found by the
    # schema fuzz): a body of the wrong type is refused like any other, and stores nothing.
    body = {**BODY, "lines": [{"wo_id": "WO-1", "component_part": "NUT", "quantity": 290287}]}
    response = post_snapshot(token_client(erp_user), body)

    assert response.status_code == 400, response.json()
    assert response.json()["code"] == "invalid"
    assert "lines" in response.json()["fields"]
    assert not ErpWipSnapshot.objects.exists()


def test_api_replay_stores_one_snapshot(erp_user):
    UnitOfMeasureFactory(code="PCS")
    client, key = token_client(erp_user), new_key()
    url = reverse("integration:erp-wip")

    first = client.post(url, BODY, format="json", headers=key)
    again = client.post(url, BODY, format="json", headers=key)

    assert (first.status_code, again.status_code) == (201, 201)
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert ErpWipSnapshot.objects.count() == 1


@pytest.mark.parametrize(
    ("lines", "code", "field"),
    [
        (
            [
                {"wo_id": "WO-1", "component_part": "BOLT", "quantity": "1"},
                {"wo_id": "WO-1", "component_part": "BOLT", "quantity": "2"},
            ],
            "duplicate_line",
            "lines[1]",
        ),
        (
            [{"wo_id": "WO-1", "component_part": "BOLT", "quantity": "-1"}],
            "invalid_line",
            "lines[0].quantity",
        ),
        ([{"wo_id": "WO-1", "component_part": "BOLT"}], "invalid", "lines"),
    ],
)
def test_api_refuses_bad_lines_and_stores_nothing(erp_user, lines, code, field):
    response = post_snapshot(token_client(erp_user), {"as_of": BODY["as_of"], "lines": lines})

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == code
    assert field in body["fields"]
    assert body["message"]
    assert not ErpWipSnapshot.objects.exists()


def test_api_needs_the_permission(db):
    nobody = User.objects.create_user("nobody")
    nobody.groups.add(Group.objects.get_or_create(name=ERP_INTEGRATION)[0])  # the role only
    response = post_snapshot(token_client(nobody), BODY)

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert not ErpWipSnapshot.objects.exists()


def test_api_needs_credentials(db):
    response = post_snapshot(APIClient(), BODY)

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


# --- Snapshot lines in another unit --------------------------------------------------------


def test_a_line_in_another_unit_is_stored_in_the_items_unit(db):
    grams = UnitOfMeasureFactory(code="g", decimal_places=0)
    kilograms = UnitOfMeasureFactory(code="kg", decimal_places=3)
    boxes = UnitOfMeasureFactory(code="box")
    pieces = UnitOfMeasureFactory(code="pcs")
    UnitConversion.objects.create(from_unit=kilograms, to_unit=grams, factor=D("1000"))
    paint = ItemFactory(part_number="PAINT", unit=grams)
    bolt = ItemFactory(part_number="BOLT", unit=pieces)
    # Item-specific, read backwards: 1 pcs = 0.02 box of this bolt.
    UnitConversion.objects.create(from_unit=pieces, to_unit=boxes, factor=D("0.02"), item=bolt)

    received = erp_wip_snapshot_receive(
        as_of=timezone.now(),
        lines=[
            {"wo_id": "WO-1", "component_part": paint.part_number, "quantity": "2.5", "uom": "kg"},
            {"wo_id": "WO-1", "component_part": bolt.part_number, "quantity": "3", "uom": "box"},
            {"wo_id": "WO-1", "component_part": "NUT", "quantity": "4", "uom": "pcs"},
        ],
        user=None,
    )

    assert sorted(received.lines.values_list("component_part", "quantity", "uom")) == [
        ("BOLT", D("150"), "pcs"),
        ("NUT", D("4"), "pcs"),  # unknown part: kept as sent, the run notes it
        ("PAINT", D("2500"), "g"),
    ]


def test_the_run_compares_a_line_in_another_unit_in_the_items_unit(floor):
    order = floor.order()
    component = floor.components[0]
    boxes = UnitOfMeasureFactory(code="box")
    UnitConversion.objects.create(
        from_unit=boxes, to_unit=component.unit, factor=D("8"), item=component
    )
    floor.issue(order, component, 4)
    erp_wip_snapshot_receive(
        as_of=timezone.now(),
        lines=[
            {
                "wo_id": order.number,
                "component_part": component.part_number,
                "quantity": "0.5",
                "uom": "box",
            }
        ],
        user=None,
    )

    result = run()

    assert not ReconciliationVariance.objects.filter(run=result).exists()
    assert wip(order)[component.part_number] == D("4")


@pytest.mark.parametrize(
    ("uom", "code"),
    [("furlong", "unit_unknown"), ("m", "no_conversion")],
)
def test_api_refuses_a_line_in_a_unit_it_cannot_convert_and_stores_nothing(erp_user, uom, code):
    UnitOfMeasureFactory(code="m", decimal_places=3)
    bolt = ItemFactory(part_number="BOLT", unit=UnitOfMeasureFactory(code="pcs"))
    lines = [
        {"wo_id": "WO-1", "component_part": bolt.part_number, "quantity": "1", "uom": "pcs"},
        {"wo_id": "WO-2", "component_part": bolt.part_number, "quantity": "2", "uom": uom},
    ]

    response = post_snapshot(token_client(erp_user), {"as_of": BODY["as_of"], "lines": lines})

    assert response.status_code == 422, response.json()
    body = response.json()
    assert body["code"] == code
    assert list(body["fields"]) == ["lines[1].uom"]
    assert uom in body["fields"]["lines[1].uom"] and uom in body["message"]
    assert not ErpWipSnapshot.objects.exists()


# --- Browser pages --------------------------------------------------------------------------


def page_user(*codenames):
    user = User.objects.create_user(f"user-{uuid.uuid4().hex[:8]}")
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return user


LIST = "integration-pages:reconciliation-list"


def test_pages_show_runs_and_variances(client, floor):
    order = floor.order()
    component, _, _ = floor.components
    floor.issue(order, component, 10, stock_left=10)
    snapshot((order, component, "12"))
    done = run()
    client.force_login(page_user("view_reconciliationrun", "view_adjustmentjournal"))

    listing = client.get(reverse(LIST))
    detail = client.get(reverse("integration-pages:reconciliation-detail", args=[done.pk]))

    assert listing.status_code == 200
    assert list(listing.context["page"]) == [done]
    assert b"Run reconciliation now" not in listing.content
    assert detail.status_code == 200
    content = detail.content.decode()
    assert order.number in content and component.part_number in content
    journal_url = reverse(
        "admin:inventory_adjustmentjournal_change", args=[done.adjustment_journal_id]
    )
    assert journal_url in content
    assert ">12<" in content  # 12, not 12.000000


def test_run_list_queries_do_not_grow_with_the_runs(client, db):
    client.force_login(page_user("view_reconciliationrun"))
    snap = snapshot(("WO-1", "BOLT", 1))

    def make_runs(count):
        for _ in range(count):
            ReconciliationRun.objects.create(
                snapshot=snap, trigger="beat", started_by="process:beat", started_at=timezone.now()
            )

    def count():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse(LIST)).status_code == 200
        return len(captured)

    make_runs(2)
    few = count()
    make_runs(60)
    assert count() == few


def test_pages_need_the_view_permission(client, db):
    done = run()
    detail = reverse("integration-pages:reconciliation-detail", args=[done.pk])

    anonymous = client.get(reverse(LIST))
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith(reverse("login"))

    client.force_login(page_user())
    assert client.get(reverse(LIST)).status_code == 403
    assert client.get(detail).status_code == 403


@pytest.fixture
def jobs_inline():
    """Jobs started from a page run inline, as no worker runs here (tests/pages/test_it.py
    has one with a real worker); the result backend still keeps their outcome."""
    from mesproject.celery import app

    saved = app.conf.task_always_eager, app.conf.task_store_eager_result
    app.conf.task_always_eager = app.conf.task_store_eager_result = True
    yield
    app.conf.task_always_eager, app.conf.task_store_eager_result = saved


def test_run_now_runs_and_reports_the_counts(client, floor, jobs_inline):
    order = floor.order()
    component, _, _ = floor.components
    floor.issue(order, component, 10, stock_left=10)
    snapshot((order, component, 12))
    user = page_user("view_reconciliationrun", "add_reconciliationrun")
    client.force_login(user)
    assert b"Run reconciliation now" in client.get(reverse(LIST)).content

    response = client.post(reverse(LIST), follow=True)

    # The run goes to a worker; its progress page tells what it did and links the run.
    done = ReconciliationRun.objects.get()
    assert (done.trigger, done.started_by) == ("button", f"user:{user.username}")
    assert response.redirect_chain[-1][0].startswith("/it/tasks/")
    content = response.content.decode()
    assert (
        f"Reconciliation run {done.pk}: 1 pair(s) compared, 1 variance(s) flagged, "
        f"adjustment journal {done.adjustment_journal}." in content
    )
    assert reverse("integration-pages:reconciliation-detail", args=[done.pk]) in content


def test_run_now_needs_the_add_permission(client, db):
    client.force_login(page_user("view_reconciliationrun"))

    assert client.post(reverse(LIST)).status_code == 403
    assert not ReconciliationRun.objects.exists()


# --- Admin action, task, command ------------------------------------------------------------


def test_admin_action_runs_for_those_who_may_run(db):
    model_admin = ReconciliationRunAdmin(ReconciliationRun, AdminSite(name="reconciliation"))
    request = RequestFactory().post("/")
    request._messages = CookieStorage(request)
    request.user = page_user("view_reconciliationrun")
    assert RUN_NOW not in model_admin.get_actions(request)

    request.user = page_user("view_reconciliationrun", "add_reconciliationrun")
    assert RUN_NOW in model_admin.get_actions(request)
    model_admin.run_reconciliation_now(request, ReconciliationRun.objects.none())

    done = ReconciliationRun.objects.get()
    assert (done.trigger, done.started_by) == ("button", f"user:{request.user.username}")
    assert not model_admin.has_change_permission(request, done)


def test_tasks_run_the_service(db, settings):
    # Beat sends the task by name: it must be the name the worker registered.
    assert settings.CELERY_BEAT_SCHEDULE["reconcile-wip"]["task"] == reconcile_wip_nightly.name

    reconcile_wip_nightly()
    reconcile_wip_now(actor_label="user:ann")

    assert sorted(ReconciliationRun.objects.values_list("trigger", "started_by")) == [
        ("beat", "process:beat"),
        ("button", "user:ann"),
    ]


def test_command_runs_and_prints_the_counts(floor):
    order = floor.order()
    component, _, _ = floor.components
    floor.issue(order, component, 10, stock_left=10)
    received = snapshot((order, component, 11))
    out = StringIO()

    call_command("reconcile_wip", stdout=out)

    done = ReconciliationRun.objects.get()
    assert (done.trigger, done.snapshot) == ("command", received)
    assert out.getvalue().strip() == (
        f"Reconciliation run {done.pk}: 1 pair(s) compared, 1 variance(s) flagged, "
        f"adjustment journal {done.adjustment_journal}."
    )
    with pytest.raises(CommandError, match="does not exist"):
        call_command("reconcile_wip", snapshot=received.pk + 1, stdout=out)


def test_command_without_a_snapshot(db):
    out = StringIO()

    call_command("reconcile_wip", stdout=out)

    assert NO_SNAPSHOT in out.getvalue()
