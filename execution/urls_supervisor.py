"""Browser pages: supervisor (mounted under /supervisor/)."""

from django.urls import path

from . import views_supervisor as views

app_name = "supervisor"

urlpatterns = [
    path("plan/", views.plan, name="plan"),
    path("plan/jobs/<int:pk>/move/", views.job_move, name="job_move"),
    path("plan/jobs/<int:pk>/hold/", views.job_hold, name="job_hold"),
    path("plan/jobs/<int:pk>/resource/", views.job_move_resource, name="job_move_resource"),
    path("floor/", views.floor, name="floor"),
    path("floor/live/", views.floor_fragment, name="floor_fragment"),
    path("attendance/", views.attendance, name="attendance"),
    path("attendance/calculate/", views.attendance_calculate, name="attendance_calculate"),
    path("attendance/approve/", views.attendance_approve, name="attendance_approve"),
    path("attendance/unapprove/", views.attendance_unapprove, name="attendance_unapprove"),
    path("attendance/transfer/", views.attendance_transfer, name="attendance_transfer"),
    path("attendance/export/", views.attendance_export, name="attendance_export"),
]
