"""POST /api/v1/reconciliation/erp-wip/: the ERP's WIP balances for the nightly comparison."""

from django.urls import path
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from integration.erp.api.permissions import HasPerms
from integration.models import ErpWipSnapshot
from integration.reconciliation.services import erp_wip_snapshot_receive
from mesproject.serializer_fields import TextField


class ErpWipLineInSerializer(serializers.Serializer):
    # Only the shape is checked here: the service checks the values, so every refusal of a
    # line carries the same codes (invalid_line, duplicate_line) and names lines[i].field.
    wo_id = TextField(allow_blank=True, trim_whitespace=False)
    component_part = TextField(allow_blank=True, trim_whitespace=False)
    quantity = TextField(
        allow_blank=True,
        trim_whitespace=False,
        help_text='WIP in `uom`: a decimal string >= 0, e.g. "12.5".',
    )
    uom = TextField(
        required=False,
        allow_blank=True,
        help_text="A unit code of the MES; empty: the component's unit. Another unit is "
        "converted to the component's unit through the inventory's unit conversions.",
    )


class ErpWipSnapshotInSerializer(serializers.Serializer):
    as_of = serializers.DateTimeField(help_text="When the ERP took the balances.")
    lines = ErpWipLineInSerializer(many=True, allow_empty=True)


class ErpWipSnapshotOutSerializer(serializers.ModelSerializer):
    class Meta:
        model = ErpWipSnapshot
        fields = ("id", "as_of", "line_count")


class ErpWipErrorSerializer(serializers.Serializer):
    """The error body of every API failure: {code, message, fields}."""

    code = TextField()
    message = TextField()
    fields = serializers.DictField()


class ErpWipSnapshotView(APIView):
    # The ERP integration role and integration.add_erpwipsnapshot.
    permission_classes = [HasPerms]
    required_perms = {"POST": ["integration.add_erpwipsnapshot"]}

    @extend_schema(
        operation_id="reconciliation_erp_wip_create",
        request=ErpWipSnapshotInSerializer,
        responses={
            201: ErpWipSnapshotOutSerializer,
            400: OpenApiResponse(
                ErpWipErrorSerializer,
                description="Malformed body, or a line refused: `invalid_line` (a value, "
                "named `lines[i].field`) or `duplicate_line` (a work order and component "
                "twice). Nothing is stored.",
            ),
            401: OpenApiResponse(ErpWipErrorSerializer, description="No or bad credentials."),
            422: OpenApiResponse(
                ErpWipErrorSerializer,
                description="A line's `uom` is not a unit of the MES (`unit_unknown`) or does "
                "not convert to its item's unit (`no_conversion`), named `lines[i].uom`. "
                "Nothing is stored.",
            ),
            403: OpenApiResponse(
                ErpWipErrorSerializer,
                description="Not the ERP integration role (`erp_role_required`), or lacks "
                "integration.add_erpwipsnapshot.",
            ),
        },
        description="The ERP's WIP per work order and component at `as_of`; the nightly "
        "reconciliation compares the latest snapshot with the MES WIP.",
    )
    def post(self, request: Request) -> Response:
        serializer = ErpWipSnapshotInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        snapshot = erp_wip_snapshot_receive(
            as_of=serializer.validated_data["as_of"],
            lines=serializer.validated_data["lines"],
            user=request.user,
        )
        return Response(ErpWipSnapshotOutSerializer(snapshot).data, status=status.HTTP_201_CREATED)


# Included by integration/api/urls.py: the names live in its "integration" namespace.
urlpatterns = [
    path("reconciliation/erp-wip/", ErpWipSnapshotView.as_view(), name="erp-wip"),
]
