"""The product's URLs plus a bench-only baseline: an authenticated DRF endpoint that inserts
one row per request (an in-app Notification), with the same authentication (the
REST_FRAMEWORK defaults: token, session) and the same permission class and permission as
the work-order create (HasPerms, orders.add_productionorder).

It is mounted twice:

- ``/bench/insert/``: outside ``/api/``, so the idempotency middleware leaves it alone (no
  key, nothing stored): the floor of what any authenticated write costs in this stack;
- ``/api/v1/bench/insert/``: under ``/api/``, so it needs an Idempotency-Key and goes
  through the middleware like every API write (claim committed first, answer stored in the
  request's transaction): the same floor plus the idempotency contract.

The gap between the two is what idempotency costs; the rest of the gap to the work-order
create is the create itself (master-data checks, the order row and its history).
"""

from django.urls import include, path
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from integration.choices import NotificationKind
from integration.erp.api.permissions import HasPerms
from integration.models import Notification

BENCH_ROLE = "bench"


class BareInsertView(APIView):
    permission_classes = [HasPerms]
    required_perms = {"POST": ["orders.add_productionorder"]}

    def post(self, request: Request) -> Response:
        title = request.data.get("title", "") if isinstance(request.data, dict) else ""
        row = Notification.objects.create(
            kind=NotificationKind.CHANGE_REQUEST,
            role=BENCH_ROLE,
            title=str(title)[:200],
            created_at=timezone.now(),
        )
        return Response({"id": row.pk}, status=201)


urlpatterns = [
    path("bench/insert/", BareInsertView.as_view()),
    path("api/v1/bench/insert/", BareInsertView.as_view()),
    path("", include("mesproject.urls")),
]
