"""A hub and a scale unit as two real deployments (tests/integration/deployments.py): release
on the hub, the job on the scale unit, registrations there, journals on the hub; the link cut
while the floor goes on; hub-owned data read-only on the scale unit."""

from __future__ import annotations

import os
import re
import signal
import time
import urllib.request
import uuid
from datetime import datetime
from decimal import Decimal as D

import pytest
from django.db.models import Count, Sum

from execution.choices import ProcessingOutcome, RegistrationStatus
from execution.models import (
    PickingListLine,
    ProcessingLogEntry,
    RawRegistration,
    ReportAsFinishedLine,
    RouteCardLine,
)
from execution.services.attendance_figures import attendance_figures
from execution.services.order_lifecycle import order_cancel, order_transition
from execution.services.processing import registrations_process
from integration.erp.services.work_orders import work_order_close
from integration.models import ScaleUnit
from integration.scale_units.services import scale_unit_register
from inventory.models import OnHand
from mesproject.actors import Actor
from mesproject.workplace.roles import roles_ensure
from orders.choices import OrderStatus, Transition
from orders.models import ProductionOrder
from tests.api import new_key
from tests.execution.floor import make_floor
from tests.integration.deployments import (
    SU_PASSWORD,
    HubServer,
    ScaleUnitDeployment,
    ScaleUnitTemplate,
)

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def su_template(tmp_path_factory, django_db_blocker):
    with django_db_blocker.unblock():
        template = ScaleUnitTemplate(tmp_path_factory.mktemp("scale-unit"))
    yield template
    template.drop()


@pytest.fixture
def hub():
    server = HubServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def plant(hub, su_template, tmp_path):
    """The hub's plant F<n>, run by scale unit PLANT2, which is up and has synced once."""
    roles_ensure()
    floor = make_floor(workers=10)
    registered = scale_unit_register(code="PLANT2", name="Plant 2", sites=[floor.site])
    unit = ScaleUnitDeployment(
        code="PLANT2",
        hub_url=hub.url,
        token=registered.token,
        workdir=tmp_path,
        template=su_template,
    )
    unit.start()
    try:
        assert "1 package(s) taken, 1 applied" in unit.sync()
        yield floor, unit
    finally:
        unit.drop()


# What the orders of a shift allow over their quantity: operation 10 makes 3 more (shift()).
SHIFT_TOLERANCE = D(150)


def shift(floor, orders, *, progress: int, breaks: int = 0) -> list[dict]:
    """Registrations of one shift: worker i runs order i's three operations, reporting one
    good unit at a time and one scrapped with a reason at the end of each, then reports the
    order as finished and clocks out. The first `breaks` workers take a break first.

    Each operation makes one more than the next one needs (its scrap): operation 10 starts
    `progress` + 3, so the orders allow that over-delivery (SHIFT_TOLERANCE)."""
    bodies = []
    for index, order in enumerate(orders):
        badge = floor.workers[index].badge_id
        minute = 0.0

        def add(kind, **fields):
            nonlocal minute
            minute += 0.05
            bodies.append(
                {
                    "registration_uuid": str(uuid.uuid4()),
                    "kind": kind,
                    "occurred_at": floor.at(minute).isoformat(),
                    **fields,
                }
            )

        add("clock_in", badge_id=badge)
        if index < breaks:
            add("break_start", badge_id=badge)
            add("break_stop", badge_id=badge)
        for extra, operation in ((3, 10), (2, 20), (1, 30)):
            job = floor.job(order, operation).pk
            add("start_job", badge_id=badge, job=job, quantity=str(progress + extra))
            for _ in range(progress):
                add("report_progress", badge_id=badge, job=job, quantity_good="1")
            add(
                "report_progress",
                badge_id=badge,
                job=job,
                quantity_good=str(extra - 1),
                quantity_scrap="1",
                reason_code=floor.scrap_reason.code,
                completes_job=True,
            )
        add("report_as_finished", order=order.number, quantity_good=str(progress))
        add("clock_out", badge_id=badge)
    return bodies


def post_to_scale_unit(unit, bodies, batch: int = 100) -> None:
    for start in range(0, len(bodies), batch):
        status, answer = unit.post(
            "/api/v1/registrations/", bodies[start : start + batch], headers=new_key()
        )
        assert status == 200, answer
        assert {r["status"] for r in answer["results"]} == {202}, answer["results"][:3]


