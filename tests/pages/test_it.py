"""The IT pages: the outbox and its dead-letter queue (retry, cancel, fix, bulk retry), the
order's messages fragment, idempotency keys, the reconciliation runs, and the progress page
of long jobs (with a real Celery worker for "Process pending now").

Messages are written and dead-lettered through integration.erp.services.outbox, as the relay
does; the query-count tests add volume rows directly, since how a row was made does not
change what reading it costs.
"""

import json
import time
import uuid
from datetime import timedelta

import pytest
from celery import shared_task
from celery.result import AsyncResult
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from execution.choices import RegistrationStatus
from execution.models import RawRegistration
from execution.services.processing import registrations_process
from integration.choices import KeyState, MessageKind, MessageStatus, NotificationKind
from integration.erp.services import outbox
from integration.models import (
    Heartbeat,
    IdempotencyKey,
    Notification,
    OutboxMessage,
    ReconciliationRun,
)
from integration.reconciliation.services import erp_wip_snapshot_receive, reconciliation_run
from integration.reconciliation.tasks import reconcile_wip_now
from integration.tasks import record_heartbeat
from inventory.models import InventoryTransaction
from mesproject.actors import Actor
from mesproject.background_tasks import task_recorded, task_start
from mesproject.models import BackgroundTask
from mesproject.roles import IT, OPERATOR, PLANNER, SUPERVISOR
from tests.execution.floor import make_floor
from tests.factories import make_order, make_releasable_product
from tests.integration.helpers import create_body, erp_client, role_user
from tests.integration.test_reconciliation import Floor as ReconciliationFloor
from tests.integration.test_reconciliation import snapshot as erp_snapshot
from tests.pages import assert_constant_queries
from tests.test_celery_worker import start_worker

pytestmark = pytest.mark.django_db

OUTBOX = reverse("it:outbox")
BULK_RETRY = reverse("it:outbox_retry_selected")
KEYS = reverse("it:idempotency_keys")
RUNS = reverse("integration-pages:reconciliation-list")
RUN_PERMISSION = "integration.add_reconciliationrun"


def message_url(message, action=""):
    name = f"it:outbox_message_{action}" if action else "it:outbox_message"
    return reverse(name, args=[message.pk])


def status(message) -> str:
    return OutboxMessage.objects.get(pk=message.pk).status


@pytest.fixture
def jobs_inline():
    """Jobs started from a page run inline (no worker here; one test below has a real one);
    the result backend still keeps their outcome."""
    from mesproject.celery import app

    saved = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = saved


def signed_in(client, role):
    user = role_user(role)
    client.force_login(user)
    return user


class Stream:
    """One order's messages: a dead letter (rejected by the ERP), two held behind it."""

    def __init__(self, number=None):
        self.order = make_order(make_releasable_product(), number=number)
        self.dead = self.enqueue(MessageKind.SCRAP, {"wo_id": self.order.number, "qty": "2"})
        outbox.dead_letter(
            self.dead, "ERP answered 422: unknown reason code", now=timezone.now(), status_code=422
        )
        self.held = [
            self.enqueue(MessageKind.PRODUCTION_COMPLETION, {"qty_good": "8"}),
            self.enqueue(MessageKind.GENEALOGY, {"as_built_url": "https://mes/x"}),
        ]

    def enqueue(self, kind, payload):
        return outbox.outbox_enqueue(
            stream=self.order.number, kind=kind, order=self.order, payload=payload
        )


def delivered(stream="WO-DONE"):
    message = outbox.outbox_enqueue(stream=stream, kind=MessageKind.GENEALOGY, payload={})
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=MessageStatus.DELIVERED, delivered_at=timezone.now(), attempts=1
    )
    return message


# --- Permissions --------------------------------------------------------------------------


