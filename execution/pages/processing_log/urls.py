"""The floor's pages, mounted under /floor/: the processing log and the correction of a
registration (execution.pages.corrections), which the log links to."""

from django.urls import path

from .. import corrections
from . import views

# Not "execution": the registration API (execution/api/urls.py) already uses that namespace.
app_name = "floor"

urlpatterns = [
    path("processing-log/", views.processing_log, name="processing_log"),
    path(
        "processing-log/process-again/",
        views.registrations_process_again,
        name="registrations_process_again",
    ),
    path("processing-log/cancel/", views.registrations_cancel, name="registrations_cancel"),
    path(
        "registrations/<int:pk>/correct/",
        corrections.registration_correct_page,
        name="registration_correct",
    ),
    path(
        "processing-log/process-pending/",
        views.registrations_process_pending,
        name="registrations_process_pending",
    ),
]
