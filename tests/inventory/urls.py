"""The project's URLs plus the inventory API, until mesproject/urls.py includes it."""

from django.urls import include, path

from mesproject.urls import urlpatterns as project_urlpatterns

urlpatterns = [
    *project_urlpatterns,
    path("api/v1/inventory/", include("inventory.api.urls")),
]
