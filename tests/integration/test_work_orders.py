"""The ERP's work-order contract through HTTP: every rule of the seed's recap table that is
about work orders (create, change, close), with token authentication and idempotency keys."""

import re
import uuid
from decimal import Decimal as D
from urllib.parse import urlencode

import pytest
from django.urls import reverse

from execution.services.order_lifecycle import order_record_quantities, order_release
from integration.choices import ChangeRequestStatus
from integration.erp.services.work_orders import change_request_approve
from integration.models import ChangeRequest, Notification
from inventory.models import Reservation
from mesproject.actors import Actor
from mesproject.roles import SUPERVISOR
from orders.choices import OrderStatus
from orders.models import ProductionOrder
from tests.api import new_key, openapi_schema, response_codes
from tests.factories import advance_order, make_order, make_releasable_product

from .helpers import create_body, erp_client, operator_client, supervisor

pytestmark = pytest.mark.django_db

CREATE = "/api/v1/work-orders/"


def detail(wo_id):
    return f"/api/v1/work-orders/{wo_id}/"


@pytest.fixture
def erp():
    return erp_client()


@pytest.fixture
def product():
    return make_releasable_product()


def test_create_returns_201_and_the_order_reads_back(erp, product):
    response = erp.post(CREATE, create_body(product, "WO-1"), format="json", headers=new_key())
    assert response.status_code == 201, response.json()
    order = ProductionOrder.objects.get(number="WO-1")
    assert order.status == OrderStatus.CREATED and order.quantity == 10 and order.priority == 3
    assert order.site == product.site  # from the routing's first operation
    body = erp.get(detail("WO-1")).json()
    assert body["status"] == "created" and D(body["qty_target"]) == 10
    assert {"qty_good", "qty_scrap", "qty_in_progress"} <= set(body)


def test_existing_wo_id_is_an_idempotent_update_while_created(erp, product):
    erp.post(CREATE, create_body(product, "WO-2"), format="json", headers=new_key())
    again = erp.post(
        CREATE, create_body(product, "WO-2", qty="12"), format="json", headers=new_key()
    )
    assert again.status_code == 200
    assert again.json()["work_order"]["qty_target"] == "12.000000"
    assert ProductionOrder.objects.filter(number="WO-2").count() == 1


def test_existing_wo_id_past_created_is_rejected_with_its_status(erp, product):
    order = make_order(product, number="WO-3")
    order_release(order=order)
    response = erp.post(CREATE, create_body(product, "WO-3"), format="json", headers=new_key())
    assert response.status_code == 409
    assert response.json()["code"] == "wo_exists"
    assert response.json()["fields"]["status"] == "released"


@pytest.mark.parametrize(
    "breakage, named",
    [
        ("part", "part NOPE"),
        ("bom", "BOM"),
        ("route", "routing"),
        ("unapproved", "not approved"),
    ],
)
def test_missing_master_data_rejects_the_order_naming_it(erp, product, breakage, named):
    body = create_body(product, "WO-4")
    if breakage == "part":
        body["part_number"] = "NOPE"
    elif breakage == "bom":
        product.bom.delete()
    elif breakage == "route":
        product.route.operations.all().delete()
        product.route.delete()
    else:
        product.route.approved = False
        product.route.save()
    response = erp.post(CREATE, body, format="json", headers=new_key())
    assert response.status_code == 422
    assert response.json()["code"] == "master_data_missing"
    assert any(named in missing for missing in response.json()["fields"]["missing"])
    assert not ProductionOrder.objects.filter(number="WO-4").exists()


def test_bad_input_is_400_and_writes_nothing(erp, product):
    for body in (
        {"wo_id": "WO-5"},
        create_body(product, "WO-5", qty="-1"),
        create_body(product, "WO-5", qty="abc"),
        create_body(product, "WO-5", priority=0),
    ):
        response = erp.post(CREATE, body, format="json", headers=new_key())
        assert response.status_code == 400, response.json()
        assert response.json()["code"] == "invalid"
    assert not ProductionOrder.objects.filter(number="WO-5").exists()


