"""Wake the registration processor when registrations arrive, without flooding the broker."""

import logging

from celery import current_app
from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)

PROCESSOR_TASK = "execution.tasks.process_raw_registrations"
NUDGE_KEY = "execution:processor-nudged"
# At most one nudge per window; the processor clears the key when it starts, so what arrives
# while it runs gets a run of its own.
NUDGE_SECONDS = 2


def processor_nudge() -> None:
    if not settings.MES_PROCESSOR_NUDGE:
        return
    try:
        if cache.add(NUDGE_KEY, 1, timeout=NUDGE_SECONDS):
            # No publish retries, no result subscription: a broker outage costs the caller
            # an exception here, never a wait on the result store.
            current_app.send_task(PROCESSOR_TASK, retry=False, ignore_result=True)
    except Exception:  # the broker or cache is down: beat runs the processor within a minute
        logger.warning("could not nudge the registration processor", exc_info=True)


def processor_nudge_clear() -> None:
    try:
        cache.delete(NUDGE_KEY)
    except Exception:
        logger.warning("could not clear the processor nudge", exc_info=True)
