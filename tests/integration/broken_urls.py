"""The project's URLs plus two views that fail with an uncaught error, one under /api/ and
one page, for the tests of what an uncaught error answers."""

from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from mesproject.urls import *  # noqa: F403  (the error handlers too)
from mesproject.urls import urlpatterns as project_urlpatterns


class BrokenApiView(APIView):
    permission_classes = [AllowAny]

    def get(self, request):
        raise RuntimeError("secret detail of a broken view")


def broken_page(request):
    raise RuntimeError("secret detail of a broken page")


urlpatterns = [
    path("api/v1/broken/", BrokenApiView.as_view()),
    path("broken-page/", broken_page),
    *project_urlpatterns,
]