def test_change_below_produced_is_rejected(erp, product):
    order = advance_order(make_order(product, number="WO-6", quantity=10), OrderStatus.COMPLETED)
    response = erp.patch(detail("WO-6"), {"qty_target": "9"}, format="json", headers=new_key())
    assert response.status_code == 409 and response.json()["code"] == "qty_below_produced"
    order.refresh_from_db()
    assert order.quantity == 10


def test_change_of_a_created_or_released_order_applies_at_once(erp, product):
    order = make_order(product, number="WO-7")
    order_release(order=order)
    response = erp.patch(
        detail("WO-7"), {"qty_target": "15", "priority": 1}, format="json", headers=new_key()
    )
    assert response.status_code == 200
    order.refresh_from_db()
    assert order.quantity == 15 and order.priority == 1


def test_change_of_a_running_order_waits_for_the_supervisor(erp, product):
    order = advance_order(make_order(product, number="WO-8"), OrderStatus.IN_PROGRESS)
    boss = supervisor()
    response = erp.patch(detail("WO-8"), {"qty_target": "20"}, format="json", headers=new_key())
    assert response.status_code == 202
    assert response.json()["change_request"]["status"] == "pending"
    order.refresh_from_db()
    assert order.quantity == 10  # not applied yet
    assert Notification.objects.filter(role=SUPERVISOR, kind="change_request").count() == 1
    request = ChangeRequest.objects.get(order=order)
    change_request_approve(request=request, actor=Actor(user=boss))
    order.refresh_from_db()
    assert order.quantity == 20
    request.refresh_from_db()
    assert request.status == ChangeRequestStatus.APPROVED and request.decided_by == boss


def test_an_approved_change_resyncs_reservations_and_job_quantities(erp, product):
    order = advance_order(make_order(product, number="WO-8R"), OrderStatus.IN_PROGRESS)
    reserved = {
        r.item_id: r.quantity_reserved for r in Reservation.objects.filter(order_ref="WO-8R")
    }
    erp.patch(detail("WO-8R"), {"qty_target": "20"}, format="json", headers=new_key())
    change_request_approve(
        request=ChangeRequest.objects.get(order=order), actor=Actor(user=supervisor())
    )
    order.refresh_from_db()
    assert order.quantity == 20
    # Each line's requirement doubled with the quantity (nothing consumed yet).
    after = {r.item_id: r.quantity_open for r in Reservation.objects.filter(order_ref="WO-8R")}
    assert after == {item: quantity * 2 for item, quantity in reserved.items()}
    process = order.jobs.filter(kind="process")
    assert process.count() == 3
    assert set(process.values_list("planned_quantity", flat=True)) == {D(20)}


def test_a_change_of_a_released_order_resyncs_reservations(erp, product):
    order = make_order(product, number="WO-7R")
    order_release(order=order)
    before = {r.item_id: r.quantity_open for r in Reservation.objects.filter(order_ref="WO-7R")}
    erp.patch(detail("WO-7R"), {"qty_target": "5"}, format="json", headers=new_key())
    after = {r.item_id: r.quantity_open for r in Reservation.objects.filter(order_ref="WO-7R")}
    assert after == {item: quantity / 2 for item, quantity in before.items()}
    assert set(order.jobs.filter(kind="process").values_list("planned_quantity", flat=True)) == {
        D(5)
    }


def test_approval_checks_again_what_was_produced_meanwhile(erp, product):
    order = advance_order(make_order(product, number="WO-9", quantity=10), OrderStatus.IN_PROGRESS)
    erp.patch(detail("WO-9"), {"qty_target": "5"}, format="json", headers=new_key())
    order_record_quantities(order=order, good=D(7))
    from mesproject.errors import NotAllowed

    with pytest.raises(NotAllowed) as refused:
        change_request_approve(
            request=ChangeRequest.objects.get(order=order), actor=Actor(user=supervisor())
        )
    assert refused.value.code == "qty_below_produced"


