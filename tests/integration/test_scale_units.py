"""Hub and scale units in one process: the packages the hub queues and serves, the status page,
the command that registers a scale unit; on the scale-unit side, a package that fails holds
its order until Process or Cancel, a registration the hub refuses, the hub unreachable.
The two-deployment tests are in test_scale_unit_deployments.py."""

from __future__ import annotations

import io
import json
import uuid
from datetime import timedelta
from decimal import Decimal as D

import pytest
from django.core import serializers
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from execution.models import AbsenceCode, AttendanceDay, Job, Worker
from execution.services.attendance import attendance_day_approve
from execution.services.order_changes import (
    order_change_quantity,
    order_material_add,
    order_material_remove,
)
from execution.services.order_lifecycle import order_cancel, order_release
from integration.choices import ForwardStatus, PackageKind, PackageStatus
from integration.models import HubForward, HubLink, HubPackage, ReceivedPackage, ScaleUnit
from integration.scale_units import services as scale_units
from mesproject.actors import Actor
from mesproject.errors import NotAllowed
from mesproject.roles import IT, OPERATOR, SUPERVISOR
from orders.services import production_order_create as order_create
from tests.api import token_client
from tests.execution.floor import make_floor
from tests.integration.deployments import HubServer, free_port
from tests.integration.helpers import role_user
from tests.pages import assert_constant_queries

pytestmark = pytest.mark.django_db

PACKAGES = "/api/v1/scale-units/packages/"


@pytest.fixture
def plant():
    floor = make_floor(workers=2)
    role_user(OPERATOR)  # the roles exist
    registered = scale_units.scale_unit_register(code="SU1", sites=[floor.site])
    return floor, registered


def models_in(package: HubPackage) -> dict[str, list]:
    found: dict[str, list] = {}
    for obj in package.payload["objects"]:
        found.setdefault(obj["model"], []).append(obj)
    return found


def test_release_queues_the_order_package_with_what_its_jobs_need(plant):
    floor, registered = plant
    first = HubPackage.objects.get()
    assert first.kind == PackageKind.REFERENCE and first.scale_unit == registered.scale_unit

    order = floor.order(quantity=5)
    package = HubPackage.objects.latest("id")
    assert (package.kind, package.order_number, package.reason) == (
        "order",
        order.number,
        "release",
    )
    found = models_in(package)
    assert [o["pk"] for o in found["orders.productionorder"]] == [order.pk]
    assert sorted(o["pk"] for o in found["execution.job"]) == sorted(
        order.jobs.values_list("pk", flat=True)
    )
    assert {o["fields"]["badge_id"] for o in found["execution.worker"]} == {
        w.badge_id for w in floor.workers
    }
    assert {o["fields"]["code"] for o in found["execution.absencecode"]} >= {"DOC"}
    assert {o["fields"]["code"] for o in found["orders.reasoncode"]} >= {floor.scrap_reason.code}
    assert len(found["execution.terminal"]) == 3
    assert len(found["orders.productionordermaterial"]) == 4
    # Every foreign key points inside the package: the scale unit can insert it as it is.
    assert {o["pk"] for o in found["inventory.item"]} >= {
        c.pk for c in floor.components.values()
    } | {floor.product.pk}

    order_change_quantity(order=order, quantity=D(8))
    added = order_material_add(order=order, component=floor.components["BELL"], quantity_per=D(1))
    order_material_remove(material=added)
    order_cancel(order=order, reason="ERP")
    reasons = list(HubPackage.objects.order_by("id").values_list("reason", flat=True))
    assert reasons[-4:] == ["changed", "changed", "changed", "cancel"]
    with_bell = HubPackage.objects.order_by("id")[len(reasons) - 3]
    assert len(models_in(with_bell)["orders.productionordermaterial"]) == 5
    assert HubPackage.objects.latest("id").payload["order"]["status"] == "canceled"


def test_orders_of_other_sites_and_orders_never_released_stay_on_the_hub(plant):
    floor, _ = plant
    other = make_floor(workers=1)
    before = HubPackage.objects.count()
    other.order(quantity=2)
    created = floor.order(quantity=2, release=False)
    order_change_quantity(order=created, quantity=D(3))
    assert HubPackage.objects.count() == before


