"""Release reserves the BOM quantities; cancel, close, short-close and unrelease free what is
left (seed 001, Work Order Close); shortages are visible, never silent."""

from decimal import Decimal

import pytest
from django.urls import reverse

from execution import services as execution_services
from execution.choices import JobKind
from execution.services import order_lifecycle
from inventory import selectors, services
from inventory.choices import SourceType, TransactionKind
from inventory.exceptions import InsufficientStock
from inventory.models import InventoryTransaction, Reservation
from inventory.services import Source
from mesproject.errors import NotAllowed
from orders import services as order_services
from orders.choices import OrderStatus
from orders.models import RouteOperation

from .factories import ConversionFactory, ItemFactory, UnitFactory, make_bom_and_route

D = Decimal
REG = Source(SourceType.REGISTRATION, "reg-1")


@pytest.fixture
def product(pcs, item, steel, site):
    """FG-1: 4 BOLT (+10 % scrap allowance) and 0.25 kg STEEL per piece."""
    fg = ItemFactory(part_number="FG-1", unit=pcs)
    make_bom_and_route(fg, [(item, "4", "10"), (steel, "0.25", "0")], site=site)
    return fg


def new_order(product, site, quantity, number="WO-1", unit=None):
    return order_services.production_order_create(
        number=number, item=product, quantity=D(quantity), site=site, unit=unit
    )


def release(order):
    return order_lifecycle.order_release(order=order)


def open_by_part(order_ref):
    return {
        r.item.part_number: r.quantity_open
        for r in selectors.order_reservations(order_ref=order_ref)
    }


def test_release_reserves_bom_quantities_with_scrap_allowance(product, site, item, steel):
    order = release(new_order(product, site, 10))
    assert order.status == OrderStatus.RELEASED
    # 10 x 4 x 1.10 = 44 BOLT; 10 x 0.25 = 2.5 kg STEEL
    assert open_by_part("WO-1") == {"BOLT": D(44), "STEEL": D("2.5")}
    rows = InventoryTransaction.objects.filter(order_ref="WO-1", kind=TransactionKind.RESERVE)
    assert sorted(r.quantity for r in rows) == [D("2.5"), D(44)]
    # Reservation rows never touch on-hand.
    assert selectors.on_hand_quantity(item=item, site=site) == D(0)
    assert services.inventory_verify().ok


def test_release_converts_the_order_unit_once(product, site, item, steel):
    box = UnitFactory(code="BOX", decimal_places=0)
    ConversionFactory(from_unit=box, to_unit=product.unit, item=product, factor=D(12))
    order = release(new_order(product, site, 2, unit=box))
    # 2 BOX = 24 pcs -> BOLT 24 x 4 x 1.1 = 105.6, rounded up to whole pieces: 106
    assert open_by_part(order.number) == {"BOLT": D(106), "STEEL": D(6)}


def test_generic_conversion_read_backwards(pcs, site, kg):
    gram = UnitFactory(code="G", decimal_places=0)
    ConversionFactory(from_unit=kg, to_unit=gram, factor=D(1000))
    fg = ItemFactory(part_number="PASTE", unit=gram)
    comp = ItemFactory(part_number="SUGAR", unit=gram)
    make_bom_and_route(fg, [(comp, "0.5", "0")], site=site)
    order = release(new_order(fg, site, "1.5", unit=kg))  # 1.5 kg = 1500 g
    assert open_by_part(order.number) == {"SUGAR": D(750)}


def test_release_refused_without_a_unit_conversion(product, site):
    box = UnitFactory(code="BOX", decimal_places=0)
    order = new_order(product, site, 2, unit=box)
    with pytest.raises(NotAllowed) as refused:
        release(order)
    assert "No unit conversion from BOX to PCS" in refused.value.message
    assert not Reservation.objects.exists()
    assert not InventoryTransaction.objects.exists()


def test_shortage_is_reserved_and_visible(product, site, stock, receive, item, steel):
    receive(item, 50, stock)
    receive(steel, 1, stock)
    release(new_order(product, site, 10))
    steel_res = Reservation.objects.get(order_ref="WO-1", item=steel)
    assert (steel_res.quantity_open, steel_res.quantity_short) == (D("2.5"), D("1.5"))
    assert Reservation.objects.get(order_ref="WO-1", item=item).quantity_short == 0
    shortages = selectors.material_shortages(site=site)
    assert [(s.order_ref, s.part_number, s.quantity_short) for s in shortages] == [
        ("WO-1", "STEEL", D("1.5"))
    ]
    assert selectors.available_quantity(item=item, site=site) == D(6)
    assert selectors.available_quantity(item=steel, site=site) == D("-1.5")