def test_close_cancel_frees_reserved_material(erp, product):
    order = make_order(product, number="WO-10")
    order_release(order=order)
    assert Reservation.objects.filter(order_ref="WO-10", quantity_open__gt=0).exists()
    response = erp.post(
        reverse("integration:work-order-close", args=["WO-10"]),
        {"mode": "cancel"},
        format="json",
        headers=new_key(),
    )
    assert response.status_code == 200
    assert response.json()["work_order"]["status"] == "canceled"
    assert not Reservation.objects.filter(order_ref="WO-10", quantity_open__gt=0).exists()


def test_short_close_closes_with_what_was_produced_and_frees_the_rest(erp, product):
    order = advance_order(make_order(product, number="WO-11", quantity=10), OrderStatus.IN_PROGRESS)
    order_record_quantities(order=order, in_progress=D(-1), good=D(6))
    response = erp.post(
        reverse("integration:work-order-close", args=["WO-11"]),
        {"mode": "short_close"},
        format="json",
        headers=new_key(),
    )
    assert response.status_code == 200, response.json()
    order.refresh_from_db()
    assert order.status == OrderStatus.CLOSED and order.quantity == 6
    assert not Reservation.objects.filter(order_ref="WO-11", quantity_open__gt=0).exists()


def test_short_close_with_units_in_progress_asks_for_force(erp, product):
    advance_order(make_order(product, number="WO-12"), OrderStatus.IN_PROGRESS)
    response = erp.post(
        reverse("integration:work-order-close", args=["WO-12"]),
        {"mode": "short_close"},
        format="json",
        headers=new_key(),
    )
    assert response.status_code == 409 and response.json()["code"] == "work_in_progress"


def test_close_of_a_finished_order_is_refused(erp, product):
    advance_order(make_order(product, number="WO-13"), OrderStatus.CLOSED)
    response = erp.post(
        reverse("integration:work-order-close", args=["WO-13"]),
        {"mode": "cancel"},
        format="json",
        headers=new_key(),
    )
    assert response.status_code == 409 and response.json()["code"] == "wo_finished"


def test_unknown_wo_id_is_404(erp):
    assert erp.get(detail("NOPE")).status_code == 404
    response = erp.patch(detail("NOPE"), {"priority": 2}, format="json", headers=new_key())
    assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_a_form_body_is_415_and_the_schema_offers_json_only(erp, product):
    # A form cannot carry a BOM's lines or a null, nor the transaction_uuid the idempotency
    # middleware reads: the contract is JSON, and so is what the schema offers.
    body = create_body(product, "WO-14")
    multipart = erp.post(CREATE, body, format="multipart", headers=new_key())
    form = "application/x-www-form-urlencoded"
    urlencoded = erp.post(CREATE, urlencode(body), content_type=form, headers=new_key())
    for response in (multipart, urlencoded):
        assert response.status_code == 415
        assert response.json()["code"] == "unsupported_media_type"
    assert not ProductionOrder.objects.filter(number="WO-14").exists()
    schema = openapi_schema()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if "requestBody" in operation and path != "/api/v1/b2mml/schedule/":
                assert list(operation["requestBody"]["content"]) == ["application/json"]
                assert "415" in response_codes(schema, path, method), (method, path)


@pytest.mark.parametrize(
    "qty, valid",
    [
        *[("12", True), ("0", True), ("12.", True), ("0.5", True), (".5", True)],
        *[("", False), ("-1", False), (".", False), ("-", False)],
    ],
)
def test_the_schema_pattern_of_a_quantity_matches_what_the_api_accepts(erp, product, qty, valid):
    properties = openapi_schema()["components"]["schemas"]["WorkOrderCreate"]["properties"]
    assert bool(re.fullmatch(properties["qty_target"]["pattern"], qty)) is valid
    body = create_body(product, "WO-15", qty=qty)
    response = erp.post(CREATE, body, format="json", headers=new_key())
    refused = response.json().get("fields", {}) if response.status_code == 400 else {}
    assert ("qty_target" not in refused) is valid, response.json()


