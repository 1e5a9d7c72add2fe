"""Genealogy: each finished lot is linked to exactly the component lots and quantities that
went into it, when one order reports several lots as finished. Material its own report as
finished consumed is linked as consumed; material consumed earlier is shared out first in,
first out by the lots' need, returns and corrections taking back what remains. Driven
through the real endpoint and processor, as on the floor."""

import uuid
from collections import defaultdict
from decimal import Decimal as D

import pytest
from django.db.models import Sum

from execution.models import GenealogyLink, PickingListLine, RawRegistration
from execution.services.corrections import registration_correct
from inventory.choices import Tracking
from mesproject.actors import Actor
from tests.execution.floor import make_floor
from tests.integration.helpers import erp_client

BOSS = Actor(process="test-supervisor")


def _floor(tracked: dict[str, list[tuple[str, int]]]):
    """A floor whose product is lot-tracked; `tracked` parts come in the given lots (oldest
    first) at the input of the resource that consumes them, every other part untracked."""
    floor = make_floor(stock=0, product_tracking=Tracking.LOT)
    consumer = {"FRAME": 0, "WHEEL": 1, "GRIP": 2, "BELL": 2}
    for part, lots in tracked.items():
        item = floor.components[part]
        item.tracking = Tracking.LOT
        item.save()
        for lot, quantity in lots:
            floor.stock(part, quantity, floor.resources[consumer[part]].input_location, lot=lot)
    for part in floor.components:
        if part not in tracked:
            for resource in floor.resources:
                floor.stock(part, 100, resource.input_location)
    worker = floor.workers[0]
    floor.clock_in(worker, 0)
    return floor, worker


def _step(floor, order, operation, quantity, worker, *, at):
    """The worker starts and completes `quantity` at one operation."""
    job = floor.job(order, operation)
    floor.post("start_job", at=at, badge_id=worker, job=job, quantity=str(quantity))
    floor.post(
        "report_progress",
        at=at + 1,
        badge_id=worker,
        job=job,
        quantity_good=str(quantity),
        stops_job=True,
    )


def _finish(floor, order, quantity, lot, *, at):
    key = uuid.uuid4()
    floor.post(
        "report_as_finished",
        at=at,
        registration_uuid=key,
        order=order,
        quantity_good=str(quantity),
        terminal=floor.terminals[2].code,
        lot_number=lot,
    )
    return RawRegistration.objects.get(uuid=key)


def _processed(floor):
    summary = floor.process()
    assert summary.failed == 0, list(
        RawRegistration.objects.filter(status="failed").values("kind", "error")
    )


def _links(order) -> dict[str, set[tuple[str, D]]]:
    """Per finished lot, its component lots and net quantities (reversals netted out)."""
    totals = defaultdict(D)
    for finished, component, quantity in GenealogyLink.objects.filter(order=order).values_list(
        "finished_lot__number", "component_lot__number", "quantity"
    ):
        totals[finished, component] += quantity
    result = defaultdict(set)
    for (finished, component), quantity in totals.items():
        if quantity:
            result[finished].add((component, quantity))
    return dict(result)


def _assert_links_within_consumption(order):
    """Per component lot, what the links give out never exceeds what was consumed, net."""
    consumed = dict(
        PickingListLine.objects.filter(order=order, lot__isnull=False)
        .values_list("lot__number")
        .annotate(total=Sum("quantity"))
    )
    linked = dict(
        GenealogyLink.objects.filter(order=order)
        .values_list("component_lot__number")
        .annotate(total=Sum("quantity"))
    )
    for lot, quantity in linked.items():
        assert 0 <= quantity <= consumed.get(lot, 0), (lot, quantity, consumed)


@pytest.mark.django_db
def test_two_finished_lots_each_link_the_frame_lot_started_for_them():
    floor, worker = _floor({"FRAME": [("FR-A", 4), ("FR-B", 20)]})
    order = floor.order(10)
    at = floor.run_route(order, 4, worker, at=1)
    _finish(floor, order, 4, "BIKE-1", at=at)
    at = floor.run_route(order, 6, worker, at=at + 1)
    _finish(floor, order, 6, "BIKE-2", at=at)
    _processed(floor)

    # The first 4 frames (all of FR-A) went into BIKE-1; the next 6 (FR-B) into BIKE-2.
    assert _links(order) == {"BIKE-1": {("FR-A", 4)}, "BIKE-2": {("FR-B", 6)}}
    _assert_links_within_consumption(order)


@pytest.mark.django_db
def test_frames_started_ahead_are_shared_out_first_in_first_out():
    floor, worker = _floor({"FRAME": [("FR-A", 3), ("FR-B", 20)]})
    order = floor.order(10)
    _step(floor, order, 10, 10, worker, at=1)  # 10 frames: 3 of FR-A, 7 of FR-B
    for number, operation in enumerate((20, 30)):
        _step(floor, order, operation, 4, worker, at=3 + 2 * number)
    _finish(floor, order, 4, "BIKE-1", at=8)
    for number, operation in enumerate((20, 30)):
        _step(floor, order, operation, 6, worker, at=10 + 2 * number)
    _finish(floor, order, 6, "BIKE-2", at=15)
    _processed(floor)

    assert _links(order) == {
        "BIKE-1": {("FR-A", 3), ("FR-B", 1)},
        "BIKE-2": {("FR-B", 6)},
    }
    _assert_links_within_consumption(order)


