from django.contrib import admin
from django.contrib.auth.views import LoginView
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from mesproject.deployment import is_scale_unit
from mesproject.workplace.home import health, home
from mesproject.workplace.sign_in import PagesSignInForm

admin.site.site_header = "MES back office"
admin.site.site_title = "MES back office"
admin.site.index_title = "Master data and production orders"


def _moved(url: str):
    return RedirectView.as_view(url=url, permanent=True, query_string=True)


urlpatterns = [
    path("", home, name="home"),
    path("accounts/login/", LoginView.as_view(authentication_form=PagesSignInForm), name="login"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("dashboard/", include("execution.pages.dashboard.urls")),
    path("supervisor/", include("execution.pages.supervisor.urls")),
    path("terminal/", include("execution.pages.terminal.urls")),
    path("it/", include("integration.erp.pages.urls")),
    path("notifications/", include("mesproject.workplace.notifications")),
    path("change-requests/", include("integration.erp.pages.change_requests")),
    # Before these pages had their own names they were under /inbox/: links kept in
    # notifications and bookmarks still arrive there.
    re_path(r"^inbox/notifications/(?P<rest>.*)$", _moved("/notifications/%(rest)s")),
    re_path(r"^inbox/change-requests/(?P<rest>.*)$", _moved("/change-requests/%(rest)s")),
    path("healthz", health, name="health"),
    path("floor/", include("execution.pages.processing_log.urls")),
    path("scale-units/", include("integration.scale_units.pages.urls")),
    path("api/v1/", include("execution.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
]
if not is_scale_unit():
    # Planning and the ERP are the hub's: a scale unit serves the floor only.
    urlpatterns += [
        path("planner/", include("execution.pages.planner.urls")),
        path(
            "integration/",
            include(("integration.reconciliation.pages.urls", "integration-pages")),
        ),
        path("api/v1/inventory/", include("inventory.api.urls")),
        path("api/v1/", include("integration.api.urls")),
    ]

# Under /api/ the JSON error body (413 for an oversized body), elsewhere the styled pages.
handler400 = "mesproject.errors.bad_request"
handler403 = "mesproject.errors.permission_denied"
handler404 = "mesproject.errors.page_not_found"
handler500 = "mesproject.errors.server_error"
