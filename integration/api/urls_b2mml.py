"""The B2MML part of the ERP API; integration/api/urls.py includes it, so its names live in
that module's "integration" namespace (no app_name of its own)."""

from django.urls import path

from mesproject import converters  # noqa: F401  (the <ref:> converter)

from .b2mml import B2mmlScheduleView, WorkOrderB2mmlView

urlpatterns = [
    path("b2mml/schedule/", B2mmlScheduleView.as_view(), name="b2mml-schedule"),
    path("work-orders/<ref:wo_id>/b2mml/", WorkOrderB2mmlView.as_view(), name="work-order-b2mml"),
]
