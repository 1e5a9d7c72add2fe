"""The Django admin: every registered page renders, and production orders change only
through the services (transition buttons, bulk actions, add and change forms)."""

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib import admin, messages
from django.contrib.admin.utils import quote
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import (
    ClockedSchedule,
    CrontabSchedule,
    IntervalSchedule,
    PeriodicTask,
    SolarSchedule,
)
from rest_framework.authtoken.models import Token, TokenProxy

from execution.choices import JobStatus
from execution.models import (
    AbsenceCode,
    GenealogyLink,
    IndirectActivity,
    Job,
    JobActivity,
    LogbookEntry,
    MaterialLineState,
    PayAgreement,
    PickingListLine,
    ProcessingLogEntry,
    RawRegistration,
    ReportAsFinishedLine,
    RouteCardLine,
    Terminal,
    Worker,
)
from execution.services import order_lifecycle
from execution.services.attendance import attendance_day_calculate
from integration.models import Heartbeat, HubForward, HubPackage, ReceivedPackage
from integration.scale_units.services import hub_link, scale_unit_register
from inventory import services as inventory_services
from inventory.choices import SourceType, Tracking
from inventory.models import Reservation, UnitConversion
from inventory.services import Source
from mesproject.actors import Actor
from mesproject.workplace.roles import roles_ensure
from orders.choices import OrderStatus, Transition
from orders.models import ProductionOrder, ProductionOrderMaterial
from tests.execution.floor import make_floor
from tests.factories import (
    BomLineFactory,
    ItemFactory,
    LocationFactory,
    Product,
    ReasonCodeFactory,
    ResourceFactory,
    RouteOperationFactory,
    SiteFactory,
    UnitOfMeasureFactory,
    WarehouseFactory,
    advance_order,
    make_order,
    make_releasable_product,
)

pytestmark = pytest.mark.django_db

S = OrderStatus
T = Transition
ORDER_URL = "admin:orders_productionorder"


# --- Every registered ModelAdmin renders ---------------------------------------------------


def _released_order_log(ctx):
    order = advance_order(make_order(), S.RELEASED)
    return order.transition_log.get()


def floor_history(orders: int = 1):
    """A floor where lot-tracked bikes were started, worked and reported as finished through
    the registration endpoint and the processor: every production journal has lines."""
    floor = make_floor(
        lines=[("FRAME", "start", 10, "1"), ("GRIP", "production_finish", None, "2")],
        product_tracking=Tracking.LOT,
        stock=0,
    )
    frame = floor.components["FRAME"]
    frame.tracking = Tracking.LOT
    frame.save()
    floor.stock("FRAME", 100, floor.resources[0].input_location, lot="FR-1")
    floor.stock("GRIP", 200, floor.resources[2].input_location)
    worker = floor.workers[0]
    floor.clock_in(worker, 0)
    for number in range(orders):
        order = floor.order(2)
        start = 1 + number * 10
        floor.run_route(order, 2, worker, at=start)
        floor.post(
            "report_as_finished",
            at=start + 7,
            order=order,
            quantity_good="2",
            lot_number=f"BK-{number}",
        )
    summary = floor.process()
    assert summary.failed == 0, summary
    return floor


def _first_of(model):
    def build(ctx):
        floor_history()
        return model.objects.order_by("pk").first()

    return build


def _attendance_day(ctx):
    floor_history()
    worker = RawRegistration.objects.filter(kind="clock_in").first().worker
    day = RawRegistration.objects.filter(worker=worker).first().occurred_at
    return attendance_day_calculate(
        worker=worker, date=timezone.localdate(day), actor=Actor(process="test")
    )


def _wip_snapshot(ctx, user=None):
    from integration.reconciliation.services import erp_wip_snapshot_receive

    lines = [{"wo_id": "WO-1", "component_part": "P-1", "quantity": "2"}]
    return erp_wip_snapshot_receive(as_of=timezone.now(), lines=lines, user=user)


def _reconciliation_run(ctx):
    from integration.reconciliation.services import reconciliation_run

    return reconciliation_run(trigger="command", actor_label="test", snapshot=_wip_snapshot(ctx))


def _dead_letter(ctx):
    from integration.erp.services import outbox

    message = outbox.outbox_enqueue(stream="WO-1", kind="scrap", payload={"wo_id": "WO-1"})
    outbox.dead_letter(message, "rejected by the ERP", now=timezone.now())
    return message


