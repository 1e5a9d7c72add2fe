"""The reconciliation part of the ERP API; integration/api/urls.py includes it, so its names
live in that module's "integration" namespace (no app_name of its own)."""

from django.urls import path

from .reconciliation import ErpWipSnapshotView

urlpatterns = [
    path("reconciliation/erp-wip/", ErpWipSnapshotView.as_view(), name="erp-wip"),
]