def test_a_scale_unit_takes_its_packages_and_acknowledges_them(plant):
    _floor, registered = plant
    for _ in range(52):
        scale_units.package_reference_enqueue(scale_unit=registered.scale_unit)
    client = token_client(registered.scale_unit.user)

    first = client.get(PACKAGES, {"after": 0, "backlog": 7})
    assert first.status_code == 200
    body = first.json()
    assert len(body["packages"]) == 50 and body["more"] is True
    last = body["packages"][-1]["id"]
    second = client.get(PACKAGES, {"after": last}).json()
    assert len(second["packages"]) == 3 and second["more"] is False
    unit = ScaleUnit.objects.get(pk=registered.scale_unit.pk)
    assert unit.acked_package_id == last and unit.last_contact_at is not None
    assert unit.reported_backlog == 0  # what it said at its last call

    assert client.get(PACKAGES, {"after": -1}).json()["code"] == "invalid"
    assert token_client(role_user(OPERATOR)).get(PACKAGES).status_code == 403
    ScaleUnit.objects.filter(pk=unit.pk).update(is_active=False)
    assert client.get(PACKAGES).status_code == 403


def test_register_scale_unit_prints_its_environment_and_keeps_a_site_to_one(plant):
    floor, registered = plant
    out = io.StringIO()
    call_command("register_scale_unit", "SU1", "--site", floor.site.code, stdout=out)
    assert f"MES_HUB_TOKEN={registered.token}" in out.getvalue()
    assert "MES_SCALE_UNIT_ID=SU1" in out.getvalue()
    call_command(
        "register_scale_unit", "SU1", "--site", floor.site.code, "--rotate-token", stdout=out
    )
    assert registered.token not in out.getvalue().splitlines()[-1]
    with pytest.raises(CommandError, match="already run by scale unit SU1"):
        call_command("register_scale_unit", "SU2", "--site", floor.site.code, stdout=out)
    with pytest.raises(CommandError, match="Unknown site"):
        call_command("register_scale_unit", "SU2", "--site", "NOPE", stdout=out)


def test_status_page_lists_scale_units_in_constant_queries(client, plant):
    floor, _registered = plant
    client.force_login(role_user(IT))
    page = client.get(reverse("scale-units:status"))
    assert page.status_code == 200
    assert "SU1" in page.text and floor.site.code in page.text

    def add_units(n):
        for _ in range(n):
            site = make_floor(workers=1, stock=0).site
            scale_units.scale_unit_register(code=uuid.uuid4().hex[:8], sites=[site])

    assert_constant_queries(client, reverse("scale-units:status"), add_units, small=2, large=6)
    client.force_login(role_user(OPERATOR))
    assert client.get(reverse("scale-units:status")).status_code == 403


# --- The scale unit's side, in this process --------------------------------------------------


@pytest.fixture
def as_scale_unit(settings):
    """Call it to turn this process into scale unit SU1 (after the hub made the test data)."""

    def become():
        settings.MES_ROLE = "scale_unit"
        settings.MES_SCALE_UNIT_ID = "SU1"
        settings.MES_HUB_URL = f"http://127.0.0.1:{free_port()}"  # nothing listens there
        settings.MES_HUB_TOKEN = "not-used"
        settings.MES_HUB_TIMEOUT_SECONDS = 2
        return settings

    return become


def received(hub_id: int, objects: list, order_number: str = "") -> ReceivedPackage:
    return ReceivedPackage.objects.create(
        hub_id=hub_id,
        kind=PackageKind.ORDER if order_number else PackageKind.REFERENCE,
        order_number=order_number,
        reason="test",
        payload={"objects": json.loads(serializers.serialize("json", objects))},
        created_on_hub_at=timezone.now(),
    )


