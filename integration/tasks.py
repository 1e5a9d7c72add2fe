"""Thin Celery wrappers around the integration services."""

from celery import shared_task

from integration.erp.services.idempotency import idempotency_keys_purge
from integration.erp.services.outbox import material_issues_flush, relay_nudge_clear
from integration.erp.services.relay import outbox_deliver

from .services.operations import heartbeat_record
from .tasks_reconciliation import reconcile_wip_nightly, reconcile_wip_now

# Celery loads integration.tasks; the reconciliation tasks live next door.
__all__ = ["reconcile_wip_nightly", "reconcile_wip_now"]


@shared_task(ignore_result=True)
def record_heartbeat() -> None:
    """Beat -> broker -> worker -> database: proves the background chain runs."""
    heartbeat_record(name="worker")


@shared_task(ignore_result=True)
def deliver_outbox() -> str:
    """Beat (every 15 s) and the nudge after a message is written: send what is due."""
    relay_nudge_clear()
    return str(outbox_deliver())


@shared_task(ignore_result=True)
def flush_material_issues() -> int:
    """Beat, every minute: material-issue batches whose time window has run out."""
    return material_issues_flush(due_only=True)


@shared_task(ignore_result=True)
def purge_idempotency_keys() -> int:
    """Beat, daily: keys past their retention (MES_IDEMPOTENCY_KEY_DAYS)."""
    return idempotency_keys_purge()


@shared_task(ignore_result=True)
def sync_with_hub() -> str:
    """Scale unit, beat: take and apply the hub's packages, send the registrations queued
    (the manufacturing hub to scale unit message processor)."""
    from integration.scale_units.services import hub_sync

    return str(hub_sync())


@shared_task(ignore_result=True)
def send_reference_data() -> int:
    """Hub, beat (hourly): reference data that changed, to every scale unit."""
    from integration.scale_units.services import packages_reference_refresh

    return packages_reference_refresh()