def test_oldest_reservation_is_covered_first(product, site, stock, receive, item):
    receive(item, 60, stock)
    release(new_order(product, site, 10, "WO-1"))  # 44 BOLT
    release(new_order(product, site, 10, "WO-2"))  # 44 more: 28 short
    short = {(s.order_ref, s.part_number): s.quantity_short for s in selectors.material_shortages()}
    assert short[("WO-2", "BOLT")] == D(28)
    assert ("WO-1", "BOLT") not in short
    assert Reservation.objects.get(order_ref="WO-2", item=item).quantity_short == D(28)
    only_wo2 = selectors.material_shortages(order_ref="WO-2", item=item)
    assert [s.quantity_short for s in only_wo2] == [D(28)]
    receive(item, 28, stock)
    assert not selectors.material_shortages(item=item)


def test_reserving_without_shortage_allowed_is_refused(item, site, stock, receive, actor):
    receive(item, 5, stock)
    with pytest.raises(InsufficientStock) as refused:
        services.reservation_set(
            item=item,
            site=site,
            quantity=D(6),
            order_ref="WO-9",
            source=Source(SourceType.ORDER_MATERIAL, "900"),
            actor=actor,
            allow_shortage=False,
        )
    assert refused.value.code == "insufficient_available"
    assert not Reservation.objects.exists()


def test_issue_to_the_order_consumes_its_reservation(product, site, stock, receive, item, actor):
    receive(item, 100, stock)
    release(new_order(product, site, 10))
    services.inventory_issue(
        item=item, quantity=D(10), location=stock, order_ref="WO-1", source=REG, actor=actor
    )
    bolt = Reservation.objects.get(order_ref="WO-1", item=item)
    assert (bolt.quantity_open, bolt.quantity_consumed) == (D(34), D(10))
    # Issuing more than reserved consumes what is open, no more.
    services.inventory_issue(
        item=item, quantity=D(40), location=stock, order_ref="WO-1", source=REG, actor=actor
    )
    bolt.refresh_from_db()
    assert (bolt.quantity_open, bolt.quantity_consumed) == (D(0), D(44))
    assert selectors.available_quantity(item=item, site=site) == D(50)
    assert services.inventory_verify().ok


def test_cancel_frees_exactly_what_is_left(product, site, stock, receive, item, steel, actor):
    receive(item, 100, stock)
    order = release(new_order(product, site, 10))
    services.inventory_issue(
        item=item, quantity=D(4), location=stock, order_ref="WO-1", source=REG, actor=actor
    )
    order_lifecycle.order_cancel(order=order)
    freed = InventoryTransaction.objects.filter(
        order_ref="WO-1", kind=TransactionKind.UNRESERVE, source_type=SourceType.PRODUCTION_ORDER
    )
    assert sorted(r.quantity for r in freed) == [D(-40), D("-2.5")]
    assert open_by_part("WO-1") == {"BOLT": D(0), "STEEL": D(0)}
    bolt = Reservation.objects.get(order_ref="WO-1", item=item)
    assert (bolt.quantity_reserved, bolt.quantity_consumed, bolt.quantity_freed) == (
        D(44),
        D(4),
        D(40),
    )
    assert selectors.available_quantity(item=item, site=site) == D(96)
    assert services.inventory_verify().ok


def test_close_frees_what_is_left(product, site, stock, receive, item, actor):
    receive(item, 100, stock)
    order = release(new_order(product, site, 10))
    services.inventory_issue(
        item=item, quantity=D(41), location=stock, order_ref="WO-1", source=REG, actor=actor
    )
    order = order_lifecycle.order_record_quantities(order=order, good=D(10), work_started=True)
    assert order.status == OrderStatus.COMPLETED
    assert open_by_part("WO-1") == {"BOLT": D(3), "STEEL": D("2.5")}  # still reserved
    order_lifecycle.order_close(order=order)
    assert open_by_part("WO-1") == {"BOLT": D(0), "STEEL": D(0)}
    assert not selectors.material_shortages(order_ref="WO-1")
    assert services.inventory_verify().ok