def test_the_schema_says_a_bom_and_a_routing_need_a_line(erp, product):
    schemas = openapi_schema()["components"]["schemas"]
    lines, operations = schemas["Bom"]["properties"]["lines"], schemas["Routing"]["properties"]
    assert (lines["minItems"], lines["maxItems"]) == (1, 2000)
    assert (operations["operations"]["minItems"], operations["operations"]["maxItems"]) == (1, 500)
    url = f"/api/v1/boms/{product.item.part_number}/{product.item.revision}/"
    response = erp.put(url, {"lines": []}, format="json", headers=new_key())
    assert response.status_code == 400 and "lines" in response.json()["fields"]


# --- Who may call ---------------------------------------------------------------------------


def test_anonymous_and_wrong_roles_are_refused(product):
    from rest_framework.test import APIClient

    body = create_body(product, "WO-20")
    assert APIClient().post(CREATE, body, format="json", headers=new_key()).status_code == 401
    operator = operator_client()
    response = operator.post(CREATE, body, format="json", headers=new_key())
    assert response.status_code == 403
    assert operator.get(detail("WO-20")).status_code == 403
    assert not ProductionOrder.objects.filter(number="WO-20").exists()


def test_an_erp_token_cannot_reach_the_admin_or_the_floor_pages(erp):
    for path in ("/admin/", "/floor/processing-log/"):
        response = erp.get(path)
        assert response.status_code in (302, 403), path
        if response.status_code == 302:
            assert "login" in response["Location"]


# --- Idempotency ----------------------------------------------------------------------------


def test_a_replay_returns_the_first_answer(erp, product):
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = erp.post(CREATE, create_body(product, "WO-30"), format="json", headers=key)
    again = erp.post(CREATE, create_body(product, "WO-30"), format="json", headers=key)
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert "Idempotent-Replayed" not in first


def test_a_4xx_answer_is_kept_too(erp, product):
    key = {"Idempotency-Key": str(uuid.uuid4())}
    body = create_body(product, "WO-31", part_number="NOPE")
    first = erp.post(CREATE, body, format="json", headers=key)
    # The part arrives afterwards: the same key still answers what it answered.
    again = erp.post(CREATE, body, format="json", headers=key)
    assert first.status_code == again.status_code == 422
    assert again["Idempotent-Replayed"] == "true"


def test_the_body_transaction_uuid_is_the_key(erp, product):
    body = create_body(product, "WO-32", transaction_uuid=str(uuid.uuid4()))
    assert erp.post(CREATE, body, format="json").status_code == 201
    again = erp.post(CREATE, body, format="json")
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"