def test_a_failed_package_holds_its_order_until_processed_or_canceled(as_scale_unit):
    floor = make_floor(workers=1)
    order = floor.order(quantity=2)
    as_scale_unit()
    # A job of an order this scale unit never got: its foreign key points nowhere.
    orphan = Job(
        pk=10_000_000,
        order_id=9_999_999,
        operation_number=10,
        operation_name="x",
        kind="process",
        resource=floor.resources[0],
        sequence=1,
        planned_quantity=D(1),
    )
    bad = received(1, [orphan], order_number="PO-GONE")
    held = received(2, [AbsenceCode(code="NEW", description="New code")], order_number="PO-GONE")
    other = received(3, [order], order_number=order.number)

    summary = scale_units.packages_apply()
    assert (summary.processed, summary.failed) == (1, 1)
    states = dict(ReceivedPackage.objects.values_list("hub_id", "status"))
    assert states == {1: PackageStatus.FAILED, 2: PackageStatus.NEW, 3: PackageStatus.PROCESSED}
    bad.refresh_from_db()
    assert bad.error and not Job.objects.filter(pk=orphan.pk).exists()
    assert scale_units.backlog()["packages_failed"] == 1

    supervisor = Actor(user=role_user(SUPERVISOR))
    again = scale_units.package_process_again(package=bad, actor=supervisor)
    assert again.status == PackageStatus.FAILED and again.attempts == 2
    scale_units.package_cancel(package=bad, actor=supervisor)
    scale_units.packages_apply()
    held.refresh_from_db()
    assert held.status == PackageStatus.PROCESSED
    assert AbsenceCode.objects.filter(code="NEW").exists()
    with pytest.raises(NotAllowed):
        scale_units.package_cancel(package=held, actor=supervisor)
    assert other.status == PackageStatus.NEW  # the object; the row moved on
    assert ReceivedPackage.objects.get(pk=other.pk).status == PackageStatus.PROCESSED


def test_hub_unreachable_keeps_the_queue_and_backs_off(as_scale_unit):
    as_scale_unit()
    forward = HubForward.objects.create(
        registration_uuid=uuid.uuid4(),
        kind="clock_in",
        occurred_at=timezone.now(),
        payload={"kind": "clock_in"},
    )
    summary = scale_units.hub_sync()
    assert summary.error and "hub unreachable" in str(summary)
    link = HubLink.objects.get()
    assert link.consecutive_failures == 1 and link.next_attempt_at > timezone.now()
    assert scale_units.hub_sync().skipped  # waits before the next attempt
    scale_units.hub_sync(force=True)
    link.refresh_from_db()
    assert link.consecutive_failures == 2
    assert link.next_attempt_at - link.last_attempt_at == timedelta(seconds=30)
    forward.refresh_from_db()
    assert forward.status == ForwardStatus.PENDING
    assert scale_units.backlog()["to_hub"] == 1
    # One round at a time: a second one, started meanwhile, steps aside.
    cache.add(scale_units.SYNC_LOCK, 1)
    try:
        assert scale_units.hub_sync(force=True).skipped
    finally:
        cache.delete(scale_units.SYNC_LOCK)


@pytest.mark.django_db(transaction=True)
def test_a_registration_the_hub_refuses_is_kept_with_its_reason(as_scale_unit, plant):
    _floor, registered = plant
    hub = HubServer()
    hub.start()
    try:
        settings = as_scale_unit()
        settings.MES_HUB_URL = hub.url
        settings.MES_HUB_TOKEN = registered.token
        refused = HubForward.objects.create(
            registration_uuid=uuid.uuid4(),
            kind="clock_in",
            occurred_at=timezone.now(),
            payload={
                "registration_uuid": str(uuid.uuid4()),
                "kind": "clock_in",
                "occurred_at": timezone.now().isoformat(),
                "badge_id": "NOBODY",
            },
        )
        summary = scale_units.hub_sync(force=True)
        assert summary.error == "" and summary.forwarded.rejected == 1
        refused.refresh_from_db()
        assert refused.status == ForwardStatus.REJECTED and refused.hub_status == 400
        assert "worker_unknown" in refused.error
        scale_units.forward_retry(forward=refused)
        assert HubForward.objects.get(pk=refused.pk).status == ForwardStatus.PENDING
    finally:
        hub.stop()


def test_the_back_office_stays_on_the_hub(as_scale_unit):
    floor = make_floor(workers=1)
    as_scale_unit()
    with pytest.raises(NotAllowed) as refused:
        order_create(number="SU-X", item=floor.product, quantity=D(1), site=floor.site)
    assert refused.value.code == "hub_owned"
    day = AttendanceDay.objects.create(worker=floor.workers[0], date=timezone.localdate())
    with pytest.raises(NotAllowed) as refused:
        attendance_day_approve(day=day, actor=Actor(process="test"))
    assert refused.value.code == "hub_only"