def su_order(unit, number: str) -> dict:
    rows = unit.query(
        "SELECT status, quantity_completed, quantity_scrapped, quantity_in_progress "
        f"FROM orders_productionorder WHERE number = '{number}'"
    )
    assert rows, f"order {number} is not on the scale unit"
    status, good, scrap, in_progress = rows[0]
    return {
        "status": status,
        "good": D(str(good)),
        "scrap": D(str(scrap)),
        "in_progress": D(str(in_progress)),
    }


def hub_order(order) -> dict:
    order = ProductionOrder.objects.get(pk=order.pk)
    return {
        "status": order.status,
        "good": order.quantity_completed,
        "scrap": order.quantity_scrapped,
        "in_progress": order.quantity_in_progress,
    }


def backlog_to_hub(output: str) -> int:
    return int(re.search(r"backlog: (\d+) to the hub", output).group(1))


def test_release_on_the_hub_runs_on_the_scale_unit_and_reports_back(plant):
    floor, unit = plant
    order = floor.order(quantity=2, over_delivery_tolerance_pct=SHIFT_TOLERANCE)
    assert "1 package(s) taken, 1 applied" in unit.sync()

    # The job is on the scale unit, with its hub id, in the order's Released state.
    jobs = unit.query(
        f"SELECT id, operation_number FROM execution_job WHERE order_id = {order.pk} "
        "AND kind = 'process' ORDER BY operation_number"
    )
    assert [(pk, op) for pk, op in jobs] == [(floor.job(order, op).pk, op) for op in (10, 20, 30)]
    assert su_order(unit, order.number)["status"] == OrderStatus.RELEASED

    bodies = shift(floor, [order], progress=2)
    post_to_scale_unit(unit, bodies)
    output = unit.sync()
    assert backlog_to_hub(output) == 0, output

    # Processed on the scale unit at once: the floor sees the order done.
    assert su_order(unit, order.number) == {
        "status": OrderStatus.COMPLETED,
        "good": D(2),
        "scrap": D(3),
        "in_progress": D(0),
    }
    # Posted nothing to inventory there: that is the hub's.
    assert unit.query("SELECT COUNT(*) FROM inventory_inventorytransaction") == [(0,)]

    # The hub has them as raw registrations and turns them into the journals.
    received = RawRegistration.objects.filter(source="scale-unit:PLANT2")
    assert received.count() == len(bodies)
    registrations_process()
    assert not received.exclude(status=RegistrationStatus.PROCESSED).exists()
    assert hub_order(order) == su_order(unit, order.number)
    assert RouteCardLine.objects.filter(order=order).count() == 3 * 3
    assert ReportAsFinishedLine.objects.get(order=order).quantity_good == 2
    # Clocked in and out on the edge: the hub pays the worker for the shift.
    clock = {b["kind"]: b["occurred_at"] for b in bodies if b["kind"] in ("clock_in", "clock_out")}
    shift_minutes = (
        datetime.fromisoformat(clock["clock_out"]) - datetime.fromisoformat(clock["clock_in"])
    ).total_seconds() / 60
    day = attendance_figures(worker=floor.workers[0], date=floor.at(0).date())
    assert day.clocked_minutes == D(str(round(shift_minutes, 2)))
    assert day.job_minutes > 0
    consumed = dict(
        PickingListLine.objects.filter(order=order)
        .values_list("component__part_number")
        .annotate(total=Sum("quantity"))
    )
    assert consumed[floor.components["FRAME"].part_number] > 0
    assert consumed[floor.components["GRIP"].part_number] > 0

    # The hub's status page: contact noted, nothing waiting either way.
    scale_unit = ScaleUnit.objects.get(code="PLANT2")
    assert scale_unit.last_contact_at is not None
    unit.sync()
    scale_unit.refresh_from_db()
    assert scale_unit.reported_backlog == 0

    # A cancel and an unrelease on the hub follow the same path.
    other, third = floor.order(quantity=3), floor.order(quantity=3)
    unit.sync()
    order_cancel(order=other, reason="ERP canceled")
    order_transition(order=third, transition=Transition.UNRELEASE)
    unit.sync()
    assert su_order(unit, other.number)["status"] == OrderStatus.CANCELED
    assert su_order(unit, third.number)["status"] == OrderStatus.CREATED
    assert unit.query(f"SELECT COUNT(*) FROM execution_job WHERE order_id = {third.pk}") == [(0,)]