def test_short_close_frees_via_the_execution_service(product, site, stock, receive, item, actor):
    """The integration issue's short-close calls order_free_reservations itself."""
    receive(item, 100, stock)
    order = release(new_order(product, site, 10))
    order = order_lifecycle.order_record_quantities(order=order, good=D(6), work_started=True)
    services.inventory_issue(
        item=item, quantity=D(24), location=stock, order_ref="WO-1", source=REG, actor=actor
    )
    freed = execution_services.order_free_reservations(order=order, reason="short-close")
    assert freed == D(20) + D("2.5")
    assert open_by_part("WO-1") == {"BOLT": D(0), "STEEL": D(0)}
    # Nothing left: a second call frees nothing and writes nothing.
    count = InventoryTransaction.objects.count()
    assert execution_services.order_free_reservations(order=order) == 0
    assert InventoryTransaction.objects.count() == count


def test_unrelease_frees_and_release_again_reserves_again(product, site, item):
    order = release(new_order(product, site, 10))
    order = order_lifecycle.order_transition(order=order, transition="unrelease")
    assert open_by_part("WO-1") == {"BOLT": D(0), "STEEL": D(0)}
    release(order)
    assert open_by_part("WO-1") == {"BOLT": D(44), "STEEL": D("2.5")}
    assert Reservation.objects.count() == 2
    assert services.inventory_verify().ok


def test_reserving_twice_changes_nothing(product, site):
    order = release(new_order(product, site, 10))
    count = InventoryTransaction.objects.count()
    execution_services.order_reserve_materials(order=order)
    assert InventoryTransaction.objects.count() == count
    assert open_by_part("WO-1") == {"BOLT": D(44), "STEEL": D("2.5")}


def _planner(client):
    from django.http import HttpRequest

    from mesproject.roles import PLANNER
    from tests.e2e.conftest import PASSWORD, user_with_role

    user_with_role(PLANNER, "paula")
    assert client.login(request=HttpRequest(), username="paula", password=PASSWORD)
    return client


def _process_jobs(order):
    return [
        (job.planned_quantity, job.planned_minutes)
        for job in order.jobs.filter(kind=JobKind.PROCESS).order_by("operation_number")
    ]


def test_quantity_change_on_the_planner_page_resyncs_reservations_and_jobs(client, product, site):
    RouteOperation.objects.filter(route__item=product).update(run_time_minutes_per_unit=D("1.5"))
    order = release(new_order(product, site, 10))
    assert _process_jobs(order) == [(D(10), D(15))]
    planner = _planner(client)
    edit = reverse("planner:order_edit", args=[order.pk])
    form = planner.get(edit).context["form"]
    data = {name: form[name].value() for name in form.fields}
    data = {k: ("" if v is None else v) for k, v in data.items()}
    data.update({"quantity": "5", "restricted": ""})
    assert planner.post(edit, data).status_code == 302
    order.refresh_from_db()
    assert order.quantity == D(5)
    assert open_by_part("WO-1") == {"BOLT": D(22), "STEEL": D("1.25")}
    assert _process_jobs(order) == [(D(5), D("7.5"))]
    assert services.inventory_verify().ok


def test_material_added_after_release_is_reserved_and_removed_one_freed(product, site, item, steel):
    order = release(new_order(product, site, 10))
    screw = ItemFactory(part_number="SCREW", unit=item.unit)
    material = execution_services.order_material_add(
        order=order, component=screw, quantity_per=D(2)
    )
    assert open_by_part("WO-1") == {"BOLT": D(44), "STEEL": D("2.5"), "SCREW": D(20)}
    execution_services.order_material_remove(material=material)
    assert open_by_part("WO-1") == {"BOLT": D(44), "STEEL": D("2.5"), "SCREW": D(0)}
    assert services.inventory_verify().ok


def test_unterminate_reserves_what_is_still_needed(product, site, stock, receive, item, actor):
    receive(item, 100, stock)
    order = release(new_order(product, site, 10))
    order = order_lifecycle.order_record_quantities(order=order, good=D(2), work_started=True)
    services.inventory_issue(
        item=item, quantity=D(10), location=stock, order_ref="WO-1", source=REG, actor=actor
    )
    order = order_lifecycle.order_cancel(order=order)
    order = order_lifecycle.order_transition(order=order, transition="unterminate")
    assert order.status == OrderStatus.IN_PROGRESS
    assert open_by_part("WO-1") == {"BOLT": D(34), "STEEL": D("2.5")}
