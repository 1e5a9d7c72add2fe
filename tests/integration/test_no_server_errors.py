"""Never a 500 under /api/: each input that once answered a server error (or Django's HTML
400) now gets the API's coded JSON 4xx and changes nothing (issue 15, item 7)."""

import json
import uuid

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from execution.models import RawRegistration
from integration.models import IdempotencyKey
from integration.scale_units import services as scale_units
from inventory.models import Item
from mesproject.roles import OPERATOR
from orders.models import Bom, ProductionOrder, Route
from tests.api import new_key, token_client
from tests.execution.floor import make_floor
from tests.factories import make_releasable_product

from .helpers import create_body, erp_client, role_user
from .test_b2mml import operations_request, operations_schedule, post_schedule

pytestmark = pytest.mark.django_db

REGISTRATIONS = "/api/v1/registrations/"
CREATE = "/api/v1/work-orders/"


def coded(response, status: int, code: str) -> dict:
    """The answer is the API's JSON error body with this status and code."""
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert body["code"] == code, body
    assert body["message"] and isinstance(body["fields"], dict)
    return body


@pytest.fixture
def erp():
    client = erp_client()
    client.raise_request_exception = False
    return client


@pytest.fixture
def operator():
    client = token_client(role_user(OPERATOR))
    client.raise_request_exception = False
    return client


def _registration(**extra) -> dict:
    return {
        "registration_uuid": str(uuid.uuid4()),
        "kind": "clock_in",
        "occurred_at": "2026-12-01T06:00:00Z",
        "badge_id": "B-1",
        **extra,
    }


# --- control characters in a registration -----------------------------------------------


def test_a_nul_in_the_registration_uuid_is_refused(operator):
    body = _registration(registration_uuid="\u0000" + str(uuid.uuid4())[1:])
    response = operator.post(REGISTRATIONS, body, format="json")
    coded(response, 400, "control_character")
    assert not RawRegistration.objects.exists() and not IdempotencyKey.objects.exists()


@pytest.mark.parametrize("field", ["badge_id", "terminal", "resource", "order", "note"])
@pytest.mark.parametrize("char", ["\u0000", "\u0007", "\u001b", "\u007f"])
def test_a_control_character_in_any_text_field_is_refused(operator, field, char):
    body = _registration(**{field: f"X{char}Y"})
    response = operator.post(REGISTRATIONS, body, format="json", headers=new_key())
    answer = coded(response, 400, "control_character")
    assert field in answer["fields"]
    assert not RawRegistration.objects.exists()


def test_a_control_character_in_a_batch_is_refused_in_its_own_answer(operator):
    body = [_registration(note="a\u0000b")]
    response = operator.post(REGISTRATIONS, body, format="json", headers=new_key())
    assert response.status_code < 500
    assert not RawRegistration.objects.exists()


# --- JSON depth, size ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", [REGISTRATIONS, CREATE, "/api/v1/parts/P-1/", "/api/v1/work-orders/WO-1/close/"]
)
def test_json_nested_950_levels_is_refused(erp, path):
    deep = "[" * 950 + "]" * 950
    raw = '{"note": ' + deep + ', "transaction_uuid": "' + str(uuid.uuid4()) + '"}'
    method = erp.put if "/parts/" in path else erp.post
    response = method(path, raw, content_type="application/json", headers=new_key())
    coded(response, 400, "json_too_deep")
    assert not ProductionOrder.objects.exists() and not Item.objects.exists()