def _change_request(ctx):
    from integration.erp.services.work_orders import work_order_change

    order = advance_order(make_order(), S.IN_PROGRESS)
    return work_order_change(order=order, changes={"qty_target": 20}, actor=Actor(process="erp"))[1]


def _idempotency_key(ctx):
    from integration.erp.services.idempotency import idempotency_claim

    return idempotency_claim(
        user=ctx["admin"], key="k-1", fingerprint="f", method="POST", path="/api/v1/x/"
    ).record


def _issue_batch(ctx):
    from integration.models import MaterialIssueBatch

    floor = floor_history()
    order = floor.order(1)
    inventory_services.inventory_issue(
        item=floor.components["FRAME"],
        quantity=1,
        lot="FR-1",
        location=floor.resources[0].input_location,
        order_ref=order.number,
        source=Source(SourceType.MANUAL, "admin-test"),
        actor=Actor(process="test"),
    )
    return MaterialIssueBatch.objects.get(order=order)


def _force_close(ctx):
    from integration.erp.services.work_orders import work_order_close

    # A unit at operation 10 keeps the force close waiting.
    floor = make_floor()
    order, worker = floor.order(2), floor.workers[0]
    floor.clock_in(worker, 0)
    floor.post("start_job", at=1, badge_id=worker, job=floor.job(order, 10), quantity="1")
    floor.process()
    order, waiting = work_order_close(order=order, mode="force", actor=Actor(process="erp"))
    assert waiting
    return order.force_close_request


def _mapping(ctx):
    from integration.models import DefectReasonMapping

    return DefectReasonMapping.objects.create(
        defect=ReasonCodeFactory(), erp_reason_code="ERP-1", cost_center="CC-1"
    )


def _notification(ctx):
    from integration.services.notifications import notify

    return notify(kind="dead_letter", roles=["it"], title="Alert")[0]


# One object per model, made the way the application makes it.
def _scale_unit(ctx):
    roles_ensure()
    order = make_order()
    return scale_unit_register(code="SU-ADMIN", sites=[order.site]).scale_unit


def _hub_package(ctx):
    _scale_unit(ctx)
    return HubPackage.objects.first()


def _received_package(ctx):
    return ReceivedPackage.objects.create(
        hub_id=1,
        kind="reference",
        reason="test",
        payload={"objects": []},
        created_on_hub_at=timezone.now(),
    )


def _hub_forward(ctx):
    return HubForward.objects.create(
        registration_uuid=uuid.uuid4(), kind="clock_in", occurred_at=timezone.now(), payload={}
    )


