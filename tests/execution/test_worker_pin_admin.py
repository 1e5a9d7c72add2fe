"""A worker's PIN is set in the admin, stored hashed, and signs the worker in at a terminal."""

import pytest
from django.contrib.auth import get_user_model

from execution.models import Worker
from execution.services.terminal import worker_check_pin
from tests.execution.floor import make_floor

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    user = get_user_model().objects.create_superuser("root", password="pw-root-2026")
    client.force_login(user)
    return client


def _change(admin_client, worker: Worker, pin: str):
    return admin_client.post(
        f"/admin/execution/worker/{worker.pk}/change/",
        {
            "badge_id": worker.badge_id,
            "name": worker.name,
            "site": worker.site_id,
            "pay_agreement": worker.pay_agreement_id or "",
            "is_active": "on",
            "new_pin": pin,
        },
    )


def test_a_pin_typed_in_the_admin_is_stored_hashed_and_signs_in(admin_client):
    worker = make_floor().workers[0]
    response = _change(admin_client, worker, "4321")
    assert response.status_code == 302
    worker.refresh_from_db()
    assert worker.pin_hash and "4321" not in worker.pin_hash
    assert worker_check_pin(badge_id=worker.badge_id, pin="4321") == worker


def test_an_invalid_pin_is_refused_and_an_empty_one_keeps_the_old(admin_client):
    worker = make_floor().workers[0]
    _change(admin_client, worker, "4321")
    response = _change(admin_client, worker, "12a")
    assert response.status_code == 200
    assert "A PIN is 4 to 8 digits." in response.content.decode()
    _change(admin_client, worker, "")
    assert worker_check_pin(badge_id=worker.badge_id, pin="4321") == worker
