"""GET /api/v1/scale-units/packages/: a scale unit takes its packages from the hub."""

from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from integration.scale_units.services import packages_take
from mesproject.errors import ApplicationError
from mesproject.serializer_fields import TextField

PAGE = 50


class IsScaleUnit(BasePermission):
    """Only a registered, active scale unit's own token."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        unit = getattr(user, "scale_unit", None) if user and user.is_authenticated else None
        return unit is not None and unit.is_active


class PackageSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = TextField()
    order_number = TextField(allow_blank=True)
    reason = TextField()
    created_at = serializers.DateTimeField()
    payload = serializers.JSONField()


class PackagesSerializer(serializers.Serializer):
    packages = PackageSerializer(many=True)
    more = serializers.BooleanField(help_text="More packages wait after these.")


class PackagesQuerySerializer(serializers.Serializer):
    # A package id is a bigint: a larger number would be an error of the database.
    after = serializers.IntegerField(min_value=0, default=0, max_value=2**63 - 1)
    backlog = serializers.IntegerField(min_value=0, default=0, max_value=2**31 - 1)
    failed_packages = serializers.IntegerField(min_value=0, default=0, max_value=2**31 - 1)
    rejected = serializers.IntegerField(min_value=0, default=0, max_value=2**31 - 1)


class ScaleUnitPackagesView(APIView):
    permission_classes = [IsScaleUnit]

    @extend_schema(
        parameters=[
            OpenApiParameter("after", int, description="The last package id stored: an ack."),
            OpenApiParameter("backlog", int, description="Registrations waiting to be sent."),
            OpenApiParameter("failed_packages", int, description="Packages failed there."),
            OpenApiParameter("rejected", int, description="Its registrations the hub refused."),
        ],
        responses={200: PackagesSerializer},
        description="The scale unit's packages after `after`, oldest first (at most 50). "
        "Asking for them acknowledges every package up to `after` and notes the contact.",
    )
    def get(self, request: Request) -> Response:
        query = PackagesQuerySerializer(data=request.query_params)
        if not query.is_valid():
            raise ApplicationError(
                "after, backlog, failed_packages and rejected are whole numbers from 0.",
                code="invalid",
                fields=query.errors,
            )
        packages = packages_take(
            scale_unit=request.user.scale_unit,
            after=query.validated_data["after"],
            limit=PAGE + 1,
            report=query.validated_data,
        )
        body = PackagesSerializer({"packages": packages[:PAGE], "more": len(packages) > PAGE})
        return Response(body.data)


# Included by integration/api/urls.py: the names live in its "integration" namespace.
urlpatterns = [
    path(
        "scale-units/packages/",
        ScaleUnitPackagesView.as_view(),
        name="scale-unit-packages",
    ),
]
