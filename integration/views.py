from django.db import connection
from django.http import JsonResponse

from .models import Heartbeat


def health(request):
    """Liveness for load balancers and `make run`: database reachable, last worker beat."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    beat = Heartbeat.objects.filter(name="worker").first()
    return JsonResponse(
        {
            "status": "ok",
            "database": connection.vendor,
            "worker_last_seen": beat.last_seen.isoformat() if beat else None,
            "worker_beats": beat.count if beat else 0,
        }
    )