def test_json_nested_within_the_limit_is_parsed():
    from mesproject.parsers import MAX_JSON_DEPTH, json_depth

    assert json_depth(json.loads("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH)) == MAX_JSON_DEPTH


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
@pytest.mark.parametrize("path", [REGISTRATIONS, CREATE])
def test_an_oversized_body_is_a_json_413(erp, path):
    raw = json.dumps({"note": "x" * 2000, "transaction_uuid": str(uuid.uuid4())})
    response = erp.post(path, raw, content_type="application/json", headers=new_key())
    coded(response, 413, "payload_too_large")
    assert not IdempotencyKey.objects.exists()


# --- path parameters ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "method, path",
    [
        ("get", "/api/v1/work-orders/WO%001/"),
        ("patch", "/api/v1/work-orders/WO%001/"),
        ("post", "/api/v1/work-orders/WO%001/close/"),
        ("get", "/api/v1/work-orders/WO%001/as-built/"),
        ("get", "/api/v1/work-orders/WO%001/b2mml/"),
        ("put", "/api/v1/parts/P%001/"),
        ("put", "/api/v1/boms/P%001/A/"),
        ("put", "/api/v1/boms/P-1/A%00/"),
        ("put", "/api/v1/routings/P%001/A/"),
        ("put", "/api/v1/routings/P-1/A%00/"),
    ],
)
def test_a_nul_in_a_path_parameter_is_refused(erp, method, path):
    product = make_releasable_product()
    part, unit = product.item.part_number, product.item.unit.code
    bodies = {  # valid bodies: only the path is wrong
        "parts": {"uom": unit},
        "boms": {"lines": [{"line_number": 10, "component_part": part, "quantity_per": "1"}]},
        "routings": {"operations": [{"operation_number": 10, "name": "Cut", "resource_code": "R"}]},
    }
    body = bodies.get(path.split("/")[3], {"mode": "cancel", "priority": 2})
    path = path.replace("P-1", part)
    items = Item.objects.count()
    response = getattr(erp, method)(path, body, format="json", headers=new_key())
    assert response.status_code in (400, 404, 422), response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    assert "code" in response.json()
    assert Item.objects.count() == items


@pytest.mark.parametrize("kind", ["boms", "routings"])
def test_a_revision_over_16_characters_in_a_path_is_refused(erp, kind):
    product = make_releasable_product()
    part = product.item.part_number
    body = (
        {"lines": [{"line_number": 10, "component_part": part, "quantity_per": "1"}]}
        if kind == "boms"
        else {"operations": [{"operation_number": 10, "name": "Cut", "resource_code": "R"}]}
    )
    boms, routes = Bom.objects.count(), Route.objects.count()
    response = erp.put(f"/api/v1/{kind}/{part}/{'R' * 17}/", body, format="json", headers=new_key())
    answer = coded(response, 422, "identifier_invalid")
    assert "revision" in answer["fields"]
    assert (Bom.objects.count(), Route.objects.count()) == (boms, routes)


def test_a_huge_after_on_scale_unit_packages_is_refused():
    floor = make_floor(workers=1)
    role_user(OPERATOR)  # the roles exist
    registered = scale_units.scale_unit_register(code="SU1", sites=[floor.site])
    client = token_client(registered.scale_unit.user)
    client.raise_request_exception = False
    response = client.get("/api/v1/scale-units/packages/", {"after": "9" * 23})
    coded(response, 400, "invalid")
    registered.scale_unit.refresh_from_db()
    assert registered.scale_unit.last_contact_at is None


# --- identifiers --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "field, value",
    [
        ("wo_id", "WO/../x"),
        ("wo_id", "WO-\u202e1"),
        ("wo_id", " "),
        ("wo_id", "WO 1"),
        ("wo_id", "WO-\u00e91"),
        ("part_number", " "),
        ("part_number", "P/1"),
        ("revision", "A\u202e"),
        ("revision", "A/B"),
    ],
)
def test_a_work_order_with_an_invalid_identifier_is_refused(erp, field, value):
    product = make_releasable_product()
    body = create_body(product, "WO-OK")
    body[field] = value
    response = erp.post(CREATE, body, format="json", headers=new_key())
    answer = coded(response, 422, "identifier_invalid")
    assert field in answer["fields"]
    assert not ProductionOrder.objects.exists()


def test_identifiers_of_the_character_set_are_taken(erp):
    product = make_releasable_product()
    body = create_body(product, "WO-2026_01.a:b#c+d")
    response = erp.post(CREATE, body, format="json", headers=new_key())
    assert response.status_code == 201, response.json()
    assert erp.get("/api/v1/work-orders/WO-2026_01.a:b%23c+d/").status_code == 200


