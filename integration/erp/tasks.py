"""Thin Celery wrappers around the ERP contract's services, re-exported by integration.tasks.

Named after integration.tasks, where the beat schedule (settings CELERY_BEAT_SCHEDULE) and the
relay's nudge (outbox.RELAY_TASK) look for them: a task's name is its defining module's path
unless given, and re-exporting does not rename it.
"""

from celery import shared_task

from integration.erp.services.idempotency import idempotency_keys_purge
from integration.erp.services.outbox import material_issues_flush, relay_nudge_clear
from integration.erp.services.relay import outbox_deliver


@shared_task(name="integration.tasks.deliver_outbox", ignore_result=True)
def deliver_outbox() -> str:
    """Beat (every 15 s) and the nudge after a message is written: send what is due."""
    relay_nudge_clear()
    return str(outbox_deliver())


@shared_task(name="integration.tasks.flush_material_issues", ignore_result=True)
def flush_material_issues() -> int:
    """Beat, every minute: material-issue batches whose time window has run out."""
    return material_issues_flush(due_only=True)


@shared_task(name="integration.tasks.purge_idempotency_keys", ignore_result=True)
def purge_idempotency_keys() -> int:
    """Beat, daily: keys past their retention (MES_IDEMPOTENCY_KEY_DAYS)."""
    return idempotency_keys_purge()
