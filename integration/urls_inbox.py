"""Browser pages of what reaches people: notifications and the ERP's change requests."""

from django.urls import path

from . import views_inbox as views

app_name = "inbox"

urlpatterns = [
    path("notifications/", views.notification_list, name="notifications"),
    path("notifications/read/", views.notifications_mark_read, name="notifications_read"),
]
