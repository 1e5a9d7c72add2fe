"""Wake a background task now instead of at beat's next run, without flooding the broker.

The registration processor (on arrival) and the outbox relay (after a message is written)
are nudged this way; beat runs both anyway, so a lost nudge only costs time.
"""

import logging

from celery import current_app
from django.core.cache import cache

logger = logging.getLogger(__name__)

# At most one nudge per key and window; the task clears its key when it starts, so what
# arrives while it runs gets a run of its own.
NUDGE_SECONDS = 2


def nudge(*, task: str, key: str, what: str) -> None:
    """Send `task` unless a nudge under `key` is still pending. `what`: for the log."""
    try:
        if cache.add(key, 1, timeout=NUDGE_SECONDS):
            # No publish retries, no result subscription: a broker outage costs the caller
            # an exception here, never a wait on the result store.
            current_app.send_task(task, retry=False, ignore_result=True)
    except Exception:  # the broker or cache is down: beat runs the task soon anyway
        logger.warning("could not nudge %s", what, exc_info=True)


def nudge_clear(*, key: str, what: str) -> None:
    """The task started: the next nudge under `key` sends it again."""
    try:
        cache.delete(key)
    except Exception:
        logger.warning("could not clear the nudge of %s", what, exc_info=True)
