"""The ERP work-order contract where it had gaps: concurrent creates of one wo_id, and the
release of an order through the API (on its own endpoint, or on create)."""

import threading
import time

import pytest
from django.db import connection

from execution.models import Job
from inventory.models import Reservation
from orders.models import OrderTransitionLog, ProductionOrder
from tests.api import new_key, openapi_schema, response_codes
from tests.factories import make_releasable_product

from .helpers import create_body, erp_client, operator_client

CREATE = "/api/v1/work-orders/"


def _post_all_at_once(client, bodies: list[dict]) -> list[tuple[int, dict]]:
    """Every body posted by its own thread (own connection, own Idempotency-Key), released
    together by a barrier."""
    barrier = threading.Barrier(len(bodies))
    answers: list[tuple[int, dict]] = []

    def post(index, body):
        try:
            barrier.wait()
            # Staggered by a few milliseconds: a later request must also find the first
            # one committed between its own look-up and its insert.
            time.sleep(index * 0.004)
            response = client.post(CREATE, body, format="json", headers=new_key())
            answers.append((response.status_code, response.json()))
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=pair) for pair in enumerate(bodies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return answers


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_creates_of_one_wo_id_make_one_201_and_the_rest_200():
    product = make_releasable_product()
    client = erp_client()
    # Several rounds: the losing request must take the update path whether it sees the
    # winner's row before its insert (committed) or only at its insert (unique index).
    for round_ in range(4):
        wo_id = f"WO-RACE-{round_}"
        answers = _post_all_at_once(
            client, [create_body(product, wo_id, qty=str(10 + n)) for n in range(8)]
        )
        codes = sorted(code for code, _ in answers)
        assert codes == [200] * 7 + [201], [body for code, body in answers if code >= 400]
        order = ProductionOrder.objects.get(number=wo_id)
        assert order.status == "created"
        # The last update wins; every answer shows the order as the read does.
        assert all(body["work_order"]["wo_id"] == wo_id for _, body in answers)


# --- Release through the API ----------------------------------------------------------------


def release(client, wo_id, headers=None):
    return client.post(
        f"/api/v1/work-orders/{wo_id}/release/", {}, format="json", headers=headers or new_key()
    )


@pytest.fixture
def erp():
    return erp_client()


@pytest.fixture
def product(db):
    return make_releasable_product()


@pytest.mark.django_db
def test_the_erp_releases_an_order_and_gets_it_back_as_the_read_shows_it(erp, product):
    erp.post(CREATE, create_body(product, "WO-R1"), format="json", headers=new_key())
    key = new_key()

    response = release(erp, "WO-R1", key)

    assert response.status_code == 200, response.json()
    read = erp.get("/api/v1/work-orders/WO-R1/").json()
    assert response.json()["work_order"] == read and read["status"] == "released"
    order = ProductionOrder.objects.get(number="WO-R1")
    # The release use case of the planner page: jobs from the route, materials reserved.
    assert Job.objects.filter(order=order).exists()
    assert Reservation.objects.filter(order_ref=order.number).exists()
    assert OrderTransitionLog.objects.filter(order=order, transition="release").get().user
    again = release(erp, "WO-R1", key)
    assert again.status_code == 200 and again["Idempotent-Replayed"] == "true"


@pytest.mark.django_db
def test_releasing_a_released_order_is_refused_with_its_status(erp, product):
    erp.post(CREATE, create_body(product, "WO-R2"), format="json", headers=new_key())
    release(erp, "WO-R2")

    response = release(erp, "WO-R2")

    assert response.status_code == 409
    assert response.json()["code"] == "release_refused"
    assert response.json()["fields"]["status"] == "released"


@pytest.mark.django_db
def test_a_release_without_master_data_is_422_naming_it_and_changes_nothing(erp, product):
    erp.post(CREATE, create_body(product, "WO-R3"), format="json", headers=new_key())
    product.bom.approved = False
    product.bom.save()

    response = release(erp, "WO-R3")

    assert response.status_code == 422, response.json()
    assert response.json()["code"] == "master_data_missing"
    assert any("BOM" in missing for missing in response.json()["fields"]["missing"])
    order = ProductionOrder.objects.get(number="WO-R3")
    assert order.status == "created" and not Job.objects.filter(order=order).exists()


@pytest.mark.django_db
def test_release_of_an_unknown_wo_id_is_404_and_needs_the_erp_role(erp, product):
    assert release(erp, "WO-NONE").status_code == 404
    erp.post(CREATE, create_body(product, "WO-R4"), format="json", headers=new_key())
    assert release(operator_client(), "WO-R4").status_code == 403
    assert ProductionOrder.objects.get(number="WO-R4").status == "created"


@pytest.mark.django_db
def test_create_with_release_true_creates_the_order_released(erp, product):
    response = erp.post(
        CREATE, create_body(product, "WO-R5", release=True), format="json", headers=new_key()
    )

    assert response.status_code == 201, response.json()
    assert response.json()["work_order"]["status"] == "released"
    order = ProductionOrder.objects.get(number="WO-R5")
    assert Job.objects.filter(order=order).exists()
    # An existing Created order: updated, then released.
    erp.post(CREATE, create_body(product, "WO-R6"), format="json", headers=new_key())
    response = erp.post(
        CREATE,
        create_body(product, "WO-R6", qty="12", release=True),
        format="json",
        headers=new_key(),
    )
    assert response.status_code == 200, response.json()
    assert response.json()["work_order"]["status"] == "released"
    assert response.json()["work_order"]["qty_target"] == "12.000000"


@pytest.mark.django_db
def test_release_is_in_the_openapi_schema(db):
    schema = openapi_schema()
    path = "/api/v1/work-orders/{wo_id}/release/"
    assert {"200", "404", "409", "422"} <= response_codes(schema, path, "post")
    assert "release" in schema["components"]["schemas"]["WorkOrderCreate"]["properties"]
