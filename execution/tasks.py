from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from orders.services import Actor

from .services.attendance import attendance_days_calculate
from .services.processing import registrations_process


@shared_task(ignore_result=True)
def process_raw_registrations() -> str:
    """Beat (every minute) and the arrival nudge: process what is pending."""
    return str(registrations_process(batch=settings.MES_PROCESSOR_BATCH))


@shared_task(ignore_result=True)
def calculate_attendance_yesterday() -> int:
    """Beat, every night: yesterday's attendance days (approved ones are left as they are)."""
    yesterday = timezone.localdate() - timedelta(days=1)
    return len(attendance_days_calculate(date=yesterday, actor=Actor(process="nightly-attendance")))
