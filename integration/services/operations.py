"""The heartbeat of the background processes (the health check reads the worker's)."""

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from ..models import Heartbeat


@transaction.atomic
def heartbeat_record(*, name: str) -> Heartbeat:
    """Note that a background process is alive."""
    now = timezone.now()
    updated = Heartbeat.objects.filter(name=name).update(last_seen=now, count=F("count") + 1)
    if not updated:
        Heartbeat.objects.get_or_create(name=name, defaults={"last_seen": now, "count": 1})
    return Heartbeat.objects.get(name=name)
