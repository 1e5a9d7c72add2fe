"""Celery wrappers of the WIP reconciliation, re-exported by integration.tasks.

Named after integration.tasks, where the beat schedule looks for them: a task's name is its
defining module's path unless given, and re-exporting does not rename it.
"""

from celery import shared_task
from django.urls import NoReverseMatch, reverse

from mesproject.jobs import finished_now, progress_reporter

from .services.reconciliation import reconciliation_run, run_summary


@shared_task(name="integration.tasks.reconcile_wip_nightly", ignore_result=True)
def reconcile_wip_nightly() -> None:
    """Beat, at a quiet hour: compare the latest ERP snapshot with the MES WIP."""
    reconciliation_run(trigger="beat", actor_label="process:beat")


def _run_link(run) -> str:
    try:
        return reverse("integration-pages:reconciliation-detail", args=[run.pk])
    except NoReverseMatch:
        return ""  # a worker-only URLconf: the text says which run


# store_eager_result: run eagerly (tests, a debugging shell) the progress page still finds
# the outcome.
@shared_task(
    name="integration.tasks.reconcile_wip_now",
    bind=True,
    ignore_result=False,
    store_eager_result=True,
)
def reconcile_wip_now(self, *, actor_label: str, trigger: str = "button") -> dict:
    """On demand, in a worker (a person pressed a button); the progress page shows the pairs
    compared so far, then this return value."""
    report = progress_reporter(self, lambda done, total: f"{done} of {total} pairs compared")
    run = reconciliation_run(trigger=trigger, actor_label=actor_label, on_progress=report)
    return {
        "done": run.pairs_done,
        "total": run.pairs_total,
        "text": run_summary(run),
        "link": _run_link(run),
        "run": run.pk,
        "finished_at": finished_now(),
    }
