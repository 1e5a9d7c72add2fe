"""Celery wrappers of the WIP reconciliation, re-exported by integration.tasks.

Named after integration.tasks, where the beat schedule looks for them: a task's name is its
defining module's path unless given, and re-exporting does not rename it.
"""

from celery import shared_task

from .services.reconciliation import reconciliation_run


@shared_task(name="integration.tasks.reconcile_wip_nightly", ignore_result=True)
def reconcile_wip_nightly() -> None:
    """Beat, at a quiet hour: compare the latest ERP snapshot with the MES WIP."""
    reconciliation_run(trigger="beat", actor_label="process:beat")


@shared_task(name="integration.tasks.reconcile_wip_now", ignore_result=True)
def reconcile_wip_now(*, actor_label: str, trigger: str = "button") -> None:
    """On demand, in a worker (a person pressed a button)."""
    reconciliation_run(trigger=trigger, actor_label=actor_label)
