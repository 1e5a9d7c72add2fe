"""The header of every page: the sections the signed-in user may open, and the unread count.

Each entry names a URL and the permission its view checks on the server; the header only
mirrors that check (a hidden link is not security). An entry whose URL is not installed
(a scale unit serves fewer pages) is left out.
"""

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse


@dataclass(frozen=True)
class NavEntry:
    label: str
    url_name: str
    permission: str


NAVIGATION = [
    NavEntry("Dashboard", "dashboard:index", "orders.view_productionorder"),
    NavEntry("Orders", "planner:order_list", "orders.view_productionorder"),
    NavEntry("Plan", "supervisor:plan", "execution.change_job"),
    NavEntry("Floor", "supervisor:floor", "execution.view_job"),
    NavEntry("Processing log", "floor:processing_log", "execution.view_rawregistration"),
    NavEntry("Attendance", "supervisor:attendance", "execution.view_attendanceday"),
    NavEntry("Change requests", "change_requests:list", "integration.view_changerequest"),
    NavEntry("Terminal", "terminal:home", "execution.add_rawregistration"),
    NavEntry("Outbox", "it:outbox", "integration.view_outboxmessage"),
    NavEntry("Idempotency keys", "it:idempotency_keys", "integration.view_idempotencykey"),
    NavEntry("Scale units", "scale-units:status", "integration.view_scaleunit"),
    NavEntry("Hub link", "scale-units:hub_link", "integration.view_receivedpackage"),
    NavEntry(
        "Reconciliation",
        "integration-pages:reconciliation-list",
        "integration.view_reconciliationrun",
    ),
]


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_entries": [], "unread_notifications": 0}
    entries = []
    path = request.path
    for entry in NAVIGATION:
        if not user.has_perm(entry.permission):
            continue
        try:
            url = reverse(entry.url_name)
        except NoReverseMatch:
            continue
        entries.append({"label": entry.label, "url": url, "current": path.startswith(url)})
    return {"nav_entries": entries, "unread_notifications": _unread(user)}


def _unread(user) -> int:
    # Imported here: settings load this module before the apps are ready.
    from integration.services.notifications import unread_count

    return unread_count(user)
