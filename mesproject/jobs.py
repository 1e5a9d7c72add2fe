"""Long jobs started from a page: a Celery task whose progress a person watches.

The page that starts a job records it here (what it is, who started it, the permission
needed to watch it) in the shared cache; the progress page reads the record and the task's
state from the result backend. Only tasks started through `job_start` can be watched, and
only by users holding the permission that starting them took: a task id alone shows nothing.

Tasks report progress with `progress_reporter(self)`, a plain `(done, total)` callback the
services accept, so the services never see Celery.
"""

import logging
import time
from dataclasses import dataclass
from datetime import datetime

from celery import states
from celery.result import AsyncResult
from django.core.cache import cache
from django.utils import timezone

logger = logging.getLogger(__name__)

JOB_KEY = "mes:job:{}"
# As long as the result backend keeps the outcome (CELERY_RESULT_EXPIRES).
JOB_SECONDS = 24 * 3600
PROGRESS = "PROGRESS"
# At most this often to the result backend: a run of 10,000 rows must not write 10,000 times.
PROGRESS_EVERY_SECONDS = 0.5


class JobNotStarted(Exception):
    """The broker did not take the task (down, unreachable)."""


@dataclass(frozen=True)
class Job:
    task_id: str
    label: str
    permission: str
    started_by: str
    started_at: str  # ISO 8601: the record lives in the cache as plain data

    @property
    def started(self) -> datetime:
        return datetime.fromisoformat(self.started_at)


def job_start(task, *, label: str, permission: str, user, kwargs: dict | None = None) -> Job:
    """Queue the task and record it for its progress page; JobNotStarted if the broker
    refuses (no publish retries: the person gets an answer at once, not a hung page)."""
    try:
        result = task.apply_async(kwargs=kwargs or {}, retry=False)
    except Exception as error:
        logger.warning("could not start %s", task.name, exc_info=True)
        raise JobNotStarted(str(error)) from error
    job = Job(
        task_id=result.id,
        label=label,
        permission=permission,
        started_by=user.get_username(),
        started_at=timezone.now().isoformat(),
    )
    cache.set(JOB_KEY.format(result.id), job.__dict__, timeout=JOB_SECONDS)
    return job


def job_get(task_id: str) -> Job | None:
    data = cache.get(JOB_KEY.format(task_id))
    return Job(**data) if data else None


@dataclass(frozen=True)
class JobState:
    """What the progress fragment shows: never more than counts, a text and the result."""

    state: str  # waiting, running, done, failed
    done: int = 0
    total: int = 0
    text: str = ""
    link: str = ""
    finished_at: datetime | None = None

    @property
    def finished(self) -> bool:
        return self.state in ("done", "failed")


def job_state(task_id: str) -> JobState:
    result = AsyncResult(task_id)
    state, info = result.state, result.info
    if state == states.SUCCESS:
        info = info if isinstance(info, dict) else {"text": str(info or "")}
        return JobState(
            "done",
            done=int(info.get("done", 0)),
            total=int(info.get("total", 0)),
            text=str(info.get("text", "")),
            link=str(info.get("link", "")),
            finished_at=_when(info.get("finished_at")),
        )
    if state in states.PROPAGATE_STATES:
        # The exception's type and message only, never its traceback.
        return JobState("failed", text=f"{type(info).__name__}: {info}"[:500])
    if state == PROGRESS and isinstance(info, dict):
        return JobState(
            "running",
            done=int(info.get("done", 0)),
            total=int(info.get("total", 0)),
            text=str(info.get("text", "")),
        )
    if state == states.STARTED:
        return JobState("running")
    return JobState("waiting")


def _when(value) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return None


def progress_reporter(task, describe=None):
    """A `(done, total)` callback that stores the task's progress (throttled; the last call
    of a run, done == total, always goes through). describe(done, total) -> the text."""
    task_id = task.request.id
    last = [0.0]

    def report(done: int, total: int) -> None:
        if task_id is None:
            return  # called directly, not as a task: nobody is watching
        now = time.monotonic()
        if done < total and now - last[0] < PROGRESS_EVERY_SECONDS:
            return
        last[0] = now
        text = describe(done, total) if describe else f"{done} of {total}"
        task.update_state(
            task_id=task_id, state=PROGRESS, meta={"done": done, "total": total, "text": text}
        )

    return report


def finished_now() -> str:
    return timezone.now().isoformat()
