"""Force close from the ERP: the units in progress finish their operation, nothing new may
start on the order, and the order closes once nothing is in progress."""

from decimal import Decimal as D

import pytest
from django.urls import reverse

from integration.models import ForceCloseRequest
from orders.choices import ConsumptionSetting, OrderStatus
from tests.api import new_key
from tests.execution.floor import make_floor
from tests.orders.helpers import reload

from .helpers import erp_client

pytestmark = pytest.mark.django_db


def test_force_close_lets_the_unit_in_progress_finish_and_refuses_new_starts():
    # One operation, the gate: the unit there finishes and is reported as finished.
    floor = make_floor(
        workers=2,
        settings=[ConsumptionSetting.ON_OPERATION_FEEDBACK],
        lines=[("FRAME", "start", 10, "1"), ("GRIP", "production_finish", None, "2")],
    )
    first, second = floor.workers
    order = floor.order(10)
    job = floor.job(order, 10)
    for worker in floor.workers:
        floor.clock_in(worker, 0)
    floor.post("start_job", at=1, badge_id=first, job=job, quantity="2")
    floor.post("report_progress", at=10, badge_id=first, job=job, quantity_good="1")
    floor.process()
    order = reload(order)
    assert order.status == OrderStatus.IN_PROGRESS and order.quantity_in_progress == D(2)

    response = erp_client().post(
        reverse("integration:work-order-close", args=[order.number]),
        {"mode": "force"},
        format="json",
        headers=new_key(),
    )
    assert response.status_code == 202, response.json()
    assert ForceCloseRequest.objects.filter(order=order, closed_at__isnull=True).exists()

    # Nothing new starts on the order while it is being closed...
    refused = floor.post("start_job", at=12, badge_id=second, job=job, quantity="3", expect=409)
    assert refused.json()["code"] == "job_start_blocked"
    assert "force closing" in refused.json()["message"]
    # ... but the unit at the gate finishes, and then the order closes by itself.
    floor.post(
        "report_progress",
        at=20,
        badge_id=first,
        job=job,
        quantity_good="1",
        completes_job=True,
    )
    floor.post("report_as_finished", at=25, badge_id=first, order=order, quantity_good="2")
    summary = floor.process()
    assert summary.failed == 0, summary
    order = reload(order)
    assert order.status == OrderStatus.CLOSED
    assert order.quantity_completed == D(2) and order.quantity_in_progress == 0
    assert ForceCloseRequest.objects.get(order=order).closed_at is not None