BUILDERS = {
    "auth.Group": lambda ctx: Group.objects.create(name="Planners"),
    "auth.User": lambda ctx: ctx["admin"],
    "authtoken.TokenProxy": lambda ctx: TokenProxy.objects.get(
        pk=Token.objects.create(user=ctx["admin"]).pk
    ),
    "django_celery_beat.IntervalSchedule": lambda ctx: IntervalSchedule.objects.create(
        every=30, period=IntervalSchedule.SECONDS
    ),
    "django_celery_beat.CrontabSchedule": lambda ctx: CrontabSchedule.objects.create(
        minute="0", hour="3"
    ),
    "django_celery_beat.SolarSchedule": lambda ctx: SolarSchedule.objects.create(
        event="sunrise", latitude=Decimal("48.85"), longitude=Decimal("2.35")
    ),
    "django_celery_beat.ClockedSchedule": lambda ctx: ClockedSchedule.objects.create(
        clocked_time=timezone.now() + timedelta(days=1)
    ),
    "django_celery_beat.PeriodicTask": lambda ctx: PeriodicTask.objects.create(
        name="heartbeat",
        task="integration.tasks.record_heartbeat",
        interval=IntervalSchedule.objects.create(every=30, period=IntervalSchedule.SECONDS),
    ),
    "inventory.UnitOfMeasure": lambda ctx: UnitOfMeasureFactory(code="kg", decimal_places=3),
    "inventory.UnitConversion": lambda ctx: UnitConversion.objects.create(
        from_unit=UnitOfMeasureFactory(code="box"),
        to_unit=UnitOfMeasureFactory(),
        factor=Decimal("12"),
    ),
    "inventory.Item": lambda ctx: ItemFactory(),
    "inventory.Site": lambda ctx: SiteFactory(),
    "inventory.Warehouse": lambda ctx: WarehouseFactory(),
    "inventory.Location": lambda ctx: LocationFactory(),
    "orders.Resource": lambda ctx: ResourceFactory(),
    "orders.ReasonCode": lambda ctx: ReasonCodeFactory(),
    "orders.Bom": lambda ctx: make_releasable_product().bom,
    "orders.BomLine": lambda ctx: BomLineFactory(),
    "orders.Route": lambda ctx: make_releasable_product().route,
    "orders.RouteOperation": lambda ctx: RouteOperationFactory(),
    "orders.ProductionOrder": lambda ctx: advance_order(make_order(), S.IN_PROGRESS),
    "orders.OrderTransitionLog": _released_order_log,
    "execution.PayAgreement": lambda ctx: PayAgreement.objects.create(code="DAY", name="Day"),
    "execution.Worker": lambda ctx: Worker.objects.create(
        badge_id="1001",
        name="Jana",
        site=SiteFactory(),
        pay_agreement=PayAgreement.objects.create(code="D2", name="Day"),
    ),
    "execution.Terminal": lambda ctx: Terminal.objects.create(
        code="T1", name="Saw terminal", resource=ResourceFactory()
    ),
    "execution.AbsenceCode": lambda ctx: AbsenceCode.objects.create(
        code="SICK", description="Sick"
    ),
    "execution.IndirectActivity": lambda ctx: IndirectActivity.objects.create(
        code="CLEAN", description="Cleaning"
    ),
    "execution.Job": _first_of(Job),
    "execution.RawRegistration": _first_of(RawRegistration),
    "execution.ProcessingLogEntry": _first_of(ProcessingLogEntry),
    "execution.RouteCardLine": _first_of(RouteCardLine),
    "execution.PickingListLine": _first_of(PickingListLine),
    "execution.ReportAsFinishedLine": _first_of(ReportAsFinishedLine),
    "execution.GenealogyLink": _first_of(GenealogyLink),
    "execution.LogbookEntry": _first_of(LogbookEntry),
    "execution.JobActivity": _first_of(JobActivity),
    "execution.MaterialLineState": _first_of(MaterialLineState),
    "execution.AttendanceDay": _attendance_day,
    "integration.Heartbeat": lambda ctx: Heartbeat.objects.create(
        name="worker", last_seen=timezone.now(), count=3
    ),
    "integration.ErpWipSnapshot": lambda ctx: _wip_snapshot(ctx, ctx["admin"]),
    "integration.ErpWipLine": lambda ctx: _wip_snapshot(ctx).lines.get(),
    "integration.ReconciliationRun": _reconciliation_run,
    "integration.OutboxMessage": _dead_letter,
    "integration.ChangeRequest": _change_request,
    "integration.IdempotencyKey": _idempotency_key,
    "integration.MaterialIssueBatch": _issue_batch,
    "integration.ForceCloseRequest": _force_close,
    "integration.DefectReasonMapping": _mapping,
    "integration.Notification": _notification,
    "integration.ScaleUnit": _scale_unit,
    "integration.HubPackage": _hub_package,
    "integration.ReceivedPackage": _received_package,
    "integration.HubForward": _hub_forward,
    "integration.HubLink": lambda ctx: hub_link(),
}
# Admins whose change URL is keyed by something else than the object's pk.
OBJECT_IDS = {"authtoken.TokenProxy": lambda obj: obj.user_id}

REGISTERED = sorted(admin.site._registry.items(), key=lambda pair: pair[0]._meta.label)


def an_object(label, model, ctx):
    """The builder's object, or else one the rest of the application made around a
    released, running order (jobs, reservations...) for models owned by other apps."""
    if label in BUILDERS:
        return BUILDERS[label](ctx)
    advance_order(make_order(), S.IN_PROGRESS)
    return model._default_manager.order_by("pk").first()


