"""The office's list pages (change requests, notifications, outbox, idempotency keys,
reconciliation runs) and the rows they list (as in tests/pages/).
"""

import uuid

from .users import _seq


def change_requests(client):
    from django.urls import reverse
    from django.utils import timezone

    from integration.choices import ChangeRequestStatus
    from integration.models import ChangeRequest
    from orders.choices import OrderStatus
    from tests.factories import advance_order, make_order

    order = advance_order(make_order(quantity=10), OrderStatus.IN_PROGRESS)
    now = timezone.now()

    def add(n):
        ChangeRequest.objects.bulk_create(
            ChangeRequest(
                order=order,
                changes={"qty_target": "12", "scheduled_start": "2026-04-01T06:00:00+00:00"},
                requested_by_actor="erp",
                requested_at=now,
                status=ChangeRequestStatus.PENDING if i % 2 else ChangeRequestStatus.REJECTED,
            )
            for i in range(n)
        )

    return reverse("change_requests:list"), add


def notifications(client):
    from django.urls import reverse
    from django.utils import timezone

    from integration.choices import NotificationKind
    from integration.models import Notification
    from mesproject.roles import SUPERVISOR

    user = client.bench_user
    now = timezone.now()

    def add(n):
        rows = Notification.objects.bulk_create(
            Notification(
                kind=NotificationKind.RECONCILIATION,
                role=SUPERVISOR,
                title=f"Notice {next(_seq)}",
                text="Look at it.",
                created_at=now,
            )
            for _ in range(n)
        )
        # Every other one read by the user.
        Notification.read_by.through.objects.bulk_create(
            Notification.read_by.through(notification_id=row.pk, user_id=user.pk)
            for row in rows[::2]
        )

    return reverse("notifications:list"), add


def outbox(client):
    from django.urls import reverse
    from django.utils import timezone

    from integration.choices import MessageKind, MessageStatus
    from integration.models import OutboxMessage

    made = [0]
    states = [MessageStatus.DEAD_LETTER, MessageStatus.PENDING, MessageStatus.DELIVERED]

    def add(count):
        now = timezone.now()
        rows = []
        for _ in range(count):
            made[0] += 1
            n = made[0]
            state = states[n % 3]
            rows.append(
                OutboxMessage(
                    stream=f"WO-Q{n // 3}",
                    sequence=n % 3 + 1,
                    kind=MessageKind.MATERIAL_ISSUE,
                    transaction_uuid=uuid.uuid4(),
                    payload={"wo_id": f"WO-Q{n // 3}", "qty_consumed": "1"},
                    status=state,
                    last_error="refused" if state == MessageStatus.DEAD_LETTER else "",
                    created_at=now,
                    next_attempt_at=now,
                )
            )
        OutboxMessage.objects.bulk_create(rows, batch_size=2000)

    return reverse("it:outbox"), add


def idempotency_keys(client):
    """Completed keys of two callers (tests/pages/test_it.py's own helper)."""
    from django.contrib.auth import get_user_model
    from django.urls import reverse

    from tests.pages.test_it import keys_volume

    callers = [get_user_model().objects.create_user(f"caller-{next(_seq)}") for _ in range(2)]
    return reverse("it:idempotency_keys"), keys_volume(callers)


def reconciliation_runs(client):
    from django.urls import reverse
    from django.utils import timezone

    from integration.models import ReconciliationRun
    from integration.reconciliation.services import erp_wip_snapshot_receive

    snapshot = erp_wip_snapshot_receive(as_of=timezone.now(), lines=[], user=None)

    def add(count):
        ReconciliationRun.objects.bulk_create(
            ReconciliationRun(
                snapshot=snapshot,
                trigger="beat",
                started_by="process:beat",
                started_at=timezone.now(),
                pairs_total=340,
                variances_flagged=3,
            )
            for _ in range(count)
        )

    return reverse("integration-pages:reconciliation-list"), add