@pytest.mark.parametrize(
    "field, wo_id, revision",
    [("wo_id", "WO/../x", None), ("wo_id", "WO-\u202e1", None), ("revision", "WO-B", "A B")],
)
def test_a_b2mml_schedule_with_an_invalid_identifier_is_refused(erp, field, wo_id, revision):
    product = make_releasable_product()
    known = operations_request("WO-OK", product.item.part_number, "5")
    bad = operations_request(wo_id, product.item.part_number, "5", revision=revision)
    response = post_schedule(erp, operations_schedule(known, bad))
    answer = coded(response, 422, "identifier_invalid")
    assert field in answer["fields"] and answer["fields"]["request_index"] == 2
    assert not ProductionOrder.objects.exists()


@pytest.mark.parametrize("part_number", ["P 1", "%20", "P%E2%80%AE1"])
def test_a_part_with_an_invalid_part_number_is_refused(erp, part_number):
    response = erp.put(
        f"/api/v1/parts/{part_number}/", {"uom": "pcs"}, format="json", headers=new_key()
    )
    answer = coded(response, 422, "identifier_invalid")
    assert "part_number" in answer["fields"]
    assert not Item.objects.exists()


def test_a_registration_lot_number_follows_the_character_set(operator):
    body = _registration(kind="report_as_finished", order="WO-1", lot_number="L/\u202e1")
    response = operator.post(REGISTRATIONS, body, format="json", headers=new_key())
    answer = coded(response, 422, "identifier_invalid")
    assert "lot_number" in answer["fields"]
    assert not RawRegistration.objects.exists()


# --- numbers out of range -----------------------------------------------------------------


@pytest.mark.parametrize(
    "field, value",
    [
        ("qty_target", "1e400"),
        ("qty_target", "NaN"),
        ("priority", 10**30),
        ("scheduled_start", "9999-12-31T23:59:59-14:00"),
    ],
)
def test_a_work_order_with_an_out_of_range_value_is_refused(erp, field, value):
    product = make_releasable_product()
    body = create_body(product, "WO-R")
    body[field] = value
    response = erp.post(CREATE, body, format="json", headers=new_key())
    assert 400 <= response.status_code < 500, response.content[:300]
    assert "code" in response.json()
    assert not ProductionOrder.objects.exists()


@pytest.mark.parametrize(
    "extra",
    [
        {"kind": "start_job", "job": 10**30},
        {"kind": "bundle", "jobs": [10**30]},
        {"kind": "consume_material", "order": "WO-1", "material_line": 10**30},
        {"kind": "report_progress", "job": 1, "quantity_good": "1e30"},
        {"kind": "absence", "absence_minutes": "1e20"},
        {"occurred_at": "9999-12-31T23:59:59-14:00"},
        {"occurred_at": "0001-01-01T00:00:00+14:00"},
    ],
)
def test_a_registration_with_an_out_of_range_value_is_refused(operator, extra):
    response = operator.post(REGISTRATIONS, _registration(**extra), format="json")
    assert 400 <= response.status_code < 500, response.content[:300]
    assert "code" in response.json()
    assert not RawRegistration.objects.exists()


# --- anything uncaught ----------------------------------------------------------------------


@pytest.mark.urls("tests.integration.broken_urls")
def test_anything_uncaught_under_api_answers_the_json_error_body():
    client = APIClient()
    client.raise_request_exception = False
    response = client.get("/api/v1/broken/")
    coded(response, 500, "server_error")
    assert "secret" not in response.content.decode()


@pytest.mark.urls("tests.integration.broken_urls")
def test_an_uncaught_error_on_a_page_shows_the_styled_error_page(client):
    client.raise_request_exception = False
    response = client.get("/broken-page/")
    assert response.status_code == 500
    page = response.content.decode()
    assert "Something went wrong" in page and 'class="site-header"' in page
    assert "secret" not in page


@pytest.mark.parametrize("path, status", [("/no-such-page/", 404)])
def test_a_missing_page_shows_the_styled_error_page(client, path, status):
    response = client.get(path)
    assert response.status_code == status
    assert "Page not found" in response.content.decode()


def test_an_unauthenticated_client_gets_json_too():
    client = APIClient()
    client.raise_request_exception = False
    response = client.get("/api/v1/work-orders/WO%00/")
    assert response["Content-Type"].startswith("application/json")