@pytest.mark.parametrize(
    ("model", "model_admin"), REGISTERED, ids=[m._meta.label for m, _ in REGISTERED]
)
def test_registered_admin_pages_render(admin_client, admin_user, model, model_admin):
    label, info = model._meta.label, (model._meta.app_label, model._meta.model_name)
    request = RequestFactory().get("/")
    request.user = admin_user

    response = admin_client.get(reverse("admin:{}_{}_changelist".format(*info)))
    assert response.status_code == 200, label
    if model_admin.search_fields:
        response = admin_client.get(reverse("admin:{}_{}_changelist".format(*info)), {"q": "x"})
        assert response.status_code == 200, label

    if model_admin.has_add_permission(request):
        assert admin_client.get(reverse("admin:{}_{}_add".format(*info))).status_code == 200

    obj = an_object(label, model, {"admin": admin_user})
    if obj is None:
        pytest.skip(f"{label}: no object to open; add a builder to BUILDERS")
    object_id = quote(OBJECT_IDS.get(label, lambda o: o.pk)(obj))
    response = admin_client.get(reverse("admin:{}_{}_change".format(*info), args=[object_id]))
    assert response.status_code == 200, label
    assert response.context["original"].pk == obj.pk
    response = admin_client.get(reverse("admin:{}_{}_history".format(*info), args=[object_id]))
    assert response.status_code == 200, label


def test_every_foundation_model_has_a_builder():
    # Models of the apps this suite owns must not fall back on objects other apps made.
    owned = {"auth", "authtoken", "django_celery_beat", "orders", "integration"}
    foundation = {"UnitOfMeasure", "UnitConversion", "Item", "Site", "Warehouse", "Location"}
    labels = {m._meta.label for m, _ in REGISTERED}
    expected = {
        label
        for label in labels
        if label.split(".")[0] in owned or label.split(".")[1] in foundation
    }
    assert expected - set(BUILDERS) == set()


# --- Production order list: constant queries -----------------------------------------------


def _orders(count, site):
    """Orders of distinct items, a tenth of them released, most of them scheduled."""
    for number in range(count):
        if number % 10 == 0:
            advance_order(make_order(make_releasable_product(site=site, lines=1)), S.RELEASED)
            continue
        make_order(
            Product(item=ItemFactory(), bom=None, route=None, site=site),
            quantity=number + 1,
            scheduled_start=timezone.now() + timedelta(days=number % 7),
        )


def test_order_changelist_runs_a_constant_number_of_queries(admin_client):
    url = reverse(f"{ORDER_URL}_changelist")
    site = SiteFactory()

    def count_queries():
        with CaptureQueriesContext(connection) as queries:
            response = admin_client.get(url)
        assert response.status_code == 200
        return len(queries), response.context["cl"].result_count

    _orders(5, site)
    few, shown_few = count_queries()
    _orders(45, site)
    many, shown_many = count_queries()

    print(f"order changelist: {few} queries for 5 orders, {many} for 50")
    assert (shown_few, shown_many) == (5, 50)
    assert few == many


# --- Transition buttons ----------------------------------------------------------------------


def transition_url(order, name):
    return reverse(f"{ORDER_URL}_transition", args=[order.pk, name])


def change_url(order):
    return reverse(f"{ORDER_URL}_change", args=[order.pk])


def flashed(response):
    return [(m.level, m.message) for m in get_messages(response.wsgi_request)]


def test_release_button_releases_the_order(admin_client, admin_user):
    order = make_order()

    # No stock for its components: confirmed (tests/pages/test_release_shortages.py).
    response = admin_client.post(
        transition_url(order, "release"), {"reason": "kit complete", "confirm_shortages": "1"}
    )

    assert response.status_code == 302
    assert response["Location"] == change_url(order)
    order = ProductionOrder.objects.get(pk=order.pk)
    assert order.status == S.RELEASED
    assert order.materials.count() == 3
    log = order.transition_log.get()
    assert (log.transition, log.user, log.reason) == (T.RELEASE, admin_user, "kit complete")
    assert flashed(response) == [
        (messages.SUCCESS, f"Release: order {order.number} is now Released.")
    ]


def test_refused_transition_keeps_the_status_and_shows_why(admin_client):
    product = make_releasable_product()
    product.bom.approved = False
    product.bom.save()
    order = make_order(product)

    response = admin_client.post(transition_url(order, "release"), follow=True)

    assert response.status_code == 200
    assert ProductionOrder.objects.get(pk=order.pk).status == S.CREATED
    assert not order.transition_log.exists()
    ((level, message),) = [(m.level, m.message) for m in response.context["messages"]]
    assert level == messages.ERROR
    assert f"BOM {product.item.part_number} rev A is not approved" in message
    # The change page the user lands on says the same next to the disabled button.
    assert "Not now: " in response.content.decode()


