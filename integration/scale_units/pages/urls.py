"""Pages of hub and scale units: on the hub, the scale units' status; on a scale unit, the
link to the hub (its packages' processing history and the queue of registrations)."""

from django.urls import path

from integration.scale_units.pages import views as views
from mesproject.deployment import is_scale_unit

app_name = "scale-units"

SCALE_UNIT_PATTERNS = [
    path("hub/", views.hub_link_page, name="hub_link"),
    path("hub/sync/", views.hub_sync_now, name="hub_sync"),
    path("hub/packages/<int:pk>/process/", views.package_process, name="package_process"),
    path("hub/packages/<int:pk>/cancel/", views.package_cancel, name="package_cancel"),
    path("hub/forwards/<int:pk>/retry/", views.forward_retry, name="forward_retry"),
]
HUB_PATTERNS = [path("", views.status_page, name="status")]

urlpatterns = SCALE_UNIT_PATTERNS if is_scale_unit() else HUB_PATTERNS