@pytest.mark.urls("tests.integration.scale_unit_urls")
def test_hub_link_page_shows_the_backlog_and_processes_or_cancels(client, as_scale_unit):
    as_scale_unit()
    client.force_login(role_user(SUPERVISOR))
    failed = received(5, [Job(pk=10_000_001, order_id=9_999_998, operation_number=1)], "PO-9")
    ReceivedPackage.objects.filter(pk=failed.pk).update(status=PackageStatus.FAILED, error="boom")
    HubForward.objects.create(
        registration_uuid=uuid.uuid4(), kind="clock_in", occurred_at=timezone.now(), payload={}
    )
    page = client.get(reverse("scale-units:hub_link"))
    assert page.status_code == 200
    assert "PO-9" in page.text and "boom" in page.text
    assert 'id="backlog-to-hub"><strong>1</strong>' in page.text
    received(6, [], "PO-10")
    only = client.get(reverse("scale-units:hub_link"), {"order": "po-10"})
    assert "PO-10" in only.text and "PO-9" not in only.text
    response = client.post(reverse("scale-units:package_process", args=[failed.pk]), follow=True)
    assert "failed again" in response.text
    client.post(reverse("scale-units:package_cancel", args=[failed.pk]))
    assert ReceivedPackage.objects.get(pk=failed.pk).status == PackageStatus.CANCELED
    client.force_login(role_user(OPERATOR))
    assert client.get(reverse("scale-units:hub_link")).status_code == 403


def test_changed_reference_data_is_sent_once(plant):
    _floor, registered = plant
    assert scale_units.packages_reference_refresh() == 0  # nothing changed since registering
    AbsenceCode.objects.create(code="VAC", description="Vacation")
    assert scale_units.packages_reference_refresh() == 1
    assert scale_units.packages_reference_refresh() == 0
    latest = HubPackage.objects.filter(scale_unit=registered.scale_unit).latest("id")
    assert "VAC" in {o["fields"].get("code") for o in latest.payload["objects"]}


def test_a_release_package_costs_the_same_queries_however_many_workers(plant):
    floor, _ = plant

    def release_queries() -> int:
        order = floor.order(quantity=2, release=False)
        with CaptureQueriesContext(connection) as queries:
            order_release(order=order)
        return len(queries)

    few = release_queries()
    for i in range(30):
        Worker.objects.create(
            badge_id=f"EXTRA-{i}",
            name=f"Extra {i}",
            site=floor.site,
            pay_agreement=floor.workers[0].pay_agreement,
        )
    assert release_queries() == few


@pytest.mark.urls("tests.integration.scale_unit_urls")
def test_hub_link_page_runs_constant_queries(client, as_scale_unit):
    as_scale_unit()
    scale_units.hub_link()  # made once, at the first sync
    client.force_login(role_user(SUPERVISOR))
    made = iter(range(1, 10_000))

    def add_rows(n):
        for _ in range(n):
            number = next(made)
            received(number, [], f"PO-{number}")
            HubForward.objects.create(
                registration_uuid=uuid.uuid4(),
                kind="clock_in",
                occurred_at=timezone.now(),
                payload={},
            )

    assert_constant_queries(client, reverse("scale-units:hub_link"), add_rows, small=5, large=80)


def test_the_hub_takes_a_scale_units_sites_registrations_from_it_only(plant):
    floor, registered = plant
    other = make_floor(workers=1, stock=0)
    operator = token_client(role_user(OPERATOR))
    scale_unit = token_client(registered.scale_unit.user)

    def clock_in(client, worker):
        body = {
            "registration_uuid": str(uuid.uuid4()),
            "kind": "clock_in",
            "occurred_at": timezone.now().isoformat(),
            "badge_id": worker.badge_id,
        }
        return client.post("/api/v1/registrations/", body, format="json")

    refused = clock_in(operator, floor.workers[0])
    assert refused.status_code == 409
    assert refused.json()["code"] == "registration_not_here"
    assert "scale unit SU1" in refused.json()["message"]
    assert clock_in(scale_unit, floor.workers[0]).status_code == 202
    assert clock_in(scale_unit, other.workers[0]).json()["code"] == "registration_not_here"
    assert clock_in(operator, other.workers[0]).status_code == 202
