"""Celery wrappers of the WIP reconciliation, re-exported by integration.tasks.

Named after integration.tasks, where the beat schedule looks for them: a task's name is its
defining module's path unless given, and re-exporting does not rename it.
"""

from celery import shared_task

from integration.reconciliation.services import reconciliation_run, run_summary
from integration.reconciliation.services.runs import run_link
from mesproject.background_tasks import progress_reporter, task_recorded


@shared_task(name="integration.tasks.reconcile_wip_nightly", ignore_result=True)
def reconcile_wip_nightly() -> None:
    """Beat, at a quiet hour: compare the latest ERP snapshot with the MES WIP."""
    reconciliation_run(trigger="beat", actor_label="process:beat")


@shared_task(name="integration.tasks.reconcile_wip_now", bind=True, ignore_result=False)
def reconcile_wip_now(self, *, actor_label: str, trigger: str = "button") -> int:
    """On demand, in a worker (a person pressed a button); its record (BackgroundTask) shows
    the pairs compared so far, then the run's summary and a link to it. Returns the run's id."""
    report = progress_reporter(self, lambda done, total: f"{done} of {total} pairs compared")
    with task_recorded(self) as outcome:
        run = reconciliation_run(trigger=trigger, actor_label=actor_label, on_progress=report)
        outcome.finish(
            done=run.pairs_done, total=run.pairs_total, text=run_summary(run), link=run_link(run)
        )
    return run.pk
