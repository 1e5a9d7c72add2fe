"""Browser pages: the supervisors' dashboard, mounted under /dashboard/."""

from django.urls import path

from . import views_dashboard

app_name = "dashboard"

urlpatterns = [
    path("", views_dashboard.index, name="index"),
]
