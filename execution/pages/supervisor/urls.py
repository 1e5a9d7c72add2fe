"""Browser pages: supervisor (mounted under /supervisor/)."""

from django.urls import path

from . import attendance, floor, plan

app_name = "supervisor"

urlpatterns = [
    path("plan/", plan.plan, name="plan"),
    path("plan/jobs/<int:pk>/move/", plan.job_move, name="job_move"),
    path("plan/jobs/<int:pk>/hold/", plan.job_hold, name="job_hold"),
    path("plan/jobs/<int:pk>/resource/", plan.job_move_resource, name="job_move_resource"),
    path("floor/", floor.floor, name="floor"),
    path("floor/live/", floor.floor_fragment, name="floor_fragment"),
    path("attendance/", attendance.attendance, name="attendance"),
    path("attendance/calculate/", attendance.attendance_calculate, name="attendance_calculate"),
    path("attendance/approve/", attendance.attendance_approve, name="attendance_approve"),
    path("attendance/unapprove/", attendance.attendance_unapprove, name="attendance_unapprove"),
    path("attendance/transfer/", attendance.attendance_transfer, name="attendance_transfer"),
    path("attendance/export/", attendance.attendance_export, name="attendance_export"),
]
