"""Celery wrappers of the WIP reconciliation (re-exported by integration.tasks for beat)."""

from celery import shared_task

from .services.reconciliation import reconciliation_run


@shared_task(ignore_result=True)
def reconcile_wip_nightly() -> None:
    """Beat, at a quiet hour: compare the latest ERP snapshot with the MES WIP."""
    reconciliation_run(trigger="beat", actor_label="process:beat")


@shared_task(ignore_result=True)
def reconcile_wip_now(*, actor_label: str, trigger: str = "button") -> None:
    """On demand, in a worker (a person pressed a button)."""
    reconciliation_run(trigger=trigger, actor_label=actor_label)
