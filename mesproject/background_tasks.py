"""Long tasks started from a page: a Celery task whose progress a person watches.

The page that starts a task records it (`BackgroundTask`: what it is, who started it, the
permission needed to watch it); the task writes its progress and outcome on that row. Only
tasks started through `task_start` can be watched, and only by users holding the permission
that starting them took: a task id alone shows nothing.

Tasks report progress with `progress_reporter(self)`, a plain `(done, total)` callback the
services accept, so the services never see Celery; `task_recorded(self)` wraps the run and
records its outcome, or its failure.
"""

import logging
import time
import uuid
from contextlib import contextmanager

from celery import states
from celery.result import AsyncResult
from django.utils import timezone

from .models import BackgroundTask, TaskState

logger = logging.getLogger(__name__)

# At most this often to the database: a run of 10,000 rows must not write 10,000 times.
PROGRESS_EVERY_SECONDS = 0.5


class TaskNotStarted(Exception):
    """The broker did not take the task (down, unreachable)."""


def task_start(task, *, label: str, permission: str, user, kwargs: dict | None = None):
    """Record the task, then queue it; TaskNotStarted (and no record) if the broker refuses
    (no publish retries: the person gets an answer at once, not a hung page). The record
    comes first, so a fast worker always finds it."""
    record = BackgroundTask.objects.create(
        task_id=str(uuid.uuid4()),
        label=label,
        permission=permission,
        started_by=user.get_username(),
    )
    try:
        task.apply_async(kwargs=kwargs or {}, task_id=record.task_id, retry=False)
    except Exception as error:
        logger.warning("could not start %s", task.name, exc_info=True)
        record.delete()
        raise TaskNotStarted(str(error)) from error
    return record


def task_get(task_id: str) -> BackgroundTask | None:
    """The task as it stands; one the worker lost (killed mid-run) reads as failed."""
    record = BackgroundTask.objects.filter(task_id=task_id).first()
    if record is None or record.finished:
        return record
    if AsyncResult(task_id).state in states.PROPAGATE_STATES:
        record.state, record.text = TaskState.FAILED, "The worker running it stopped."
    return record


def _update(task_id: str | None, **fields) -> None:
    if task_id is not None:  # None: called directly, not as a task; nobody is watching
        BackgroundTask.objects.filter(task_id=task_id).update(**fields)


def progress_reporter(task, describe=None):
    """A `(done, total)` callback that records the task's progress (throttled; the last call
    of a run, done == total, always goes through). describe(done, total) -> the text."""
    task_id = task.request.id
    last = [0.0]

    def report(done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - last[0] < PROGRESS_EVERY_SECONDS:
            return
        last[0] = now
        text = describe(done, total) if describe else f"{done} of {total}"
        _update(task_id, state=TaskState.RUNNING, done=done, total=total, text=text[:500])

    return report


class _Outcome:
    def __init__(self, task_id: str | None):
        self.task_id = task_id

    def finish(self, *, done: int, total: int, text: str, link: str = "") -> None:
        _update(
            self.task_id,
            state=TaskState.DONE,
            done=done,
            total=total,
            text=text[:500],
            link=link[:300],
            finished_at=timezone.now(),
        )


@contextmanager
def task_recorded(task):
    """Around a task's run: it is running, then done (`outcome.finish(...)`) or failed, with
    the exception's type and message only, never its traceback."""
    task_id = task.request.id
    _update(task_id, state=TaskState.RUNNING)
    try:
        yield _Outcome(task_id)
    except Exception as error:
        text = f"{type(error).__name__}: {error}"[:500]
        _update(task_id, state=TaskState.FAILED, text=text, finished_at=timezone.now())
        raise
