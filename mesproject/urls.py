from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from integration.views import health

admin.site.site_header = "MES back office"
admin.site.site_title = "MES back office"
admin.site.index_title = "Master data and production orders"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    path("admin/", admin.site.urls),
    path("healthz", health, name="health"),
    path("floor/", include("execution.urls")),
    path(
        "integration/",
        include(("integration.urls_reconciliation", "integration-pages")),
    ),
    path("api/v1/inventory/", include("inventory.api.urls")),
    path("api/v1/", include("execution.api.urls")),
    path("api/v1/", include("integration.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
]
