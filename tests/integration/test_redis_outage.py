"""Redis (broker and cache) down during ERP traffic: nothing stops, nothing is lost, nothing
is sent twice.

The test runs its own redis-server on a free loopback port (never the shared one) and points
this process (cache, Celery broker and result store) and a real Celery worker at it. With
Redis up, a first batch of orders runs the whole asynchronous chain (registrations ->
processor -> outbox -> relay -> ERP simulator). Then Redis is stopped, and the ERP keeps
creating work orders (a replayed create gets its stored answer) and closing orders, the
terminals keep posting registrations, the processor writes their outbox messages: every call
answers 2xx and every row is in the database, while every nudge to Celery fails quietly.
Redis is started again on the same port; the swept relay task, run by the worker, delivers
the outbox to the ERP simulator: every message exactly once, in order per work order.
"""

import shutil
import subprocess
import time
import uuid
from contextlib import contextmanager

import pytest
import redis
from django.core.cache import cache
from django.db.models import Q
from kombu import pools as kombu_pools

from execution.choices import RegistrationStatus
from execution.models import RawRegistration
from execution.services.order_lifecycle import order_release
from execution.services.processing import registrations_process
from integration.choices import MessageKind, MessageStatus
from integration.models import IdempotencyKey, OutboxMessage
from integration.tasks import deliver_outbox
from mesproject.celery import app as celery_app
from orders.choices import OrderStatus
from orders.models import ProductionOrder
from tests.api import new_key
from tests.execution.floor import make_floor
from tests.test_celery_worker import start_worker

from .conftest import SECRET
from .erp import free_port
from .helpers import erp_client, operator_client

pytestmark = [
    pytest.mark.slow,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server"),
]

CREATE = "/api/v1/work-orders/"
QUANTITY = 4
# A call that takes longer than this while Redis is down is hanging on it, not working.
OUTAGE_CALL_SECONDS = 15


