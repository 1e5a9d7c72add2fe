"""The project's URLs plus the reconciliation pages, for the reconciliation tests (until
mesproject/urls.py includes them)."""

from django.urls import include, path

from mesproject.urls import urlpatterns as project_urlpatterns

urlpatterns = [
    *project_urlpatterns,
    path(
        "integration/",
        include("integration.reconciliation.pages.urls", namespace="integration-pages"),
    ),
]
