from celery import shared_task

from .services.operations import heartbeat_record


@shared_task(ignore_result=True)
def record_heartbeat() -> None:
    """Beat -> broker -> worker -> database: proves the background chain runs."""
    heartbeat_record(name="worker")
