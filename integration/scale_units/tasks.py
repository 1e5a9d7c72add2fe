"""Thin Celery wrappers around the scale-unit services, re-exported by integration.tasks (and
named after it, where the beat schedule looks for them)."""

from celery import shared_task

from integration.scale_units.services import hub_sync, packages_reference_refresh


@shared_task(name="integration.tasks.sync_with_hub", ignore_result=True)
def sync_with_hub() -> str:
    """Scale unit, beat: take and apply the hub's packages, send the registrations queued
    (the manufacturing hub to scale unit message processor)."""
    return str(hub_sync())


@shared_task(name="integration.tasks.send_reference_data", ignore_result=True)
def send_reference_data() -> int:
    """Hub, beat (hourly): reference data that changed, to every scale unit."""
    return packages_reference_refresh()
