"""The project's URLs with the scale unit's pages instead of the hub's, for testing those
pages in this (hub) process; which set a deployment serves is decided at start-up."""

from django.urls import include, path

from integration.scale_units.pages.urls import SCALE_UNIT_PATTERNS
from mesproject.urls import urlpatterns as project_urlpatterns

urlpatterns = [
    *(p for p in project_urlpatterns if str(p.pattern) != "scale-units/"),
    path("scale-units/", include((SCALE_UNIT_PATTERNS, "scale-units"))),
]
