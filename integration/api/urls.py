"""The integration app's API under /api/v1/, one namespace ("integration") for the endpoints
of every subject: the ERP contract, its WIP snapshot and B2MML documents, the scale units'
packages."""

from django.urls import include, path

app_name = "integration"

urlpatterns = [
    path("", include("integration.erp.api.urls")),
    path("", include("integration.scale_units.api")),
    path("", include("integration.reconciliation.api")),
    path("", include("integration.b2mml.api")),
]
