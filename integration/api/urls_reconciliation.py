"""The reconciliation part of the ERP API, to be included under /api/v1/."""

from django.urls import path

from .reconciliation import ErpWipSnapshotView

app_name = "integration"

urlpatterns = [
    path("reconciliation/erp-wip/", ErpWipSnapshotView.as_view(), name="erp-wip"),
]
