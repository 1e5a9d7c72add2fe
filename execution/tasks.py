from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from mesproject.actors import Actor
from mesproject.background_tasks import progress_reporter, task_recorded

from .services.attendance import attendance_days_calculate
from .services.processing import registrations_process


@shared_task(ignore_result=True)
def process_raw_registrations() -> str:
    """Beat (every minute) and the arrival nudge: process what is pending."""
    return str(registrations_process(batch=settings.MES_PROCESSOR_BATCH))


@shared_task(bind=True, ignore_result=False)
def process_pending_now(self) -> int:
    """The processing log's "Process pending now": the same run as beat's, watched on a
    progress page (registrations done of those waiting), then its counts. Returns how many
    were processed."""
    report = progress_reporter(self, lambda done, total: f"{done} of {total} registrations")
    with task_recorded(self) as outcome:
        # The processor's own actor, as when beat runs it: the person only chose the moment.
        summary = registrations_process(batch=settings.MES_PROCESSOR_BATCH, on_progress=report)
        held = f", {len(summary.held_lanes)} lane(s) held" if summary.held_lanes else ""
        done = summary.processed + summary.failed
        outcome.finish(
            done=done,
            total=done,
            text=f"Processed {summary.processed}, failed {summary.failed}{held}.",
            link=_failed_link() if summary.failed else "",
        )
    return summary.processed


def _failed_link() -> str:
    try:
        return reverse("floor:processing_log") + "?status=failed"
    except NoReverseMatch:
        return ""  # a worker-only URLconf


@shared_task(ignore_result=True)
def calculate_attendance_yesterday() -> int:
    """Beat, every night: yesterday's attendance days (approved ones are left as they are)."""
    yesterday = timezone.localdate() - timedelta(days=1)
    return len(attendance_days_calculate(date=yesterday, actor=Actor(process="nightly-attendance")))
