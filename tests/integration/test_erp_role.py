"""The ERP API is the ERP integration role's: a planner's or a supervisor's token has the
model permissions but is refused (403 erp_role_required) and changes nothing; the ERP
integration account cannot sign in to the pages."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from rest_framework.test import APIClient

from mesproject.roles import ERP_INTEGRATION, PLANNER, SUPERVISOR
from orders.choices import OrderStatus
from orders.models import ProductionOrder
from tests.api import new_key, token_client
from tests.factories import make_releasable_product

from .helpers import create_body, erp_client, role_user

pytestmark = pytest.mark.django_db

CREATE = "/api/v1/work-orders/"
B2MML = """<?xml version="1.0"?><OperationsSchedule xmlns="http://www.mesa.org/xml/B2MML"/>"""


@pytest.fixture
def product():
    return make_releasable_product()


@pytest.fixture
def created(product):
    response = erp_client().post(
        CREATE, create_body(product, "WO-ROLE"), format="json", headers=new_key()
    )
    assert response.status_code == 201
    return ProductionOrder.objects.get(number="WO-ROLE")


def _refused(response):
    assert response.status_code == 403, response.content
    assert response.json()["code"] == "erp_role_required"


@pytest.mark.parametrize("role", [PLANNER, SUPERVISOR])
def test_a_planner_or_supervisor_token_cannot_create_change_or_close_work_orders(
    role, product, created
):
    user = role_user(role)
    # Both roles hold some of the order permissions: the role, not the permission, refuses.
    assert user.has_perm("orders.change_productionorder")
    client = token_client(user)
    _refused(client.post(CREATE, create_body(product, "WO-X"), format="json", headers=new_key()))
    _refused(
        client.patch(
            f"/api/v1/work-orders/{created.number}/",
            {"qty_target": "3"},
            format="json",
            headers=new_key(),
        )
    )
    _refused(
        client.post(
            reverse("integration:work-order-close", args=[created.number]),
            {"mode": "cancel"},
            format="json",
            headers=new_key(),
        )
    )
    _refused(client.get(f"/api/v1/work-orders/{created.number}/"))
    created.refresh_from_db()
    assert created.status == OrderStatus.CREATED and created.quantity == 10
    assert not ProductionOrder.objects.filter(number="WO-X").exists()


def test_master_data_wip_snapshot_and_b2mml_need_the_erp_role(product):
    user = role_user(PLANNER)
    # Even every permission the ERP has does not make a planner the ERP.
    user.user_permissions.add(Permission.objects.get(codename="add_erpwipsnapshot"))
    client = token_client(user)
    part = product.item
    _refused(
        client.put(
            f"/api/v1/parts/{part.part_number}/",
            {"description": "changed"},
            format="json",
            headers=new_key(),
        )
    )
    _refused(
        client.post(
            reverse("integration:erp-wip"),
            {"as_of": "2026-01-15T02:00:00Z", "lines": []},
            format="json",
            headers=new_key(),
        )
    )
    _refused(
        client.post(
            "/api/v1/b2mml/schedule/",
            B2MML,
            content_type="application/xml",
            headers=new_key(),
        )
    )
    part.refresh_from_db()
    assert part.description != "changed"


def test_the_erp_role_still_creates_and_no_token_is_asked_for_credentials(product):
    response = erp_client().post(
        CREATE, create_body(product, "WO-OK"), format="json", headers=new_key()
    )
    assert response.status_code == 201
    assert APIClient().post(CREATE, {}, format="json", headers=new_key()).status_code == 401


def test_the_erp_account_cannot_sign_in_to_the_pages(client):
    erp = role_user(ERP_INTEGRATION, "erp-pages")
    erp.set_password("right-password")
    erp.save()
    response = client.post(
        reverse("login"), {"username": "erp-pages", "password": "right-password"}
    )
    assert response.status_code == 200  # the form again, with the reason
    assert "works through the API only" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("planner:order_list")).status_code == 302  # to the sign-in
    planner = role_user(PLANNER, "planner-pages")
    planner.set_password("right-password")
    planner.save()
    response = client.post(
        reverse("login"), {"username": "planner-pages", "password": "right-password"}
    )
    assert response.status_code == 302 and response["Location"] == reverse("home")
