"""Browser pages: terminal."""

from django.urls import path  # noqa: F401

app_name = "terminal"

urlpatterns = []
