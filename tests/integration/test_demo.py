"""The demo plant reports to the ERP like a configured plant does: its scrap reasons are
mapped to ERP reason codes, so a scrap on the demo floor reaches the ERP instead of the
dead-letter queue."""

import uuid
from datetime import timedelta
from decimal import Decimal as D

import pytest
from django.utils import timezone

from execution.choices import RegistrationKind
from execution.models import Job, Worker
from execution.services.processing import registrations_process
from execution.services.registrations import RegistrationInput, registration_accept
from integration.choices import MessageKind, MessageStatus
from integration.demo.plant import seed_demo_plant
from integration.erp.services.relay import outbox_deliver
from integration.models import DefectReasonMapping, OutboxMessage
from orders.choices import ReasonKind
from orders.models import ReasonCode

from .conftest import SECRET

pytestmark = pytest.mark.django_db


def test_every_demo_scrap_reason_has_an_erp_reason_code(db):
    seed_demo_plant()

    scrap_reasons = set(ReasonCode.objects.filter(kind=ReasonKind.SCRAP).values_list("code"))
    mapped = set(
        DefectReasonMapping.objects.filter(is_active=True)
        .exclude(erp_reason_code="")
        .exclude(cost_center="")
        .values_list("defect__code")
    )
    assert scrap_reasons and scrap_reasons <= mapped


def test_a_scrap_on_the_demo_floor_reaches_the_erp(erp_simulator, settings):
    settings.MES_ERP_ENDPOINT_URL = erp_simulator.messages_url
    settings.MES_ERP_SIGNING_SECRETS = [SECRET]
    settings.MES_OUTBOX_THREADS = 1  # threads would not see this test's transaction
    seed_demo_plant()
    registrations_process()  # this morning's shift: a worker has started 10 frames
    worker = Worker.objects.get(badge_id="1001")
    job = Job.objects.get(order__number__endswith="-0005", operation_number=10, kind="process")
    assert job.quantity_started == 10
    registration_accept(
        data=RegistrationInput(
            uuid=uuid.uuid4(),
            kind=RegistrationKind.REPORT_PROGRESS,
            occurred_at=timezone.now() - timedelta(minutes=30),
            worker=worker,
            job=job,
            quantity_good=D(8),
            quantity_scrap=D(2),
            reason_code=ReasonCode.objects.get(code="SCR-DIM"),
        ),
        source="demo",
    )
    registrations_process()

    outbox_deliver()

    scrap = OutboxMessage.objects.get(stream=job.order.number, kind=MessageKind.SCRAP)
    assert scrap.status == MessageStatus.DELIVERED, scrap.last_error
    assert not OutboxMessage.objects.filter(status=MessageStatus.DEAD_LETTER).exists()
    [received] = [
        m["body"]
        for m in erp_simulator.messages()
        if m["transaction_uuid"] == str(scrap.transaction_uuid)
    ]
    assert received["reason_code"] and received["cost_center"]
    assert received["defect_code"] == "SCR-DIM" and received["qty_scrapped"] == "2"