@pytest.mark.parametrize("role", [PLANNER, OPERATOR])
def test_planners_and_operators_get_403_on_every_page_and_action(client, role, jobs_inline):
    stream = Stream()
    key_owner = role_user(IT)
    key = IdempotencyKey.objects.create(
        user=key_owner,
        key="k-1",
        fingerprint="f" * 64,
        method="POST",
        path="/api/v1/work-orders/",
        created_at=timezone.now(),
        expires_at=timezone.now() + timedelta(days=30),
    )
    run = ReconciliationRun.objects.create(
        trigger="beat", started_by="process:beat", started_at=timezone.now()
    )
    job = task_start(
        reconcile_wip_now,
        label="WIP reconciliation",
        permission="integration.add_reconciliationrun",
        user=key_owner,
        kwargs={"actor_label": "user:it"},
    )
    signed_in(client, role)

    outbox_pages = [
        OUTBOX,
        message_url(stream.dead),
        reverse("it:order_messages", args=[stream.order.pk]),
    ]
    if role == PLANNER:
        # Planners may read an order's ERP messages (roles.py, for the order page), never act.
        for url in outbox_pages:
            assert client.get(url).status_code == 200, url
        assert "Retry" not in client.get(OUTBOX).content.decode()
        outbox_pages = []
    gets = [
        *outbox_pages,
        KEYS,
        reverse("it:idempotency_key", args=[key.pk]),
        RUNS,
        reverse("integration-pages:reconciliation-detail", args=[run.pk]),
        reverse("it:task_progress", args=[job.task_id]),
        reverse("it:task_progress_status", args=[job.task_id]),
    ]
    for url in gets:
        assert client.get(url).status_code == 403, url
    posts = [
        (message_url(stream.dead, "retry"), {}),
        (message_url(stream.dead, "cancel"), {}),
        (message_url(stream.dead, "fix"), {"payload": "{}"}),
        (BULK_RETRY, {"message": [stream.dead.pk]}),
        (RUNS, {}),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == 403, url
    assert status(stream.dead) == MessageStatus.DEAD_LETTER
    assert OutboxMessage.objects.get(pk=stream.dead.pk).payload == stream.dead.payload
    assert ReconciliationRun.objects.count() == 2  # the one above and the job's, no more


def test_anonymous_fragments_answer_403_not_the_login_page(client):
    stream = Stream()
    # htmx would put a sign-in page inside the order page: a fragment refuses instead.
    assert client.get(reverse("it:order_messages", args=[stream.order.pk])).status_code == 403
    assert client.get(OUTBOX).status_code == 302


def test_a_supervisor_may_retry_but_not_see_keys_or_run_a_reconciliation(client):
    stream = Stream()
    signed_in(client, SUPERVISOR)

    assert client.get(OUTBOX).status_code == 200
    assert client.get(KEYS).status_code == 403
    assert client.post(RUNS).status_code == 403
    client.post(message_url(stream.dead, "retry"))
    assert status(stream.dead) == MessageStatus.PENDING


# --- The outbox list ------------------------------------------------------------------------


def test_outbox_lists_and_filters_by_status_kind_stream_and_date(client):
    stream = Stream()
    done = delivered()
    canceled = Stream()
    outbox.outbox_cancel(message=canceled.dead, actor=Actor(process="it"))
    signed_in(client, IT)

    def listed(**params):
        response = client.get(OUTBOX, params)
        assert response.status_code == 200
        return {m.pk for m in response.context["page"]}

    assert listed(status="dead_letter") == {stream.dead.pk}
    assert listed(status="held") == {m.pk for m in stream.held}
    # Canceled, its stream's messages go on: pending, no longer held.
    assert listed(status="pending") == {m.pk for m in stream.held + canceled.held}
    assert listed(status="delivered") == {done.pk}
    assert listed(status="canceled") == {canceled.dead.pk}
    assert listed(kind="genealogy") == {done.pk, stream.held[1].pk, canceled.held[1].pk}
    assert listed(stream=stream.order.number.lower()) == {
        stream.dead.pk,
        *(m.pk for m in stream.held),
    }
    today = timezone.localdate().isoformat()
    assert len(listed(date_from=today, date_to=today)) == 7
    assert listed(date_to="2000-01-01") == set()

    response = client.get(OUTBOX, {"date_from": "yesterday", "status": "dead_letter"})
    content = response.content.decode()
    assert "Enter a valid date" in content  # shown, not applied
    assert {m.pk for m in response.context["page"]} == {stream.dead.pk}
    page = client.get(OUTBOX).content.decode()
    for text in (
        "1 in the dead-letter queue",
        "2 held",
        str(stream.dead.transaction_uuid),
        "ERP answered 422: unknown reason code",
        'scope="col">Next attempt',
    ):
        assert text in page, text
    assert page.count('name="message"') == 1  # only the dead letter can be ticked


def test_outbox_list_queries_do_not_grow(client):
    signed_in(client, IT)
    made = [0]

    def add_rows(count):
        now = timezone.now()
        rows = []
        for _ in range(count):
            made[0] += 1
            n = made[0]
            # Streams of 3: a dead letter, then held and pending ones, with payloads.
            status_ = [MessageStatus.DEAD_LETTER, MessageStatus.PENDING, MessageStatus.DELIVERED][
                n % 3
            ]
            rows.append(
                OutboxMessage(
                    stream=f"WO-Q{n // 3}",
                    sequence=n % 3 + 1,
                    kind=MessageKind.MATERIAL_ISSUE,
                    transaction_uuid=uuid.uuid4(),
                    payload={"wo_id": f"WO-Q{n // 3}", "qty_consumed": "1"},
                    status=status_,
                    last_error="refused" if status_ == MessageStatus.DEAD_LETTER else "",
                    created_at=now,
                    next_attempt_at=now,
                )
            )
        OutboxMessage.objects.bulk_create(rows)

    count = assert_constant_queries(client, OUTBOX, add_rows)
    print(f"outbox list: {count} queries at 10 and 500 rows")


# --- One message: retry, cancel, fix ----------------------------------------------------------


def test_message_page_shows_body_error_and_its_stream(client):
    stream = Stream()
    signed_in(client, IT)

    response = client.get(message_url(stream.dead))
    content = response.content.decode()

    assert response.status_code == 200
    assert escape(json.dumps(stream.dead.payload, indent=2, sort_keys=True)) in content
    assert "ERP answered 422: unknown reason code" in content
    assert "Retry now" in content and "Cancel message" in content and "Save and retry" in content
    for held in stream.held:
        assert message_url(held) in content  # the later messages of the stream
    held_page = client.get(message_url(stream.held[1])).content.decode()
    assert "Held behind" in held_page and message_url(stream.dead) in held_page
    assert "Save and retry" not in held_page  # only a dead letter can be fixed


def test_retry_sends_again_and_refuses_a_delivered_message(client):
    stream = Stream()
    done = delivered()
    signed_in(client, IT)
    back = f"{OUTBOX}?status=dead_letter"

    response = client.post(message_url(stream.dead, "retry"), {"next": back})

    assert response.status_code == 302 and response["Location"] == back
    assert status(stream.dead) == MessageStatus.PENDING
    assert outbox.deliverable_heads(now=timezone.now(), limit=10) == [stream.dead.pk]
    response = client.post(message_url(done, "retry"), follow=True)
    shown = [str(m) for m in response.context["messages"]]
    assert shown[-1] == (
        f"Message {done} is Delivered: only a message in the dead-letter queue can be retried, "
        "fixed or canceled."
    )
    assert status(done) == MessageStatus.DELIVERED


def test_cancel_keeps_the_message_and_releases_the_held_ones(client):
    stream = Stream()
    user = signed_in(client, IT)

    response = client.post(message_url(stream.dead, "cancel"), follow=True)

    message = OutboxMessage.objects.get(pk=stream.dead.pk)
    assert (message.status, message.canceled_by_actor) == (
        MessageStatus.CANCELED,
        f"user:{user.username}",
    )
    assert "canceled (kept, never sent)" in response.content.decode()
    assert outbox.deliverable_heads(now=timezone.now(), limit=10) == [stream.held[0].pk]
    again = client.post(message_url(stream.dead, "cancel"), follow=True)
    assert "only a message in the dead-letter queue" in again.content.decode()


def test_fix_saves_the_payload_and_retries(client):
    stream = Stream()
    user = signed_in(client, IT)
    fixed = {"wo_id": stream.order.number, "qty": "2", "reason_code": "R-17"}

    response = client.post(message_url(stream.dead, "fix"), {"payload": json.dumps(fixed)})

    assert response.status_code == 302
    message = OutboxMessage.objects.get(pk=stream.dead.pk)
    assert (message.payload, message.status) == (fixed, MessageStatus.PENDING)
    # What the MES first wrote is kept, with who replaced it, and the page shows it.
    [fix] = message.fixes.all()
    assert (fix.payload_before, fix.payload_after) == (stream.dead.payload, fixed)
    assert (fix.fixed_by, fix.fixed_by_actor) == (user, f"user:{user.username}")
    page = client.get(reverse("it:outbox_message", args=[message.pk])).content.decode()
    assert "Fixed by IT" in page and f"user:{user.username}" in page


def test_a_fix_that_changes_nothing_is_only_a_retry(client):
    stream = Stream()
    signed_in(client, IT)

    client.post(message_url(stream.dead, "fix"), {"payload": json.dumps(stream.dead.payload)})

    message = OutboxMessage.objects.get(pk=stream.dead.pk)
    assert message.status == MessageStatus.PENDING
    assert not message.fixes.exists()


@pytest.mark.parametrize(
    "typed, error",
    [
        ('{"wo_id": "X", ', "Enter a valid JSON"),
        ("[1, 2]", "The payload must be a JSON object"),
        ("", "This field is required"),
    ],
)
def test_fix_with_bad_json_shows_an_error_and_changes_nothing(client, typed, error):
    stream = Stream()
    signed_in(client, IT)

    response = client.post(message_url(stream.dead, "fix"), {"payload": typed})

    assert response.status_code == 400
    content = response.content.decode()
    assert error in content
    assert "The payload was not saved" in content
    if error == "Enter a valid JSON":
        assert escape(typed) in content  # what was typed stays in the box, to correct
    message = OutboxMessage.objects.get(pk=stream.dead.pk)
    assert (message.payload, message.status) == (stream.dead.payload, MessageStatus.DEAD_LETTER)


def test_fix_of_a_delivered_message_is_refused(client):
    done = delivered()
    signed_in(client, IT)

    response = client.post(message_url(done, "fix"), {"payload": '{"a": 1}'}, follow=True)

    assert "only a message in the dead-letter queue" in response.content.decode()
    assert OutboxMessage.objects.get(pk=done.pk).payload == {}


def test_bulk_retry_retries_the_dead_letters_and_reports_the_rest(client):
    first, second = Stream(), Stream()
    done = delivered()
    signed_in(client, IT)

    response = client.post(
        BULK_RETRY, {"message": [first.dead.pk, second.dead.pk, done.pk]}, follow=True
    )

    assert status(first.dead) == status(second.dead) == MessageStatus.PENDING
    shown = [str(m) for m in response.context["messages"]]
    assert "2 message(s) will be sent again now." in shown
    assert any(f"Message {done} is Delivered" in m for m in shown)
    nothing = client.post(BULK_RETRY, {}, follow=True)
    assert [str(m) for m in nothing.context["messages"]] == ["Select at least one message."]


def test_the_dead_letter_alert_links_the_it_page(client):
    stream = Stream()

    note = Notification.objects.get(kind=NotificationKind.DEAD_LETTER, role=IT)

    assert note.link == message_url(stream.dead)


# --- The order's messages (fragment) -------------------------------------------------------


def test_order_messages_fragment_lists_the_orders_stream(client):
    stream = Stream()
    other = Stream()
    signed_in(client, SUPERVISOR)

    response = client.get(reverse("it:order_messages", args=[stream.order.pk]))

    content = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in content and "<body" not in content  # a fragment
    for message in [stream.dead, *stream.held]:
        assert message_url(message) in content
    assert message_url(other.dead) not in content
    assert "Dead letter" in content and content.count("Held</span>") == 2
    assert "1 message in the dead-letter queue" in content
    assert client.get(reverse("it:order_messages", args=[999_999])).status_code == 404


# --- Idempotency keys ---------------------------------------------------------------------------


def test_keys_are_searched_by_key_and_caller_and_show_the_stored_answer(client):
    product = make_releasable_product()
    erp = erp_client()
    key = f"wo-create-{uuid.uuid4()}"
    created = erp.post(
        "/api/v1/work-orders/",
        create_body(product, "WO-K1"),
        format="json",
        headers={"Idempotency-Key": key},
    )
    assert created.status_code == 201
    other = IdempotencyKey.objects.create(
        user=role_user(IT),
        key="other-key",
        fingerprint="a" * 64,
        method="PUT",
        path="/api/v1/parts/X/",
        created_at=timezone.now() - timedelta(hours=1),
        expires_at=timezone.now() + timedelta(days=30),
    )
    stored = IdempotencyKey.objects.get(key=key)
    signed_in(client, IT)

    def listed(**params):
        response = client.get(KEYS, params)
        assert response.status_code == 200
        return [k.pk for k in response.context["page"]]

    assert listed() == [stored.pk, other.pk]  # most recent first
    assert listed(key=key) == [stored.pk]
    assert listed(key=key[:-1]) == []  # exact, not a prefix
    assert listed(caller=stored.user.username.upper()) == [stored.pk]
    page = client.get(KEYS).content.decode()
    assert f">{stored.fingerprint[:12]}</code>" in page
    detail = client.get(reverse("it:idempotency_key", args=[stored.pk])).content.decode()
    assert "&quot;wo_id&quot;: &quot;WO-K1&quot;" in detail  # the stored body, pretty
    assert "201" in detail and stored.fingerprint in detail


def keys_volume(callers):
    """add_rows(count): count more completed keys of the callers, in turn."""

    def add_rows(count):
        now = timezone.now()
        IdempotencyKey.objects.bulk_create(
            (
                IdempotencyKey(
                    user=callers[n % 2],
                    key=str(uuid.uuid4()),
                    fingerprint=uuid.uuid4().hex * 2,
                    method="POST",
                    path="/api/v1/work-orders/",
                    state=KeyState.COMPLETED,
                    response_status=201,
                    response_body=b'{"wo_id": "WO-1"}',
                    created_at=now,
                    completed_at=now,
                    expires_at=now + timedelta(days=30),
                )
                for n in range(count)
            ),
            batch_size=2000,  # the bench adds thousands
        )

    return add_rows


def test_key_list_queries_do_not_grow(client):
    signed_in(client, IT)
    add_rows = keys_volume([role_user(IT), role_user(IT)])
    count = assert_constant_queries(client, KEYS, add_rows)
    print(f"idempotency keys: {count} queries at 10 and 500 rows")


# --- Reconciliation runs ------------------------------------------------------------------------


def test_run_list_queries_do_not_grow(client):
    signed_in(client, IT)
    snapshot = erp_wip_snapshot_receive(as_of=timezone.now(), lines=[], user=None)

    def add_rows(count):
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

    count = assert_constant_queries(client, RUNS, add_rows)
    print(f"reconciliation runs: {count} queries at 10 and 500 rows")


def test_run_page_lists_its_variances_and_the_journal_it_wrote(client):
    floor = ReconciliationFloor()
    order = floor.order()
    component = floor.components[0]
    floor.issue(order, component, 10, stock_left=10)
    erp_snapshot((order, component, 12))
    run = reconciliation_run(trigger="command", actor_label="process:tests")
    signed_in(client, IT)

    content = client.get(
        reverse("integration-pages:reconciliation-detail", args=[run.pk])
    ).content.decode()

    journal = run.adjustment_journal
    assert journal is not None and journal.posting_id
    assert order.number in content and component.part_number in content
    # IT may open the journal (inventory.view_adjustmentjournal) and sees its ledger rows.
    assert reverse("admin:inventory_adjustmentjournal_change", args=[journal.pk]) in content
    entry = InventoryTransaction.objects.get(posting_id=journal.posting_id)
    assert "1 inventory transaction it wrote" in content
    assert f'<td class="number">{entry.pk}</td>' in content
    assert "Run reconciliation now" in content


def test_run_now_shows_progress_then_the_run(client, jobs_inline):
    erp_wip_snapshot_receive(
        as_of=timezone.now(),
        lines=[{"wo_id": "WO-NONE", "component_part": "BOLT", "quantity": "3"}],
        user=None,
    )
    signed_in(client, IT)
    assert "Run reconciliation now" in client.get(RUNS).content.decode()

    response = client.post(RUNS)

    run = ReconciliationRun.objects.get()
    progress = response["Location"]
    assert progress.startswith("/it/tasks/")
    page = client.get(progress).content.decode()
    assert "WIP reconciliation" in page and 'role="status"' in page
    fragment = client.get(progress + "status/").content.decode()
    assert "<html" not in fragment
    assert f"Reconciliation run {run.pk}: 1 pair(s) compared, 1 variance(s) flagged" in fragment
    assert reverse("integration-pages:reconciliation-detail", args=[run.pk]) in fragment
    assert "hx-trigger" not in fragment  # finished: the polling stops
    detail = client.get(reverse("integration-pages:reconciliation-detail", args=[run.pk]))
    assert "WO-NONE" in detail.content.decode()


def test_a_task_outcome_is_kept_in_the_database_and_listed(client, jobs_inline):
    """The record outlives the cache and the result backend (a restart): the progress page
    and the list read it from the database."""
    signed_in(client, IT)
    client.post(RUNS)
    run = ReconciliationRun.objects.get()
    task = BackgroundTask.objects.get()
    cache.clear()
    AsyncResult(task.task_id).forget()

    task.refresh_from_db()
    assert (task.state, task.label) == ("done", "WIP reconciliation")
    assert task.finished_at is not None
    assert task.link == reverse("integration-pages:reconciliation-detail", args=[run.pk])
    page = client.get(reverse("it:task_progress", args=[task.task_id])).content.decode()
    assert f"Reconciliation run {run.pk}" in page
    listed = client.get(reverse("it:tasks")).content.decode()
    assert "WIP reconciliation</a>" in listed and task.started_by in listed
    # A supervisor sees the runs but may not start one: the list shows them no task.
    signed_in(client, SUPERVISOR)
    assert "WIP reconciliation</a>" not in client.get(reverse("it:tasks")).content.decode()


@shared_task(bind=True, name="tests.pages.test_it.failing_task")
def failing_task(self):
    with task_recorded(self):
        raise RuntimeError("the snapshot table is locked")


def test_a_task_that_raises_is_recorded_as_failed(client, jobs_inline):
    it = signed_in(client, IT)
    started = task_start(failing_task, label="Failing", permission=RUN_PERMISSION, user=it)

    task = BackgroundTask.objects.get(task_id=started.task_id)
    assert (task.state, task.text) == ("failed", "RuntimeError: the snapshot table is locked")
    fragment = client.get(reverse("it:task_progress_status", args=[task.task_id]))
    assert (
        "The task failed: RuntimeError: the snapshot table is locked" in fragment.content.decode()
    )


def test_progress_needs_the_permission_that_started_the_job(client, jobs_inline):
    it = role_user(IT)
    job = task_start(
        reconcile_wip_now,
        label="WIP reconciliation",
        permission="integration.add_reconciliationrun",
        user=it,
        kwargs={"actor_label": "user:it"},
    )
    # A supervisor sees the runs, but may not start one: nor watch one.
    signed_in(client, SUPERVISOR)
    assert client.get(reverse("it:task_progress", args=[job.task_id])).status_code == 403
    # A task id that was not started from a page shows nothing, whoever asks.
    client.force_login(it)
    assert client.get(reverse("it:task_progress", args=[str(uuid.uuid4())])).status_code == 404
    assert client.get(reverse("it:task_progress", args=[job.task_id])).status_code == 200


# --- "Process pending now" with a real worker -------------------------------------------------


def drain(deadline: float) -> None:
    """Wait until the worker has run what was queued before (a heartbeat goes last in the
    queue): a processing nudge left over from elsewhere must not take our registrations."""
    record_heartbeat.delay()
    while time.monotonic() < deadline and not Heartbeat.objects.filter(name="worker").exists():
        time.sleep(0.3)
    assert Heartbeat.objects.filter(name="worker").exists(), "the worker did not start"


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_process_pending_now_runs_in_a_worker_and_reports_its_counts(client, settings):
    settings.MES_PROCESSOR_NUDGE = False  # only the button's run may process them
    worker = start_worker()
    try:
        deadline = time.monotonic() + 90
        drain(deadline)
        floor = make_floor(stock=3)
        for badge in floor.workers:
            floor.clock_in(badge, 0)
        # The frames are written off after the start was accepted: its start consumption
        # fails and holds its order's lane.
        floor.post("start_job", at=1, badge_id=floor.workers[0], job=floor.job(floor.order(3), 10))
        floor.write_off("FRAME", 3)
        waiting = RawRegistration.objects.filter(status=RegistrationStatus.NEW).count()
        signed_in(client, SUPERVISOR)

        response = client.post(reverse("floor:registrations_process_pending"))

        progress = response["Location"]
        assert progress.startswith("/it/tasks/")
        fragment = ""
        while time.monotonic() < deadline:
            fragment = client.get(progress + "status/").content.decode()
            if "Finished" in fragment or "The task failed" in fragment:
                break
            time.sleep(0.5)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    assert "Finished at" in fragment, fragment
    assert (waiting, RawRegistration.objects.filter(status=RegistrationStatus.FAILED).count()) == (
        4,
        1,
    )
    assert "Processed 3, failed 1, 1 lane(s) held." in fragment
    assert 'href="/floor/processing-log/?status=failed"' in fragment  # what failed
    assert '<progress class="progress" max="1" value="1"' in fragment


def test_the_processor_reports_its_progress_to_a_plain_callback(settings):
    settings.MES_PROCESSOR_NUDGE = False
    floor = make_floor(stock=3)
    for badge in floor.workers:
        floor.clock_in(badge, 0)
    floor.post("start_job", at=1, badge_id=floor.workers[0], job=floor.job(floor.order(3), 10))
    floor.write_off("FRAME", 3)  # after acceptance: the start fails in processing
    calls = []

    summary = registrations_process(on_progress=lambda done, total: calls.append((done, total)))

    assert (summary.processed, summary.failed) == (3, 1)
    assert calls == [(1, 4), (2, 4), (3, 4), (4, 4)]