def test_no_key_is_400_and_writes_nothing(erp, product):
    response = erp.post(CREATE, create_body(product, "WO-33"), format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "idempotency_key_missing"
    assert not ProductionOrder.objects.filter(number="WO-33").exists()


def test_another_payload_under_the_same_key_is_422(erp, product):
    key = {"Idempotency-Key": str(uuid.uuid4())}
    erp.post(CREATE, create_body(product, "WO-34"), format="json", headers=key)
    other = erp.post(CREATE, create_body(product, "WO-34", qty="11"), format="json", headers=key)
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    assert ProductionOrder.objects.get(number="WO-34").quantity == 10


def test_keys_are_per_caller(product):
    key = {"Idempotency-Key": "shared-key"}
    first = erp_client().post(CREATE, create_body(product, "WO-35"), format="json", headers=key)
    second = erp_client().post(CREATE, create_body(product, "WO-36"), format="json", headers=key)
    assert first.status_code == second.status_code == 201
    assert "Idempotent-Replayed" not in second


def test_a_key_in_flight_is_409_and_an_abandoned_one_is_taken_over(erp, product, settings):
    from datetime import timedelta

    from django.utils import timezone

    from integration.erp.services.idempotency import idempotency_claim, request_fingerprint
    from integration.models import IdempotencyKey

    body = create_body(product, "WO-37")
    user = _token_user(erp)
    import json

    fingerprint = request_fingerprint(
        method="POST",
        path=CREATE,
        body=json.dumps(body).encode(),
        content_type="application/json",
    )
    claim = idempotency_claim(
        user=user, key="busy", fingerprint=fingerprint, method="POST", path=CREATE
    )
    assert claim.outcome == "run"
    response = erp.post(CREATE, body, format="json", headers={"Idempotency-Key": "busy"})
    assert response.status_code == 409 and response.json()["code"] == "idempotency_key_in_flight"
    assert not ProductionOrder.objects.filter(number="WO-37").exists()
    # The process that claimed it died: after the in-flight limit a retry takes it over.
    IdempotencyKey.objects.filter(key="busy").update(
        created_at=timezone.now()
        - timedelta(seconds=settings.MES_IDEMPOTENCY_IN_FLIGHT_SECONDS + 1)
    )
    response = erp.post(CREATE, body, format="json", headers={"Idempotency-Key": "busy"})
    assert response.status_code == 201


def _token_user(client):
    from rest_framework.authtoken.models import Token

    key = client._credentials["HTTP_AUTHORIZATION"].split()[1]
    return Token.objects.get(key=key).user


def test_expired_keys_are_purged_and_then_free(erp, product, settings):
    from datetime import timedelta

    from django.utils import timezone

    from integration.erp.services.idempotency import idempotency_keys_purge
    from integration.models import IdempotencyKey

    key = {"Idempotency-Key": "old-key"}
    erp.post(CREATE, create_body(product, "WO-38"), format="json", headers=key)
    record = IdempotencyKey.objects.get(key="old-key")
    assert record.expires_at > timezone.now() + timedelta(
        days=settings.MES_IDEMPOTENCY_KEY_DAYS - 1
    )
    IdempotencyKey.objects.filter(pk=record.pk).update(expires_at=timezone.now())
    assert idempotency_keys_purge() == 1
    # The key is free again: the same request is a new request (an idempotent update).
    again = erp.post(CREATE, create_body(product, "WO-38"), format="json", headers=key)
    assert again.status_code == 200 and "Idempotent-Replayed" not in again


def test_a_5xx_is_not_kept(erp, product, monkeypatch):
    from integration.models import IdempotencyKey

    key = {"Idempotency-Key": "crash"}
    erp.raise_request_exception = False
    monkeypatch.setattr(
        "integration.erp.api.views.work_orders.work_order_create",
        lambda **kwargs: 1 / 0,
    )
    response = erp.post(CREATE, create_body(product, "WO-39"), format="json", headers=key)
    assert response.status_code == 500
    assert not IdempotencyKey.objects.filter(key="crash").exists()
    monkeypatch.undo()
    assert (
        erp.post(CREATE, create_body(product, "WO-39"), format="json", headers=key).status_code
        == 201
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_identical_requests_create_one_order():
    import threading

    from django.db import connection

    product = make_releasable_product()
    client = erp_client()
    body = create_body(product, "WO-50")
    key = {"Idempotency-Key": str(uuid.uuid4())}
    barrier = threading.Barrier(20)
    answers = []

    def post():
        try:
            barrier.wait()
            response = client.post(CREATE, body, format="json", headers=key)
            answers.append((response.status_code, response.get("Idempotent-Replayed")))
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert ProductionOrder.objects.filter(number="WO-50").count() == 1
    codes = sorted(code for code, _ in answers)
    assert len(codes) == 20 and set(codes) <= {201, 409}, codes
    assert [replayed for code, replayed in answers if code == 201].count(None) == 1
