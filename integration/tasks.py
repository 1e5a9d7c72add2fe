"""The integration's Celery tasks. Celery discovers integration.tasks only: each subject's
tasks module is imported here, and every task keeps its name integration.tasks.<name>, which
the beat schedule (settings CELERY_BEAT_SCHEDULE) stores."""

from celery import shared_task

from integration.erp.tasks import deliver_outbox, flush_material_issues, purge_idempotency_keys
from integration.reconciliation.tasks import reconcile_wip_nightly, reconcile_wip_now
from integration.scale_units.tasks import send_reference_data, sync_with_hub
from integration.services.operations import heartbeat_record

__all__ = [
    "deliver_outbox",
    "flush_material_issues",
    "purge_idempotency_keys",
    "reconcile_wip_nightly",
    "reconcile_wip_now",
    "record_heartbeat",
    "send_reference_data",
    "sync_with_hub",
]


@shared_task(ignore_result=True)
def record_heartbeat() -> None:
    """Beat -> broker -> worker -> database: proves the background chain runs."""
    heartbeat_record(name="worker")
