"""What the MES reports upstream is written with the change it reports: consumption
(micro-batched), good receipts, scrap (mapped defect codes), the genealogy link on close,
the pay basis; and the outbox's dead-letter queue rules."""

from decimal import Decimal as D

import pytest
from django.db.models import Sum

from execution.models import PickingListLine
from execution.services.order_lifecycle import order_transition
from integration.choices import MessageKind, MessageStatus
from integration.erp.services import outbox
from integration.erp.services.outbox import material_issues_flush, outbox_cancel, outbox_retry
from integration.models import DefectReasonMapping, MaterialIssueBatch, Notification, OutboxMessage
from inventory import services as inventory_services
from inventory.choices import SourceType
from inventory.services import Source
from mesproject.actors import Actor
from mesproject.errors import NotAllowed
from mesproject.roles import IT
from orders.choices import Transition
from tests.execution.floor import make_floor

pytestmark = pytest.mark.django_db


def _messages(order, kind=None):
    rows = OutboxMessage.objects.filter(stream=order.number).order_by("sequence")
    return list(rows.filter(kind=kind) if kind else rows)


def _run(floor, order, worker, *, good, scrap=0, reason=None, lot=""):
    """One worker through the three operations, then report as finished; `scrap` units are
    scrapped at operation 20, so the operations before make them on top."""
    for index, operation in enumerate((10, 20, 30)):
        t = index * 30
        job = floor.job(order, operation)
        made = good + scrap if operation < 30 else good
        floor.post("start_job", at=t + 1, badge_id=worker, job=job, quantity=str(made))
        fields = {"quantity_good": str(made), "completes_job": True}
        if scrap and operation == 20:
            fields.update(
                quantity_good=str(good),
                quantity_scrap=str(scrap),
                reason_code=(reason or floor.scrap_reason).code,
            )
        floor.post("report_progress", at=t + 20, badge_id=worker, job=job, **fields)
    floor.post(
        "report_as_finished",
        at=95,
        order=order,
        quantity_good=str(good),
        terminal=floor.terminals[2].code,
        lot_number=lot,
    )


@pytest.fixture
def floor():
    return make_floor()


def test_a_run_reports_consumption_completion_and_scrap_in_order(floor, settings):
    settings.MES_MATERIAL_ISSUE_BATCH_UNITS = 10_000  # only the completion flushes them
    DefectReasonMapping.objects.create(
        defect=floor.scrap_reason, erp_reason_code="ERP-SCR", cost_center="CC-100"
    )
    order = floor.order(10, over_delivery_tolerance_pct=D(10))
    floor.clock_in(floor.workers[0], 0)
    _run(floor, order, floor.workers[0], good=10, scrap=1)
    floor.process()
    order.refresh_from_db()
    assert order.status == "completed"
    kinds = [m.kind for m in _messages(order)]
    # Scrap at op 20, then every consumption batch (flushed as the order completes), then
    # the good receipt: consumption is always reported before the completion.
    assert kinds[0] == MessageKind.SCRAP
    assert kinds[-1] == MessageKind.PRODUCTION_COMPLETION
    assert set(kinds[1:-1]) == {MessageKind.MATERIAL_ISSUE}
    assert [m.sequence for m in _messages(order)] == list(range(1, len(kinds) + 1))
    scrap = _messages(order, MessageKind.SCRAP)[0].payload
    assert scrap["reason_code"] == "ERP-SCR" and scrap["cost_center"] == "CC-100"
    assert scrap["component_part"] == order.item.part_number and scrap["qty_scrapped"] == "1"
    completion = _messages(order, MessageKind.PRODUCTION_COMPLETION)[0].payload
    assert completion["qty_good"] == "10" and completion["wo_id"] == order.number
    # The issues reported equal the picking list, component by component.
    reported = {}
    for message in _messages(order, MessageKind.MATERIAL_ISSUE):
        part = message.payload["component_part"]
        reported[part] = reported.get(part, D(0)) + D(message.payload["qty_consumed"])
    journal = {
        row["component__part_number"]: row["total"]
        for row in PickingListLine.objects.filter(order=order)
        .values("component__part_number")
        .annotate(total=Sum("quantity"))
    }
    assert reported == journal
    assert not MaterialIssueBatch.objects.filter(order=order).exists()


