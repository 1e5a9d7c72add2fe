"""An ERP caller as in production: a user of the erp-integration group with a DRF token."""

import uuid

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from mesproject.roles import ERP_INTEGRATION, OPERATOR, SUPERVISOR
from mesproject.workplace.roles import roles_ensure
from tests.api import token_client


def role_user(role: str, name: str | None = None):
    roles_ensure()
    user = get_user_model().objects.create_user(name or f"{role}-{uuid.uuid4().hex[:8]}")
    user.groups.add(Group.objects.get(name=role))
    return user


def erp_client():
    return token_client(role_user(ERP_INTEGRATION))


def operator_client():
    return token_client(role_user(OPERATOR))


def supervisor():
    return role_user(SUPERVISOR)


def create_body(product, wo_id: str, qty="10", **extra) -> dict:
    return {
        "wo_id": wo_id,
        "part_number": product.item.part_number,
        "revision": product.item.revision,
        "qty_target": qty,
        "scheduled_start": "2026-12-01T06:00:00Z",
        "priority": 3,
        **extra,
    }