def test_hub_owned_data_is_read_only_on_the_scale_unit(plant):
    floor, unit = plant
    order = floor.order(quantity=2, over_delivery_tolerance_pct=SHIFT_TOLERANCE)
    unit.sync()
    # Services refuse.
    output = unit.manage(
        "shell",
        "-c",
        "from orders.models import ProductionOrder;"
        "from execution.services.order_lifecycle import order_cancel;"
        "from mesproject.errors import ApplicationError\n"
        "try:\n"
        f"    order_cancel(order=ProductionOrder.objects.get(number='{order.number}'))\n"
        "except ApplicationError as exc:\n"
        "    print('refused', exc.code)",
    )
    assert "refused hub_owned" in output
    assert su_order(unit, order.number)["status"] == OrderStatus.RELEASED

    # The admin shows it, read-only; planning pages and the ERP API are not served.
    unit.manage(
        "shell",
        "-c",
        "from django.contrib.auth import get_user_model;"
        "get_user_model().objects.create_superuser('root', 'r@example.com', "
        f"'{SU_PASSWORD}')",
    )
    opener = _signed_in(unit, "root")
    assert _status(opener, f"{unit.url}/admin/execution/absencecode/") == 200
    assert _status(opener, f"{unit.url}/admin/execution/absencecode/add/") == 403
    worker = floor.workers[0]
    change = f"{unit.url}/admin/execution/worker/{worker.pk}/change/"
    page = opener.open(change).read().decode()
    assert worker.badge_id in page and 'name="name"' not in page  # no editable field
    assert _status(opener, f"{unit.url}/planner/orders/") == 404
    status, _ = unit.post("/api/v1/work-orders/", {"wo_id": "X"}, headers=new_key())
    assert status == 404
    # The floor's own pages are there: the hub link with its processing history.
    page = opener.open(f"{unit.url}/scale-units/hub/").read().decode()
    assert "Manufacturing jobs processing history" in page and order.number in page


def test_a_force_close_on_the_hub_stops_new_starts_on_the_scale_unit(plant):
    floor, unit = plant
    order = floor.order(quantity=4)
    unit.sync()
    first, second = floor.workers[:2]
    job, gate = floor.job(order, 10).pk, floor.job(order, 30).pk

    def body(kind, minute, badge, **fields):
        return {
            "registration_uuid": str(uuid.uuid4()),
            "kind": kind,
            "occurred_at": floor.at(minute).isoformat(),
            "badge_id": badge.badge_id,
            **fields,
        }

    post_to_scale_unit(
        unit,
        [
            body("clock_in", 1, first),
            body("clock_in", 1, second),
            # Two units through operations 10 and 20; at the last one (the gate) when the
            # ERP force closes.
            *(
                entry
                for minute, operation in ((1.2, 10), (1.5, 20))
                for entry in (
                    body(
                        "start_job", minute, first, job=floor.job(order, operation).pk, quantity="2"
                    ),
                    body(
                        "report_progress",
                        minute + 0.1,
                        first,
                        job=floor.job(order, operation).pk,
                        quantity_good="2",
                        stops_job=True,
                    ),
                )
            ),
            body("start_job", 2, first, job=gate, quantity="2"),
        ],
    )
    unit.sync()
    registrations_process()
    assert hub_order(order)["in_progress"] == 2

    order, waiting = work_order_close(order=order, mode="force", actor=Actor(process="erp"))
    assert waiting
    unit.sync()
    status, answer = unit.post(
        "/api/v1/registrations/", body("start_job", 3, second, job=job), headers=new_key()
    )
    assert (status, answer["code"]) == (409, "order_closing"), answer
    # The units at the gate finish there; the hub closes the order and tells the floor.
    finished = body("report_as_finished", 5, first, order=order.number, quantity_good="2")
    del finished["badge_id"]
    post_to_scale_unit(
        unit,
        [
            body("report_progress", 4, first, job=gate, quantity_good="2", completes_job=True),
            finished,
        ],
    )
    unit.sync()
    registrations_process()
    assert hub_order(order)["status"] == OrderStatus.CLOSED
    unit.sync()
    assert su_order(unit, order.number)["status"] == OrderStatus.CLOSED


def _signed_in(unit, username: str):
    import http.cookiejar

    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    login = f"{unit.url}/admin/login/"
    page = opener.open(login).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode(
        {"username": username, "password": SU_PASSWORD, "csrfmiddlewaretoken": token}
    ).encode()
    opener.open(urllib.request.Request(login, data=data, headers={"Referer": login}))
    return opener


