"""Wake the registration processor when registrations arrive (mesproject.nudge)."""

from django.conf import settings

from mesproject.nudge import nudge, nudge_clear

PROCESSOR_TASK = "execution.tasks.process_raw_registrations"
NUDGE_KEY = "execution:processor-nudged"
WHAT = "the registration processor"


def processor_nudge() -> None:
    if settings.MES_PROCESSOR_NUDGE:
        nudge(task=PROCESSOR_TASK, key=NUDGE_KEY, what=WHAT)


def processor_nudge_clear() -> None:
    nudge_clear(key=NUDGE_KEY, what=WHAT)
