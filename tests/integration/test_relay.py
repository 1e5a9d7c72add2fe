"""The relay against the ERP simulator over loopback: signed, in order per work order,
exactly once, through the dead-letter queue and back, with a real Celery worker."""

import time

import pytest
from django.utils import timezone

from integration.choices import MessageKind, MessageStatus
from integration.erp.services import outbox
from integration.erp.services.relay import outbox_deliver, outbox_deliver_one
from integration.models import Notification, OutboxMessage
from integration.tasks import deliver_outbox
from tests.factories import make_order, make_releasable_product
from tests.test_celery_worker import start_worker

from .conftest import SECRET


def _enqueue(streams: list[str], per_stream: int) -> list[OutboxMessage]:
    messages = []
    for n in range(per_stream):
        for stream in streams:
            messages.append(
                outbox.outbox_enqueue(
                    stream=stream,
                    kind=MessageKind.PRODUCTION_COMPLETION,
                    payload={"wo_id": stream, "qty_good": "1", "n": n},
                )
            )
    return messages


def _assert_exactly_once_in_order(erp_simulator, messages) -> None:
    received = erp_simulator.messages()
    uuids = [r["transaction_uuid"] for r in received]
    assert sorted(uuids) == sorted(str(m.transaction_uuid) for m in messages)
    by_stream: dict[str, list[int]] = {}
    for record in received:
        by_stream.setdefault(record["stream"], []).append(record["sequence"])
    for stream, sequences in by_stream.items():
        expected = sorted(m.sequence for m in messages if m.stream == stream)
        assert sequences == expected, stream  # arrival order = sequence order


@pytest.mark.django_db
def test_messages_are_signed_delivered_once_and_in_order(erp_simulator, settings):
    settings.MES_ERP_ENDPOINT_URL = erp_simulator.messages_url
    settings.MES_ERP_SIGNING_SECRETS = [SECRET]
    settings.MES_OUTBOX_THREADS = 1  # threads would not see this test's transaction
    messages = _enqueue(["WO-A", "WO-B"], 3)
    summary = outbox_deliver()
    assert summary.delivered == 6
    assert OutboxMessage.objects.filter(status=MessageStatus.DELIVERED).count() == 6
    _assert_exactly_once_in_order(erp_simulator, messages)
    assert erp_simulator.stats()["bad_signature"] == 0


@pytest.mark.django_db
def test_a_wrong_secret_is_refused_by_the_erp_and_lands_in_the_dlq(erp_simulator, settings):
    settings.MES_ERP_ENDPOINT_URL = erp_simulator.messages_url
    settings.MES_ERP_SIGNING_SECRETS = ["not-the-secret"]
    settings.MES_OUTBOX_THREADS = 1
    (message,) = _enqueue(["WO-S"], 1)
    outbox_deliver()
    message.refresh_from_db()
    assert message.status == MessageStatus.DEAD_LETTER and message.last_status_code == 401
    assert erp_simulator.messages() == []


@pytest.mark.django_db
def test_a_rejected_message_holds_its_order_and_retry_releases_it(erp_simulator, settings):
    settings.MES_ERP_ENDPOINT_URL = erp_simulator.messages_url
    settings.MES_ERP_SIGNING_SECRETS = [SECRET]
    settings.MES_OUTBOX_THREADS = 1
    erp_simulator.set_mode("reject", count=1, match={"stream": "WO-R"})
    messages = _enqueue(["WO-R", "WO-OK"], 2)
    outbox_deliver()
    first = OutboxMessage.objects.get(stream="WO-R", sequence=1)
    assert first.status == MessageStatus.DEAD_LETTER and first.last_status_code == 422
    assert OutboxMessage.objects.get(stream="WO-R", sequence=2).status == MessageStatus.PENDING
    assert OutboxMessage.objects.filter(stream="WO-OK", status="delivered").count() == 2
    assert Notification.objects.filter(kind="dead_letter").exists()
    outbox.outbox_retry(message=first)
    outbox_deliver()
    assert not OutboxMessage.objects.exclude(status=MessageStatus.DELIVERED).exists()
    _assert_exactly_once_in_order(erp_simulator, messages)


@pytest.mark.django_db
def test_a_crash_after_sending_is_absorbed_by_the_erps_duplicate_check(
    erp_simulator, settings, monkeypatch
):
    settings.MES_ERP_ENDPOINT_URL = erp_simulator.messages_url
    settings.MES_ERP_SIGNING_SECRETS = [SECRET]
    (message,) = _enqueue(["WO-C"], 1)
    original = OutboxMessage.save

    def crash_once(self, *args, **kwargs):
        monkeypatch.setattr(OutboxMessage, "save", original)
        raise RuntimeError("the relay died between the ERP's answer and its commit")

    monkeypatch.setattr(OutboxMessage, "save", crash_once)
    with pytest.raises(RuntimeError):
        outbox_deliver_one(pk=message.pk)
    message.refresh_from_db()
    assert message.status == MessageStatus.PENDING  # rolled back: it will be sent again
    assert outbox_deliver_one(pk=message.pk) == "delivered"
    assert len(erp_simulator.messages()) == 1
    assert erp_simulator.stats()["duplicates"] == 1


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_erp_down_dlq_held_then_back_everything_once_in_order_with_a_real_worker(
    erp_simulator, settings
):
    """The ERP fails for a while: the heads go to the DLQ with an alert, later messages of
    their orders wait; when it is back the retries (a database column swept by the task,
    not broker countdowns) deliver everything exactly once and in order."""
    product = make_releasable_product()
    orders = [make_order(product, number=f"WO-E{n}") for n in range(3)]
    messages = _enqueue([o.number for o in orders], 4)
    erp_simulator.set_mode("fail")
    worker = start_worker(
        env={
            "MES_ERP_ENDPOINT_URL": erp_simulator.messages_url,
            "MES_ERP_SIGNING_SECRETS": SECRET,
            "MES_OUTBOX_RETRY_SECONDS": "1,1,2",
            "MES_OUTBOX_DLQ_AFTER_ATTEMPTS": "2",
            "MES_ERP_TIMEOUT_SECONDS": "2",
        }
    )
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            deliver_outbox.delay()
            if OutboxMessage.objects.filter(status=MessageStatus.DEAD_LETTER).count() == 3:
                break
            time.sleep(1)
        dead = OutboxMessage.objects.filter(status=MessageStatus.DEAD_LETTER)
        assert sorted(dead.values_list("sequence", flat=True)) == [1, 1, 1]
        assert OutboxMessage.objects.filter(status="pending", attempts=0).count() == 9  # held
        assert Notification.objects.filter(kind="dead_letter", role="it").count() == 3
        assert erp_simulator.messages() == []

        erp_simulator.set_mode("accept")
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            deliver_outbox.delay()
            if not OutboxMessage.objects.exclude(status=MessageStatus.DELIVERED).exists():
                break
            time.sleep(1)
        assert not OutboxMessage.objects.exclude(status=MessageStatus.DELIVERED).exists()
        _assert_exactly_once_in_order(erp_simulator, messages)
        assert erp_simulator.stats()["duplicates"] == 0
        assert all(m.delivered_at <= timezone.now() for m in OutboxMessage.objects.all())
    finally:
        worker.terminate()
        worker.wait(timeout=30)