@pytest.mark.parametrize("name", ["start", "complete", "bogus"])
def test_only_manual_transitions_have_buttons(admin_client, name):
    order = advance_order(make_order(), S.RELEASED)
    assert admin_client.post(transition_url(order, name)).status_code == 403
    assert ProductionOrder.objects.get(pk=order.pk).status == S.RELEASED


def test_a_transition_needs_a_post(admin_client):
    order = make_order()
    assert admin_client.get(transition_url(order, "release")).status_code == 403
    assert ProductionOrder.objects.get(pk=order.pk).status == S.CREATED


def test_change_page_offers_the_possible_transitions(admin_client):
    order = advance_order(make_order(), S.COMPLETED)
    content = admin_client.get(change_url(order)).content.decode()
    assert f'formaction="{transition_url(order, "close")}"' in content
    assert f'formaction="{transition_url(order, "cancel")}"' in content
    assert transition_url(order, "release") not in content


# --- Frozen orders, bulk actions ---------------------------------------------------------


def _material_rows_can_change(response) -> bool:
    return any(
        inline.has_add_permission or inline.formset.extra_forms or inline.formset.can_delete
        for inline in response.context["inline_admin_formsets"]
        if inline.formset.model is ProductionOrderMaterial
    )


def test_closed_order_page_has_no_quantity_input(admin_client):
    open_order = advance_order(make_order(), S.RELEASED)
    response = admin_client.get(change_url(open_order))
    assert 'name="quantity"' in response.content.decode()
    assert _material_rows_can_change(response)

    closed = advance_order(make_order(), S.CLOSED)
    response = admin_client.get(change_url(closed))

    assert response.status_code == 200
    content = response.content.decode()
    assert 'name="quantity"' not in content
    assert 'name="item"' not in content
    # Nor can materials be added to or removed from it.
    assert not _material_rows_can_change(response)


def test_release_selected_orders_action(admin_client):
    ready = [make_order(), make_order()]
    product = make_releasable_product()
    product.route.operations.all().delete()
    not_ready = make_order(product)

    response = admin_client.post(
        reverse(f"{ORDER_URL}_changelist"),
        {
            # No stock for their components: the confirmed release.
            "action": "release_selected_with_shortages",
            "_selected_action": [o.pk for o in [*ready, not_ready]],
        },
        follow=True,
    )

    assert response.status_code == 200
    statuses = dict(ProductionOrder.objects.values_list("number", "status"))
    assert statuses == {
        ready[0].number: S.RELEASED,
        ready[1].number: S.RELEASED,
        not_ready.number: S.CREATED,
    }
    levels = sorted(m.level for m in response.context["messages"])
    assert levels == [messages.SUCCESS, messages.ERROR]
    errors = [m.message for m in response.context["messages"] if m.level == messages.ERROR]
    assert "has no operations" in errors[0]


# --- Add and change forms go through the services ------------------------------------------


def test_admin_create_goes_through_the_service(admin_client, admin_user):
    product = make_releasable_product()
    data = {
        "number": "PO-ADMIN-1",
        "item": product.item.pk,
        "revision": "A",
        "quantity": "25",
        "unit": product.item.unit_id,
        "site": product.site.pk,
        "scheduled_start_0": "2026-12-01",
        "scheduled_start_1": "06:00:00",
        "priority": "3",
        "over_delivery_tolerance_pct": "5",
    }

    response = admin_client.post(reverse(f"{ORDER_URL}_add"), data)

    assert response.status_code == 302, response.context and response.context["errors"]
    order = ProductionOrder.objects.get(number="PO-ADMIN-1")
    assert (order.status, order.quantity, order.priority) == (S.CREATED, 25, 3)
    assert not order.transition_log.exists()
    created = order.history.get()
    assert created.history_change_reason == "created by user:admin"
    assert created.history_user == admin_user


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"quantity": "2.5"}, "has more decimals than pcs allows"),
        ({"quantity": "0"}, "must be above zero"),
        ({"priority": "12"}, "Priority goes from 1"),
        ({"number": ""}, "This field is required"),
    ],
)
def test_admin_create_refuses_what_the_service_refuses(admin_client, change, error):
    product = make_releasable_product()
    data = {
        "number": "PO-ADMIN-2",
        "item": product.item.pk,
        "revision": "A",
        "quantity": "25",
        "unit": product.item.unit_id,
        "site": product.site.pk,
        "priority": "5",
        "over_delivery_tolerance_pct": "0",
        **change,
    }
    response = admin_client.post(reverse(f"{ORDER_URL}_add"), data)
    assert response.status_code == 200
    assert error in response.content.decode()
    assert not ProductionOrder.objects.filter(number="PO-ADMIN-2").exists()