class RedisServer:
    """A private redis-server on loopback, no persistence: stopped and started on one port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._process: subprocess.Popen | None = None

    def start(self) -> None:
        self._process = subprocess.Popen(
            [
                *("redis-server", "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        client = redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=1)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if client.ping():
                    return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server on port {self.port} did not start")

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None


@pytest.fixture
def private_redis():
    server = RedisServer()
    server.start()
    yield server
    server.stop()


def _reset_celery_connections() -> None:
    """Forget the connections and result store made for the previous broker URL.

    The app's pool is kombu's process-wide pool for that URL: closing it in place would leave
    a closed pool in kombu's registry for every later test ("Acquire on closed pool"), so
    the registry is reset, which closes and forgets them all."""
    kombu_pools.reset()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    celery_app._backend_cache = None
    celery_app._local.__dict__.pop("backend", None)


@contextmanager
def celery_pointed_at(url: str):
    """This process's Celery app on another broker, then back to what the settings say.

    Celery reads the Django settings on every lookup unless a value was changed on the app,
    so what is restored is the app's own changes, not the values read now (the test has
    already pointed the settings at the private Redis)."""
    changes = celery_app.conf.changes
    names = ("broker_url", "result_backend")
    saved = {name: changes[name] for name in names if name in changes}
    _reset_celery_connections()
    celery_app.conf.update(broker_url=url, result_backend=url)
    try:
        yield
    finally:
        _reset_celery_connections()
        for name in names:
            changes.pop(name, None)
        celery_app.conf.update(saved)


def _redis_cache(url: str) -> dict:
    return {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}}


def _timed(call, *args, **kwargs):
    started = time.monotonic()
    response = call(*args, **kwargs)
    elapsed = time.monotonic() - started
    assert elapsed < OUTAGE_CALL_SECONDS, f"{elapsed:.1f}s: hanging on the stopped Redis"
    return response


def _create(erp, floor, wo_id: str, key: str):
    body = {
        "wo_id": wo_id,
        "part_number": floor.product.part_number,
        "revision": floor.product.revision,
        "qty_target": str(QUANTITY),
        "scheduled_start": "2026-12-01T06:00:00Z",
        "priority": 3,
    }
    return _timed(erp.post, CREATE, body, format="json", headers={"Idempotency-Key": key})


def _shift(floor, orders, start: int) -> list[dict]:
    """Registrations a terminal posts for whole orders: three operations each started and
    finished by one worker (clocked in already), then report as finished."""
    bodies = []

    def add(kind, at, **fields):
        bodies.append(
            {
                "registration_uuid": str(uuid.uuid4()),
                "kind": kind,
                "occurred_at": floor.at(at).isoformat(),
                **fields,
            }
        )

    workers = floor.workers
    for index, order in enumerate(orders):
        badge = workers[index % len(workers)].badge_id
        t = start + (index // len(workers)) * 10
        for operation in (10, 20, 30):
            job = floor.job(order, operation).pk
            add("start_job", t, badge_id=badge, job=job)
            add(
                "report_progress",
                t + 1,
                badge_id=badge,
                job=job,
                quantity_good=str(QUANTITY),
                completes_job=True,
            )
            t += 2
        add("report_as_finished", t, order=order.number, quantity_good=str(QUANTITY))
    return bodies


def _post_registrations(terminal, bodies) -> None:
    """One request per registration, as terminals send them; each is answered at once."""
    for body in bodies:
        response = _timed(terminal.post, "/api/v1/registrations/", body, format="json")
        assert response.status_code == 202, response.json()


def _wait_for(condition, timeout: float, poke=None) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if poke is not None:
            poke()
        if condition():
            return True
        time.sleep(0.5)
    return False


def _undelivered():
    return OutboxMessage.objects.exclude(status=MessageStatus.DELIVERED)


def test_redis_down_the_api_keeps_working_and_the_outbox_drains_exactly_once_after(
    private_redis, erp_simulator, settings, monkeypatch
):
    settings.CELERY_BROKER_URL = settings.CELERY_RESULT_BACKEND = private_redis.url
    settings.CACHES = _redis_cache(private_redis.url)
    settings.MES_ERP_ENDPOINT_URL = erp_simulator.messages_url
    settings.MES_ERP_SIGNING_SECRETS = [SECRET]
    settings.MES_OUTBOX_THREADS = 1
    settings.MES_PROCESSOR_NUDGE = True
    with celery_pointed_at(private_redis.url):  # no nudge may reach the shared broker
        floor = make_floor()
        erp = erp_client()
        terminal = operator_client()
        for person in floor.workers:
            floor.clock_in(person, 0)
        registrations_process()  # the clock-ins (no outbox messages)
        worker = start_worker(
            env={
                "REDIS_URL": private_redis.url,
                "MES_ERP_ENDPOINT_URL": erp_simulator.messages_url,
                "MES_ERP_SIGNING_SECRETS": SECRET,
            }
        )
        try:
            # --- Redis up: the whole chain runs on nudges alone ---------------------------
            before = []
            for n in range(2):
                assert _create(erp, floor, f"WO-UP{n}", str(uuid.uuid4())).status_code == 201
                before.append(order_release(order=ProductionOrder.objects.get(number=f"WO-UP{n}")))
            _post_registrations(terminal, _shift(floor, before, start=1))
            assert _wait_for(
                lambda: (
                    ProductionOrder.objects.filter(
                        number__in=["WO-UP0", "WO-UP1"], status=OrderStatus.COMPLETED
                    ).count()
                    == 2
                    and OutboxMessage.objects.exists()
                    and not _undelivered().exists()
                ),
                timeout=120,
            ), "the worker did not process and deliver on the nudges with Redis up"
            delivered_up = OutboxMessage.objects.count()
            assert len(erp_simulator.messages()) == delivered_up

            # --- Redis down -----------------------------------------------------------------
            private_redis.stop()
            with pytest.raises(redis.ConnectionError):
                cache.get("anything")  # it is down indeed, and says so at once

            # The cache answers but the broker does not (a cache elsewhere, or Redis dying
            # between the two calls): the nudge reaches send_task, which fails at once and
            # is swallowed; it never waits on the result store (whose reconnect loop would
            # hold the request ~20 s, then give up for good).
            during = []
            assert _create(erp, floor, "WO-DOWN0", str(uuid.uuid4())).status_code == 201
            during.append(order_release(order=ProductionOrder.objects.get(number="WO-DOWN0")))
            first_bodies = _shift(floor, during, start=100)
            sent, result_store_calls = [], []
            send_task = celery_app.send_task
            with monkeypatch.context() as patch:
                patch.setattr(
                    celery_app, "send_task", lambda *a, **kw: sent.append(a) or send_task(*a, **kw)
                )
                patch.setattr(
                    celery_app.backend, "on_task_call", lambda *a: result_store_calls.append(a)
                )
                settings.CACHES = {
                    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
                }
                _post_registrations(terminal, first_bodies[:1])
                settings.CACHES = _redis_cache(private_redis.url)  # the same Redis, stopped
            assert sent == [("execution.tasks.process_raw_registrations",)]
            assert result_store_calls == []

            # The ERP creates orders; a replayed create gets the first answer back.
            keys = {}
            for n in range(1, 4):
                wo_id = f"WO-DOWN{n}"
                keys[wo_id] = str(uuid.uuid4())
                response = _create(erp, floor, wo_id, keys[wo_id])
                assert response.status_code == 201, response.json()
                if n == 1:
                    first_answer = response
                during.append(order_release(order=ProductionOrder.objects.get(number=wo_id)))
            replay = _create(erp, floor, "WO-DOWN1", keys["WO-DOWN1"])
            assert replay.status_code == 201
            assert replay["Idempotent-Replayed"] == "true"
            assert replay.content == first_answer.content
            assert ProductionOrder.objects.filter(number="WO-DOWN1").count() == 1
            # An update of a Created order under a new key is answered too (200).
            updated = _create(erp, floor, "WO-DOWN-LATE", str(uuid.uuid4()))
            assert updated.status_code == 201
            assert _create(erp, floor, "WO-DOWN-LATE", str(uuid.uuid4())).status_code == 200

            # Terminals post for the new orders; the processor writes their messages.
            bodies = first_bodies[1:] + _shift(floor, during[1:], start=200)
            _post_registrations(terminal, bodies)
            posted = RawRegistration.objects.filter(
                uuid__in=[b["registration_uuid"] for b in [first_bodies[0], *bodies]]
            )
            assert posted.count() == len(bodies) + 1  # stored, nothing lost
            # The processor runs here: beat and nudges cannot reach the worker through the
            # stopped broker (beat would run it within a minute once Redis is back).
            _timed(registrations_process)
            assert not posted.exclude(status=RegistrationStatus.PROCESSED).exists()
            assert set(
                ProductionOrder.objects.filter(number__startswith="WO-DOWN")
                .exclude(number="WO-DOWN-LATE")
                .values_list("status", flat=True)
            ) == {OrderStatus.COMPLETED}

            # The ERP closes the orders that completed before the outage: genealogy links.
            for order in before:
                response = _timed(
                    erp.post,
                    f"/api/v1/work-orders/{order.number}/close/",
                    {"mode": "short_close"},
                    format="json",
                    headers=new_key(),
                )
                assert response.status_code == 200, response.json()

            written = OutboxMessage.objects.filter(
                Q(stream__in=[o.number for o in during]) | Q(kind=MessageKind.GENEALOGY)
            )
            assert {o.number for o in during} <= set(written.values_list("stream", flat=True))
            assert written.filter(kind=MessageKind.GENEALOGY).count() == 2
            assert written.filter(kind=MessageKind.PRODUCTION_COMPLETION).count() == len(during)
            assert not written.exclude(status=MessageStatus.PENDING).exists()  # none sent
            assert len(erp_simulator.messages()) == delivered_up
            assert IdempotencyKey.objects.filter(key__in=keys.values()).count() == 3

            # --- Redis back on the same port: the swept task drains the outbox ------------
            private_redis.start()
            assert _wait_for(
                lambda: not _undelivered().exists(),
                timeout=180,
                poke=deliver_outbox.delay,  # beat's sweep, every half second
            ), f"{_undelivered().count()} messages still undelivered"
        finally:
            worker.terminate()
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()

    # Every message exactly once, in sequence order per work order.
    messages = list(OutboxMessage.objects.order_by("stream", "sequence"))
    received = erp_simulator.messages()
    uuids = [record["transaction_uuid"] for record in received]
    assert len(uuids) == len(set(uuids)), "a message reached the ERP twice"
    assert sorted(uuids) == sorted(str(m.transaction_uuid) for m in messages)
    assert erp_simulator.stats()["duplicates"] == 0
    arrived: dict[str, list[int]] = {}
    for record in received:
        arrived.setdefault(record["stream"], []).append(record["sequence"])
    expected: dict[str, list[int]] = {}
    for message in messages:
        expected.setdefault(message.stream, []).append(message.sequence)
    assert arrived == expected
    assert all(sequences == list(range(1, len(sequences) + 1)) for sequences in arrived.values())
    assert len(messages) > delivered_up
