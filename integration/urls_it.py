"""Browser pages: it."""

from django.urls import path  # noqa: F401

app_name = "it"

urlpatterns = []