def change_form_data(response, **changes) -> dict:
    """What the browser would post back from a change page: the main form's editable
    fields as they are, each inline's management form and rows, then `changes`."""
    adminform = response.context["adminform"]
    form = adminform.form
    data = {}
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        if value is None or value is False:
            continue
        if hasattr(value, "pk"):
            value = value.pk
        if name == "scheduled_start":
            data["scheduled_start_0"], data["scheduled_start_1"] = (
                value.strftime("%Y-%m-%d"),
                value.strftime("%H:%M:%S"),
            )
            continue
        data[name] = "on" if value is True else value
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        data[f"{formset.prefix}-TOTAL_FORMS"] = formset.initial_form_count()
        data[f"{formset.prefix}-INITIAL_FORMS"] = formset.initial_form_count()
        for row in formset.initial_forms:
            data[f"{row.prefix}-id"] = row.instance.pk
            data[f"{row.prefix}-{formset.fk.name}"] = formset.instance.pk
    data.update(changes)
    return data


def test_admin_change_refuses_a_quantity_below_produced(admin_client):
    order = advance_order(make_order(quantity=10), S.RELEASED)
    order = order_lifecycle.order_record_quantities(order=order, good=Decimal(6))
    page = admin_client.get(change_url(order))

    response = admin_client.post(change_url(order), change_form_data(page, quantity="5"))

    assert response.status_code == 200
    assert "is below the 6 already produced" in response.content.decode()
    assert ProductionOrder.objects.get(pk=order.pk).quantity == 10


def test_admin_change_of_quantity_resumes_a_completed_order(admin_client, admin_user):
    order = advance_order(make_order(quantity=10), S.COMPLETED)
    page = admin_client.get(change_url(order))

    response = admin_client.post(change_url(order), change_form_data(page, quantity="15"))

    assert response.status_code == 302, response.context and response.context["errors"]
    order = ProductionOrder.objects.get(pk=order.pk)
    assert (order.quantity, order.status) == (15, S.IN_PROGRESS)
    log = order.transition_log.latest("id")
    assert (log.transition, log.user) == (T.RESUME, admin_user)


def test_admin_split_into_steps(admin_client):
    order = make_order(quantity=100)
    response = admin_client.post(
        reverse(f"{ORDER_URL}_split", args=[order.pk]), {"step_size": "20"}, follow=True
    )
    assert response.status_code == 200
    assert list(order.steps.values_list("quantity", flat=True)) == [20] * 5
    assert [m.message for m in response.context["messages"]] == [
        f"Order {order.number} split into 5 steps."
    ]


def test_quantities_are_shown_without_exponents(admin_client):
    # Decimal("10").normalize() prints as 1E+1; lists and messages must say 10.
    line = BomLineFactory(quantity_per=Decimal("20"))
    conversion = UnitConversion.objects.create(
        from_unit=UnitOfMeasureFactory(code="box"),
        to_unit=UnitOfMeasureFactory(),
        factor=Decimal(10),
    )
    assert str(line).endswith(" x 20")
    assert str(conversion) == "1 box = 10 pcs"
    content = admin_client.get(reverse("admin:orders_bomline_changelist")).content.decode()
    assert f"{line.component.part_number} x 20" in content


# --- Execution: journals and the processing log list in constant queries --------------------

EXECUTION_LISTS = [
    "rawregistration",
    "processinglogentry",
    "routecardline",
    "pickinglistline",
    "reportasfinishedline",
    "genealogylink",
    "logbookentry",
    "jobactivity",
    "materiallinestate",
    "job",
]


@pytest.mark.parametrize("model_name", EXECUTION_LISTS)
def test_execution_changelists_run_a_constant_number_of_queries(admin_client, model_name):
    url = reverse(f"admin:execution_{model_name}_changelist")

    def count_queries():
        with CaptureQueriesContext(connection) as queries:
            response = admin_client.get(url)
        assert response.status_code == 200
        return len(queries), response.context["cl"].result_count

    floor_history(orders=1)
    few, shown_few = count_queries()
    floor_history(orders=4)
    many, shown_many = count_queries()

    print(f"{model_name} changelist: {few} queries for {shown_few} rows, {many} for {shown_many}")
    assert shown_many > shown_few > 0
    assert few == many