def test_an_unmapped_defect_code_is_a_dead_letter_not_a_guess(floor):
    order = floor.order(10)
    floor.clock_in(floor.workers[0], 0)
    _run(floor, order, floor.workers[0], good=9, scrap=1)
    floor.process()
    scrap = _messages(order, MessageKind.SCRAP)[0]
    assert scrap.status == MessageStatus.DEAD_LETTER
    assert "no ERP reason code" in scrap.last_error and scrap.payload["reason_code"] == ""
    assert Notification.objects.filter(role=IT, kind="dead_letter").count() == 1
    # IT maps the code and retries: the relay fills the reason code in when it sends.
    DefectReasonMapping.objects.create(
        defect=floor.scrap_reason, erp_reason_code="ERP-9", cost_center="CC-1"
    )
    outbox_retry(message=scrap)
    assert outbox.map_defect(scrap.payload)["reason_code"] == "ERP-9"


def test_a_thousand_single_unit_issues_make_a_handful_of_messages(floor, settings):
    settings.MES_MATERIAL_ISSUE_BATCH_UNITS = 50
    order = floor.order(10)
    part = next(iter(floor.components))
    item = floor.components[part]
    location = floor.resources[0].input_location
    floor.stock(part, 100, location)
    for n in range(1000):
        inventory_services.inventory_issue(
            item=item,
            quantity=D(1),
            location=location,
            order_ref=order.number,
            source=Source(SourceType.MANUAL, f"unit-{n}"),
            actor=Actor(process="test"),
        )
    # A return nets out of the open batch.
    inventory_services.inventory_return(
        item=item,
        quantity=D(3),
        location=location,
        order_ref=order.number,
        source=Source(SourceType.MANUAL, "back"),
        actor=Actor(process="test"),
    )
    messages = _messages(order, MessageKind.MATERIAL_ISSUE)
    assert len(messages) == 20
    assert all(m.payload["qty_consumed"] == "50" for m in messages)
    inventory_services.inventory_issue(
        item=item,
        quantity=D(5),
        location=location,
        order_ref=order.number,
        source=Source(SourceType.MANUAL, "more"),
        actor=Actor(process="test"),
    )
    assert material_issues_flush(order=order) == 1  # -3 + 5, net
    assert _messages(order)[-1].payload["qty_consumed"] == "2"
    total = sum(D(m.payload["qty_consumed"]) for m in _messages(order, MessageKind.MATERIAL_ISSUE))
    assert total == 1000 - 3 + 5


def test_batches_older_than_the_window_are_sent_by_the_sweep(floor, settings):
    from django.utils import timezone

    order = floor.order(10)
    part = next(iter(floor.components))
    inventory_services.inventory_issue(
        item=floor.components[part],
        quantity=D(2),
        location=floor.resources[0].input_location,
        order_ref=order.number,
        source=Source(SourceType.MANUAL, "x"),
        actor=Actor(process="test"),
    )
    assert material_issues_flush(due_only=True) == 0
    MaterialIssueBatch.objects.update(
        opened_at=timezone.now()
        - timezone.timedelta(minutes=settings.MES_MATERIAL_ISSUE_BATCH_MINUTES + 1)
    )
    assert material_issues_flush(due_only=True) == 1


def test_close_sends_the_genealogy_link_after_the_last_consumption(floor):
    order = floor.order(2)
    floor.clock_in(floor.workers[0], 0)
    _run(floor, order, floor.workers[0], good=2)
    floor.process()
    order_transition(order=order, transition=Transition.CLOSE)
    last = _messages(order)[-1]
    assert last.kind == MessageKind.GENEALOGY
    assert last.payload["as_built_url"].endswith(f"/api/v1/work-orders/{order.number}/as-built/")
    assert "components" not in last.payload  # a link, never the whole tree


def test_dead_letter_retry_and_cancel_rules(floor):
    order = floor.order(2)
    first = outbox.outbox_enqueue(stream=order.number, kind=MessageKind.SCRAP, payload={})
    with pytest.raises(NotAllowed):
        outbox_retry(message=first)  # pending, not in the DLQ
    outbox.dead_letter(first, "rejected", now=first.created_at)
    second = outbox.outbox_enqueue(
        stream=order.number, kind=MessageKind.PRODUCTION_COMPLETION, payload={}
    )
    from django.utils import timezone

    heads = outbox.deliverable_heads(now=timezone.now() + timezone.timedelta(hours=2), limit=10)
    assert first.pk in heads and second.pk not in heads  # held behind the dead letter
    outbox_cancel(message=first, actor=Actor(process="it"))
    heads = outbox.deliverable_heads(now=timezone.now() + timezone.timedelta(hours=2), limit=10)
    assert second.pk in heads
