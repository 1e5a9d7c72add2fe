from django.urls import include, path

from . import scale_units, views

app_name = "integration"

urlpatterns = [
    path("work-orders/", views.WorkOrderListView.as_view(), name="work-orders"),
    path("work-orders/<str:wo_id>/", views.WorkOrderDetailView.as_view(), name="work-order"),
    path(
        "work-orders/<str:wo_id>/close/",
        views.WorkOrderCloseView.as_view(),
        name="work-order-close",
    ),
    path(
        "work-orders/<str:wo_id>/release/",
        views.WorkOrderReleaseView.as_view(),
        name="work-order-release",
    ),
    path(
        "work-orders/<str:wo_id>/as-built/",
        views.WorkOrderAsBuiltView.as_view(),
        name="work-order-as-built",
    ),
    path("parts/<str:part_number>/", views.PartView.as_view(), name="part"),
    path("boms/<str:part_number>/<str:revision>/", views.BomView.as_view(), name="bom"),
    path(
        "routings/<str:part_number>/<str:revision>/",
        views.RoutingView.as_view(),
        name="routing",
    ),
    path(
        "scale-units/packages/",
        scale_units.ScaleUnitPackagesView.as_view(),
        name="scale-unit-packages",
    ),
    path("", include("integration.api.urls_reconciliation")),
    path("", include("integration.api.urls_b2mml")),
]