# --- Jobs: the plan changes through job_plan_change ------------------------------------------


def _job_form(job, **changes):
    data = {"sequence": job.sequence, "resource": job.resource_id, "on_hold": job.on_hold}
    data.update(changes)
    return {key: ("on" if value is True else value) for key, value in data.items() if value}


def test_job_change_page_moves_the_job_through_the_service(admin_client):
    floor = make_floor(stock=0)
    job = floor.job(floor.order(5), 20)
    url = reverse("admin:execution_job_change", args=[job.pk])
    page = admin_client.get(url)
    assert page.status_code == 200
    assert set(page.context["adminform"].form.fields) == {"sequence", "resource", "on_hold"}

    response = admin_client.post(url, _job_form(job, resource=floor.resources[0].pk, on_hold=True))

    assert response.status_code == 302, response.context and response.context["errors"]
    moved = Job.objects.get(pk=job.pk)
    assert (moved.resource, moved.on_hold) == (floor.resources[0], True)
    assert moved.sequence > floor.job(job.order, 10).sequence  # at the end of the new plan
    # Recorded once: the form's trial run of the service (to show a refusal on the form) was
    # rolled back.
    (record,) = moved.history.all()
    assert record.history_change_reason == "plan changed by user:admin"


def test_job_change_page_shows_the_services_refusal(admin_client):
    floor = make_floor(stock=0)
    job = floor.job(floor.order(5), 20)
    Job.objects.filter(pk=job.pk).update(status=JobStatus.COMPLETED)
    url = reverse("admin:execution_job_change", args=[job.pk])

    response = admin_client.post(url, _job_form(job, sequence=5))

    assert response.status_code == 200
    assert "is completed" in response.content.decode()
    job.refresh_from_db()
    assert job.sequence != 5
    assert not job.history.exists()


def test_job_sequence_is_editable_in_the_list(admin_client):
    floor = make_floor(stock=0)
    order = floor.order(5)
    jobs = list(order.jobs.order_by("pk"))
    url = reverse("admin:execution_job_changelist")
    page = admin_client.get(url)
    formset = page.context["cl"].formset
    data = {
        "form-TOTAL_FORMS": formset.total_form_count(),
        "form-INITIAL_FORMS": formset.initial_form_count(),
        "_save": "Save",
    }
    for index, form in enumerate(formset.forms):
        data[f"form-{index}-id"] = form.instance.pk
        data[f"form-{index}-sequence"] = form.instance.sequence
    index = [form.instance.pk for form in formset.forms].index(jobs[0].pk)
    data[f"form-{index}-sequence"] = 999

    response = admin_client.post(url, data)

    assert response.status_code == 302
    changed = Job.objects.get(pk=jobs[0].pk)
    assert changed.sequence == 999
    assert changed.history.first().history_change_reason == "plan changed by user:admin"


def test_admin_changes_after_release_resync_reservations_and_jobs(admin_client):
    """Quantity and an added material line, through the admin: reservations and job plans
    follow in the same save (execution's change use case)."""
    order = advance_order(make_order(quantity=10), S.RELEASED)
    lines = {m.component_id: m for m in order.materials.all()}
    page = admin_client.get(change_url(order))
    response = admin_client.post(change_url(order), change_form_data(page, quantity="5"))
    assert response.status_code == 302, response.context and response.context["errors"]
    open_qty = {
        r.item_id: r.quantity_open for r in Reservation.objects.filter(order_ref=order.number)
    }
    assert open_qty == {c: 5 * m.quantity_per for c, m in lines.items()}
    assert {j.planned_quantity for j in order.jobs.filter(kind="process")} == {Decimal(5)}

    extra = ItemFactory()
    page = admin_client.get(change_url(order))
    [new_rows] = [i.formset for i in page.context["inline_admin_formsets"] if i.formset.extra == 1]
    prefix = new_rows.prefix
    data = change_form_data(page)
    data.update(
        {
            f"{prefix}-TOTAL_FORMS": 1,
            f"{prefix}-0-component": extra.pk,
            f"{prefix}-0-quantity_per": "3",
            f"{prefix}-0-scrap_allowance_pct": "0",
            f"{prefix}-0-flushing_principle": "none",
        }
    )
    response = admin_client.post(change_url(order), data)
    assert response.status_code == 302, response.context and response.context["errors"]
    assert Reservation.objects.get(order_ref=order.number, item=extra).quantity_open == 15
