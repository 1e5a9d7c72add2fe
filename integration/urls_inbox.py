"""Browser pages of what reaches people: notifications and the ERP's change requests."""

from django.urls import path

from . import views_inbox as views

app_name = "inbox"

urlpatterns = [
    path("notifications/", views.notification_list, name="notifications"),
    path("notifications/read/", views.notifications_mark_read, name="notifications_read"),
    path("change-requests/", views.change_request_list, name="change_requests"),
    path(
        "change-requests/<int:pk>/decide/",
        views.change_request_decide,
        name="change_request_decide",
    ),
]
