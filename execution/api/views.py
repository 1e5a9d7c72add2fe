"""POST /api/v1/registrations/: terminals and scale units; GET: the processing log."""

from datetime import UTC

from django.core.exceptions import ValidationError
from django.db import transaction
from django_filters import rest_framework as filters
from django_filters.fields import IsoDateTimeField
from drf_spectacular.utils import OpenApiResponse, PolymorphicProxySerializer, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from mesproject.errors import ApplicationError, error_body

from ..models import RawRegistration
from ..services.registrations import registration_accept
from ..services.senders import Sender, sender_check, sender_for_session, sender_for_token
from .serializers import (
    AcceptedSerializer,
    BatchAnsweredSerializer,
    RegistrationInSerializer,
    RegistrationOutSerializer,
    registration_input,
)

MAX_BATCH = 500


class RegistrationPermission(BasePermission):
    """Posting needs execution.add_rawregistration (operators, terminals, scale units);
    reading the log needs execution.view_rawregistration (supervisors)."""

    def has_permission(self, request, view) -> bool:
        perm = "add" if request.method == "POST" else "view"
        return bool(
            request.user
            and request.user.is_authenticated
            and request.user.has_perm(f"execution.{perm}_rawregistration")
        )


class UtcIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 time, handed on in UTC. Python takes an offset up to 23:59, PostgreSQL
    only up to 15:59: handed on as it came, "...-19:11" was a 500. In UTC it is a plain time,
    or one out of range (year 1 at +14:00): a 400, never an error of the database."""

    def to_python(self, value):
        value = super().to_python(value)
        if value is None:
            return None
        try:
            return value.astimezone(UTC)
        except OverflowError:
            raise ValidationError("The time is out of range.", code="overflow") from None


class UtcIsoDateTimeFilter(filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


class RegistrationFilter(filters.FilterSet):
    badge_id = filters.CharFilter(field_name="worker__badge_id")
    order = filters.CharFilter(field_name="order__number")
    occurred_after = UtcIsoDateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    occurred_before = UtcIsoDateTimeFilter(field_name="occurred_at", lookup_expr="lt")

    class Meta:
        model = RawRegistration
        fields = ("status", "kind", "lane", "source")


def _accept_one(payload, sender: Sender) -> tuple[int, dict, bool]:
    serializer = RegistrationInSerializer(data=payload)
    if not serializer.is_valid():
        return (
            400,
            error_body("invalid", "The registration is not valid.", serializer.errors),
            False,
        )
    try:
        data = sender_check(sender=sender, data=registration_input(serializer.validated_data))
        accepted = registration_accept(data=data, source=sender.source)
    except ApplicationError as exc:
        return exc.http_status, error_body(exc.code, exc.message, exc.fields), False
    body = AcceptedSerializer(
        {
            "registration_uuid": serializer.validated_data["registration_uuid"],
            "replayed": accepted.replayed,
            "registrations": accepted.registrations,
        }
    ).data
    return (200 if accepted.replayed else 202), body, accepted.replayed


class RegistrationViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    permission_classes = [RegistrationPermission]
    serializer_class = RegistrationOutSerializer
    filterset_class = RegistrationFilter
    lookup_field = "uuid"
    queryset = RawRegistration.objects.select_related("worker", "order").order_by("-id")

    @extend_schema(
        request=PolymorphicProxySerializer(
            component_name="RegistrationPost",
            serializers=[RegistrationInSerializer, RegistrationInSerializer(many=True)],
            resource_type_field_name=None,
            many=False,
        ),
        responses={
            202: AcceptedSerializer,
            200: OpenApiResponse(
                PolymorphicProxySerializer(
                    component_name="RegistrationAnswered",
                    serializers=[AcceptedSerializer, BatchAnsweredSerializer],
                    resource_type_field_name=None,
                    many=False,
                ),
                description="One registration: a replay, the first answer. A list: each "
                "registration answered on its own.",
            ),
            400: OpenApiResponse(description="Malformed, or an unknown reference."),
            403: OpenApiResponse(
                description="Not this sender's to post (docs/execution.md, who sent it): "
                "`worker_not_signed_in`, `terminal_mismatch`, `terminal_inactive`, "
                "`terminal_wrong_resource`, `terminal_wrong_site`, `worker_wrong_site`."
            ),
            409: OpenApiResponse(description="Refused by the worker's or the job's state."),
            422: OpenApiResponse(description="Master data missing (e.g. a put-away location)."),
        },
        description="Store one registration (or a JSON list of up to 500, each answered on "
        "its own) and answer at once; the processor turns it into journals. A registration "
        "UUID seen before returns the first answer with `Idempotent-Replayed: true`.",
    )
    def create(self, request: Request) -> Response:
        # Who sent it comes from the credential, never from a header (a header said
        # "scale-unit:PLANT2" from an operator's token and was believed).
        if isinstance(request.successful_authenticator, SessionAuthentication):
            sender = sender_for_session(request.session)
        else:
            sender = sender_for_token(request.user)
        if isinstance(request.data, list):
            if len(request.data) > MAX_BATCH:
                return Response(
                    error_body("batch_too_large", f"Post at most {MAX_BATCH} at once."),
                    status=status.HTTP_400_BAD_REQUEST,
                )
            results = []
            for payload in request.data:
                # Each on its own: one refused registration does not refuse the others.
                with transaction.atomic():
                    code, body, _replayed = _accept_one(payload, sender)
                results.append({"status": code, **body})
            return Response({"results": results}, status=status.HTTP_200_OK)
        code, body, replayed = _accept_one(request.data, sender)
        response = Response(body, status=code)
        if replayed:
            response["Idempotent-Replayed"] = "true"
        return response