@pytest.mark.django_db
def test_a_return_between_reports_leaves_the_later_lot_only_what_remains():
    floor, worker = _floor({"FRAME": [("FR-A", 3), ("FR-B", 20)]})
    order = floor.order(10)
    _step(floor, order, 10, 10, worker, at=1)  # 10 frames: 3 of FR-A, 7 of FR-B
    for number, operation in enumerate((20, 30)):
        _step(floor, order, operation, 4, worker, at=3 + 2 * number)
    _finish(floor, order, 4, "BIKE-1", at=8)
    _processed(floor)  # the door allows a return of what was consumed, processed
    # 2 frames come back (to FR-B, the lot consumed last): FR-B is down to 5 net.
    floor.post("consume_material", at=9, order=order, material_line=10, quantity="-2")
    for number, operation in enumerate((20, 30)):
        _step(floor, order, operation, 6, worker, at=10 + 2 * number)
    _finish(floor, order, 6, "BIKE-2", at=15)
    _processed(floor)

    # BIKE-1 took FR-A 3 and FR-B 1 before the return; BIKE-2 needs 6 but only 4 of FR-B
    # remain: genealogy never links more than went into the order.
    assert _links(order) == {
        "BIKE-1": {("FR-A", 3), ("FR-B", 1)},
        "BIKE-2": {("FR-B", 4)},
    }
    _assert_links_within_consumption(order)


@pytest.mark.django_db
def test_a_return_of_a_lot_already_linked_unlinks_it_from_the_latest_finished_lot():
    floor, worker = _floor({"FRAME": [("FR-A", 6), ("FR-B", 20)]})
    order = floor.order(10)
    at = floor.run_route(order, 3, worker, at=1)
    _finish(floor, order, 3, "BIKE-1", at=at)
    at = floor.run_route(order, 3, worker, at=at + 1)
    _finish(floor, order, 3, "BIKE-2", at=at)
    _processed(floor)
    assert _links(order) == {"BIKE-1": {("FR-A", 3)}, "BIKE-2": {("FR-A", 3)}}
    # 2 frames of FR-A come back after both bikes took theirs: the order consumed 4 of it.
    floor.post("consume_material", at=at + 1, order=order, material_line=10, quantity="-2")
    _processed(floor)

    # The links are never edited: the return adds negative links, latest bike first.
    assert _links(order) == {"BIKE-1": {("FR-A", 3)}, "BIKE-2": {("FR-A", 1)}}
    assert GenealogyLink.objects.filter(order=order, quantity__lt=0).count() == 1
    _assert_links_within_consumption(order)


@pytest.mark.django_db
def test_grips_consumed_by_a_report_as_finished_link_to_its_own_lot():
    # Grips (production finish, 2 per bike) are consumed by each report as finished itself.
    floor, worker = _floor({"GRIP": [("G-A", 4), ("G-B", 20)]})
    order = floor.order(5)
    at = floor.run_route(order, 2, worker, at=1)
    _finish(floor, order, 2, "BIKE-1", at=at)
    at = floor.run_route(order, 3, worker, at=at + 1)
    _finish(floor, order, 3, "BIKE-2", at=at)
    _processed(floor)

    assert _links(order) == {"BIKE-1": {("G-A", 4)}, "BIKE-2": {("G-B", 6)}}
    _assert_links_within_consumption(order)


@pytest.mark.django_db
def test_a_reversed_report_gives_its_components_back_to_the_next_lot():
    floor, worker = _floor({"FRAME": [("FR-A", 10)]})
    order = floor.order(10)
    at = floor.run_route(order, 4, worker, at=1)
    wrong = _finish(floor, order, 4, "BIKE-1", at=at)
    _processed(floor)
    registration_correct(registration=wrong, actor=BOSS, reason="wrong lot number")
    _processed(floor)
    _finish(floor, order, 4, "BIKE-2", at=at + 5)
    _processed(floor)

    # BIKE-1 was taken back: its link is reversed, and its frames went into BIKE-2.
    assert _links(order) == {"BIKE-2": {("FR-A", 4)}}
    _assert_links_within_consumption(order)


@pytest.mark.django_db
def test_the_as_built_record_lists_each_finished_lot_with_its_own_components():
    floor, worker = _floor({"FRAME": [("FR-A", 4), ("FR-B", 20)]})
    order = floor.order(10)
    at = floor.run_route(order, 4, worker, at=1)
    _finish(floor, order, 4, "BIKE-1", at=at)
    at = floor.run_route(order, 6, worker, at=at + 1)
    _finish(floor, order, 6, "BIKE-2", at=at)
    _processed(floor)

    response = erp_client().get(f"/api/v1/work-orders/{order.number}/as-built/")
    assert response.status_code == 200
    frame = floor.components["FRAME"].part_number
    assert response.json()["as_built"]["genealogy"] == [
        {
            "finished_lot": "BIKE-1",
            "component_part": frame,
            "component_lot": "FR-A",
            "quantity": "4",
        },
        {
            "finished_lot": "BIKE-2",
            "component_part": frame,
            "component_lot": "FR-B",
            "quantity": "6",
        },
    ]
