from celery import shared_task

from .services.processing import registrations_process


@shared_task(ignore_result=True)
def process_raw_registrations() -> str:
    """Beat (every minute) and the arrival nudge: process what is pending."""
    return str(registrations_process())
