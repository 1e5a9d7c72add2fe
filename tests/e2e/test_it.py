"""IT in the browser: a dead letter retried from the outbox page releases the held messages
of its order (delivered to the ERP simulator by the relay); idempotency keys; a
reconciliation started from its page, followed on the progress page."""

import uuid

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from integration.choices import MessageKind, MessageStatus
from integration.erp.services import outbox
from integration.erp.services.relay import outbox_deliver
from integration.models import OutboxMessage
from integration.reconciliation.services import erp_wip_snapshot_receive
from mesproject.roles import IT
from tests.factories import make_order, make_releasable_product
from tests.integration import conftest as erp_fixtures
from tests.integration.helpers import create_body, erp_client

from .conftest import screenshot, sign_in, user_with_role

pytestmark = pytest.mark.django_db(transaction=True)

# The ERP simulator of the integration tests (a real server on loopback), shared here.
_erp_simulator_process = erp_fixtures._erp_simulator_process
erp_simulator = erp_fixtures.erp_simulator
SECRET = erp_fixtures.SECRET


@pytest.fixture
def jobs_inline():
    """No worker in this test: jobs started from a page run inside the request."""
    from mesproject.celery import app

    saved = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = saved


def test_a_dead_letter_retried_from_the_it_page_releases_its_order(page, erp_simulator, settings):
    settings.MES_ERP_ENDPOINT_URL = erp_simulator.messages_url
    settings.MES_ERP_SIGNING_SECRETS = [SECRET]
    settings.MES_OUTBOX_THREADS = 1
    product = make_releasable_product()
    order = make_order(product)
    other = make_order(product)
    for number in (other.number, "payroll"):
        done = outbox.outbox_enqueue(stream=number, kind=MessageKind.GENEALOGY, payload={})
        OutboxMessage.objects.filter(pk=done.pk).update(
            status=MessageStatus.DELIVERED, attempts=1, delivered_at=timezone.now()
        )
    dead = outbox.outbox_enqueue(
        stream=order.number,
        kind=MessageKind.SCRAP,
        order=order,
        payload={
            "wo_id": order.number,
            "defect_code": "SCRATCH",
            "reason_code": "SCR-01",
            "cost_center": "CC-410",
            "qty_scrapped": "2",
        },
    )
    # The ERP refused it (its cost center was missing there); IT retries once it is added.
    outbox.dead_letter(
        dead,
        'ERP answered 422: {"code": "unknown_cost_center"}',
        now=timezone.now(),
        status_code=422,
    )
    held = [
        outbox.outbox_enqueue(
            stream=order.number,
            kind=kind,
            order=order,
            payload={"wo_id": order.number, "qty_good": "8"},
        )
        for kind in (MessageKind.PRODUCTION_COMPLETION, MessageKind.GENEALOGY)
    ]
    user_with_role(IT, "ivy")
    sign_in(page, "ivy")

    page.goto("/it/outbox/")
    table = page.get_by_role("table")
    expect(table).to_contain_text("Dead letter")
    expect(page.locator("tr.status-held")).to_have_count(2)
    screenshot(page, "it-outbox")

    page.get_by_role("link", name=f"Message {dead}").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"{order.number} #1")
    expect(page.locator("pre.json")).to_contain_text('"defect_code": "SCRATCH"')
    expect(page.get_by_label("Payload (JSON object)")).to_be_visible()
    screenshot(page, "it-outbox-message")

    page.get_by_role("button", name="Retry now").click()
    expect(page.locator(".message.success")).to_contain_text("it will be sent again now")
    # The relay (what the worker runs) delivers the stream in order to the ERP.
    outbox_deliver()

    page.goto(f"/it/outbox/?stream={order.number}")
    expect(page.locator("tbody .badge.delivered")).to_have_count(3)
    assert [m["sequence"] for m in erp_simulator.messages() if m["stream"] == order.number] == [
        1,
        2,
        3,
    ]
    assert {OutboxMessage.objects.get(pk=m.pk).status for m in held} == {MessageStatus.DELIVERED}


def test_keys_and_a_reconciliation_followed_on_its_progress_page(page, jobs_inline):
    product = make_releasable_product()
    erp = erp_client()
    for n in range(3):
        response = erp.post(
            "/api/v1/work-orders/",
            create_body(product, f"WO-E2E-{n}"),
            format="json",
            headers={"Idempotency-Key": f"erp-{uuid.uuid4()}"},
        )
        assert response.status_code == 201
    erp_wip_snapshot_receive(
        as_of=timezone.now(),
        lines=[
            {"wo_id": "WO-E2E-0", "component_part": "BOLT-M8", "quantity": "12"},
            {"wo_id": "WO-E2E-1", "component_part": "BOLT-M8", "quantity": "4"},
        ],
        user=None,
    )
    user_with_role(IT, "ivy")
    sign_in(page, "ivy")

    page.goto("/it/idempotency-keys/")
    expect(page.get_by_role("table")).to_contain_text("/api/v1/work-orders/")
    screenshot(page, "it-idempotency-keys")

    page.goto("/integration/reconciliation/")
    page.get_by_role("button", name="Run reconciliation now").click()
    progress = page.locator("#task-progress")
    expect(progress).to_contain_text("Finished at")
    expect(progress).to_contain_text("2 pair(s) compared, 2 variance(s) flagged")
    screenshot(page, "task-progress")
    # The task stays listed with what it did.
    page.get_by_role("link", name="All background tasks").click()
    expect(page.get_by_role("table")).to_contain_text("2 pair(s) compared, 2 variance(s) flagged")
    screenshot(page, "it-tasks")
    page.go_back()

    page.get_by_role("link", name="See the result").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Reconciliation run")
    expect(page.get_by_role("table").first).to_contain_text("WO-E2E-0")
    screenshot(page, "it-reconciliation")
