"""The inventory API checks model permissions: an operator's or the ERP's token cannot read
the ledger or post an adjustment journal; a user with the permissions can."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.urls import reverse

from mesproject.roles import ERP_INTEGRATION, OPERATOR
from tests.api import new_key, token_client
from tests.integration.helpers import role_user

pytestmark = pytest.mark.django_db

LISTS = ["inventory:transaction-list", "inventory:onhand-list", "inventory:reservation-list"]


@pytest.mark.parametrize("role", [OPERATOR, ERP_INTEGRATION])
def test_tokens_without_the_permissions_are_refused(role):
    client = token_client(role_user(role))
    for name in [*LISTS, "inventory:journal-list"]:
        assert client.get(reverse(name)).status_code == 403, name
    response = client.post(reverse("inventory:journal-post", args=[1]), headers=new_key())
    assert response.status_code == 403
    assert response.json()["code"]


def test_view_permissions_open_the_lists():
    user = get_user_model().objects.create_user("clerk")
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="inventory",
            codename__in=[
                "view_inventorytransaction",
                "view_onhand",
                "view_reservation",
                "view_adjustmentjournal",
            ],
        )
    )
    client = token_client(user)
    for name in [*LISTS, "inventory:journal-list"]:
        assert client.get(reverse(name)).status_code == 200, name
    # Reading is not posting.
    response = client.post(reverse("inventory:journal-post", args=[1]), headers=new_key())
    assert response.status_code == 403