def _status(opener, url: str) -> int:
    try:
        return opener.open(url).status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_link_cut_the_floor_goes_on_and_everything_arrives_once_in_order(plant, hub):
    floor, unit = plant
    orders = [
        floor.order(quantity=30, over_delivery_tolerance_pct=SHIFT_TOLERANCE) for _ in range(10)
    ]
    assert "10 package(s) taken, 10 applied" in unit.sync()

    hub.stop()
    bodies = shift(floor, orders, progress=30, breaks=5)
    assert len(bodies) == 1000
    post_to_scale_unit(unit, bodies)
    output = unit.sync()
    assert "hub unreachable" in output
    assert backlog_to_hub(output) == 1000, output
    # The floor saw its work processed without the hub.
    for order in orders:
        assert su_order(unit, order.number)["status"] == OrderStatus.COMPLETED

    hub.start()
    output = unit.sync()
    assert backlog_to_hub(output) == 0, output

    # Exactly once and in the scale unit's order, derived registrations included.
    su_uuids = [
        str(u) for (u,) in unit.query("SELECT uuid FROM execution_rawregistration ORDER BY id")
    ]
    received = RawRegistration.objects.filter(source="scale-unit:PLANT2").order_by("id")
    assert [str(u).replace("-", "") for u in received.values_list("uuid", flat=True)] == [
        u.replace("-", "") for u in su_uuids
    ]
    registrations_process()
    assert not received.exclude(status=RegistrationStatus.PROCESSED).exists()
    processed_twice = (
        ProcessingLogEntry.objects.filter(
            registration__in=received, outcome=ProcessingOutcome.PROCESSED
        )
        .values("registration")
        .annotate(n=Count("id"))
        .exclude(n=1)
    )
    assert not processed_twice.exists()

    # A single deployment, same registrations on a twin plant posted to the hub directly.
    twin = make_floor(workers=10)
    twin_orders = [
        twin.order(quantity=30, over_delivery_tolerance_pct=SHIFT_TOLERANCE) for _ in range(10)
    ]
    twin_bodies = shift(twin, twin_orders, progress=30, breaks=5)
    for start in range(0, len(twin_bodies), 500):
        response = twin.client.post(
            "/api/v1/registrations/",
            twin_bodies[start : start + 500],
            format="json",
            headers=new_key(),
        )
        assert response.status_code == 200
    registrations_process()

    for order, twin_order in zip(orders, twin_orders, strict=True):
        assert hub_order(order) == hub_order(twin_order) == su_order(unit, order.number)
        assert hub_order(order)["status"] == OrderStatus.COMPLETED
    assert _consumption(floor, orders) == _consumption(twin, twin_orders)
    assert _on_hand(floor) == _on_hand(twin)


def _suffix(part_number: str) -> str:
    return part_number.split("-", 1)[1]


def _consumption(floor, orders) -> dict:
    rows = (
        PickingListLine.objects.filter(order__in=orders)
        .values_list("component__part_number")
        .annotate(total=Sum("quantity"))
    )
    return {_suffix(part): total for part, total in rows}


def _on_hand(floor) -> dict:
    rows = OnHand.objects.filter(location__warehouse__site=floor.site).values_list(
        "item__part_number", "location__code", "quantity"
    )
    return {(_suffix(part), location): qty for part, location, qty in rows if qty}


def test_the_scale_units_own_worker_and_beat_keep_it_in_sync(plant):
    floor, unit = plant
    worker = unit.start_worker_and_beat(seconds=1)
    try:
        order = floor.order(quantity=2, over_delivery_tolerance_pct=SHIFT_TOLERANCE)
        wait_for(
            lambda: (
                unit.query(f"SELECT COUNT(*) FROM execution_job WHERE order_id = {order.pk}")[0][0]
                > 0
            )
        )
        bodies = shift(floor, [order], progress=2)
        post_to_scale_unit(unit, bodies)
        received = RawRegistration.objects.filter(source="scale-unit:PLANT2")
        wait_for(lambda: received.count() == len(bodies))
        wait_for(lambda: su_order(unit, order.number)["status"] == OrderStatus.COMPLETED)
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=30)
    registrations_process()
    assert hub_order(order) == su_order(unit, order.number)


def wait_for(condition, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting for the scale unit"
        time.sleep(0.5)
