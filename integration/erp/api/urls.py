"""The ERP's REST endpoints: work orders and the master data they need (docs/integration.md).
Included by integration/api/urls.py: the names live in its "integration" namespace."""

from django.urls import path

from integration.erp.api import views
from mesproject import converters  # noqa: F401  (the <ref:> converter)

urlpatterns = [
    path("work-orders/", views.WorkOrderListView.as_view(), name="work-orders"),
    path("work-orders/<ref:wo_id>/", views.WorkOrderDetailView.as_view(), name="work-order"),
    path(
        "work-orders/<ref:wo_id>/close/",
        views.WorkOrderCloseView.as_view(),
        name="work-order-close",
    ),
    path(
        "work-orders/<ref:wo_id>/release/",
        views.WorkOrderReleaseView.as_view(),
        name="work-order-release",
    ),
    path(
        "work-orders/<ref:wo_id>/as-built/",
        views.WorkOrderAsBuiltView.as_view(),
        name="work-order-as-built",
    ),
    path("parts/<ref:part_number>/", views.PartView.as_view(), name="part"),
    path("boms/<ref:part_number>/<ref:revision>/", views.BomView.as_view(), name="bom"),
    path(
        "routings/<ref:part_number>/<ref:revision>/",
        views.RoutingView.as_view(),
        name="routing",
    ),
]
