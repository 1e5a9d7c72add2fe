"""The home page (each role to its first page) and the health check."""

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch

from integration.models import Heartbeat


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


# Where each role starts: the first page of this list the user may open.
# Supervisors may also post registrations, so their dashboard comes before the terminal.
_START_PAGES = [
    ("execution.change_job", "dashboard:index"),
    ("execution.add_rawregistration", "terminal:home"),
    ("orders.add_productionorder", "planner:order_list"),
    ("integration.view_outboxmessage", "it:outbox"),
    ("orders.view_productionorder", "dashboard:index"),
]


@login_required
def home(request):
    """Sends each user to the page of their role; staff without one go to the admin."""
    for permission, url_name in _START_PAGES:
        if request.user.has_perm(permission) and not request.user.is_superuser:
            try:
                return redirect(url_name)
            except NoReverseMatch:
                continue
    if request.user.is_staff:
        return redirect("admin:index")
    return render(request, "home.html")
