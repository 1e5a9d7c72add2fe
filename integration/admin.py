"""The integration's admin. Django loads integration.admin only: each subject's admin module
is imported here to register its models; the worker's heartbeat and the alerts are the app's
own."""

from django.contrib import admin

from integration.erp import admin as erp_admin  # noqa: F401  (registers its models)
from integration.models import Heartbeat, Notification
from integration.reconciliation import admin as reconciliation_admin  # noqa: F401
from integration.scale_units import admin as scale_units_admin  # noqa: F401
from mesproject.admin import ReadOnlyAdmin


@admin.register(Heartbeat)
class HeartbeatAdmin(ReadOnlyAdmin):
    list_display = ("name", "last_seen", "count")


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "kind", "role", "title")
    list_filter = ("kind", "role")
    search_fields = ("title", "text")
