"""Row locks and foreign keys on PostgreSQL (found by make soak: terminal posts answered 500
"deadlock detected"). Django's foreign keys are checked at COMMIT, which takes FOR KEY SHARE
on every row a new row points at; a FOR UPDATE lock blocks that. A terminal's registration
(pointing at its job and order) committing while the processor holds the order and waits for
the job was a deadlock. The processor's and the services' locks are FOR NO KEY UPDATE: they
change no key, and a row pointing at the locked one may still be committed."""

import threading
import time
import uuid

import pytest
from django.db import connection, transaction
from django.utils import timezone

from execution.models import RawRegistration
from execution.services.jobs import lock_job
from execution.services.registrations import lock_worker
from orders.services import lock_order
from tests.execution.floor import make_floor

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _run_interleaved(first, second) -> list[str]:
    """first() writes and waits until second() took its first lock; then first commits while
    second takes its next lock. Returns the errors either hit."""
    wrote, locked = threading.Event(), threading.Event()
    errors: list[str] = []

    def writer():
        try:
            with transaction.atomic():
                first()
                wrote.set()
                locked.wait(10)
        except Exception as exc:  # the deadlock victim
            errors.append(f"writer: {type(exc).__name__}: {exc}")
        finally:
            connection.close()

    def locker():
        try:
            wrote.wait(10)
            with transaction.atomic():
                second(locked)
        except Exception as exc:
            errors.append(f"locker: {type(exc).__name__}: {exc}")
        finally:
            connection.close()

    threads = [threading.Thread(target=writer), threading.Thread(target=locker)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return errors


def test_a_registration_commits_while_the_processor_holds_its_order_and_job():
    floor = make_floor(workers=1)
    order = floor.order(quantity=2)
    job = floor.job(order, 10)
    worker = floor.workers[0]

    def accept():  # what registration_accept writes: a row pointing at worker, job and order
        RawRegistration.objects.create(
            uuid=uuid.uuid4(),
            kind="report_progress",
            occurred_at=timezone.now(),
            worker=worker,
            order=order,
            job=job,
            lane=f"order:{order.pk}",
        )

    def process(locked):  # the processor: the order, then the job, then the worker's rows
        lock_order(order.pk)
        locked.set()
        time.sleep(1)  # the registration's COMMIT now checks its foreign keys
        lock_job(job.pk)
        lock_worker(worker.pk)

    assert _run_interleaved(accept, process) == []
    assert RawRegistration.objects.filter(job=job).count() == 1
