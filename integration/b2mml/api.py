"""B2MML (ISA-95) over the ERP API: the schedule in as XML, an order's actuals out as XML.

Answers other than the exported document are JSON ({code, message, fields} for a refusal),
whatever the caller accepts: an ERP sending `Accept: application/xml` gets its document or
a readable refusal, never a 406.
"""

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import BaseParser
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from integration.b2mml import MAX_BYTES
from integration.b2mml.performance import operations_performance
from integration.b2mml.services import b2mml_schedule_import
from integration.erp.api.permissions import HasPerms
from mesproject import converters  # noqa: F401  (the <ref:> converter)
from mesproject.actors import Actor
from mesproject.errors import ErrorSerializer
from mesproject.serializer_fields import TextField
from orders.choices import OrderStatus
from orders.models import ProductionOrder

XML = "application/xml"


class XmlParser(BaseParser):
    """The body as bytes, for integration.b2mml to parse safely; one byte past the limit
    is enough for it to refuse the size."""

    media_type = XML

    def parse(self, stream, media_type=None, parser_context=None) -> bytes:
        return stream.read(MAX_BYTES + 1)


class TextXmlParser(XmlParser):
    media_type = "text/xml"


class JsonAnswers(DefaultContentNegotiation):
    """Always the JSON renderer: the XML document is returned as a plain HttpResponse."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class ImportedWorkOrderSerializer(serializers.Serializer):
    wo_id = TextField()
    # A plain string: a second OrderStatus enum would rename the work order's in the
    # OpenAPI document (settings has no ENUM_NAME_OVERRIDES entry for it).
    status = TextField(help_text=f"One of {', '.join(OrderStatus.values)}.")
    created = serializers.BooleanField(help_text="False: the existing Created order was updated.")


class ScheduleAnswerSerializer(serializers.Serializer):
    work_orders = ImportedWorkOrderSerializer(many=True, help_text="One per request, in order.")


def _error(description: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorSerializer, description=description)


class B2mmlScheduleView(APIView):
    permission_classes = [HasPerms]
    required_perms = {"POST": ["orders.add_productionorder"]}
    parser_classes = [XmlParser, TextXmlParser]
    renderer_classes = [JSONRenderer]
    content_negotiation_class = JsonAnswers

    @extend_schema(
        operation_id="b2mml_schedule_import",
        request={XML: {"type": "string"}},
        responses={
            201: OpenApiResponse(ScheduleAnswerSerializer, description="At least one created."),
            200: OpenApiResponse(
                ScheduleAnswerSerializer,
                description="Every wo_id existed and was Created: updated (idempotent).",
            ),
            400: _error(
                "`b2mml_invalid`: not well-formed XML, a DTD, no request, or a request "
                "without ID, produced material or quantity (named in fields)."
            ),
            401: _error("No or a bad token."),
            403: _error("Lacks orders.add_productionorder."),
            409: _error("A wo_id exists and is no longer Created (`wo_exists`, request_id)."),
            415: _error("The body is not application/xml or text/xml."),
            422: _error("Part, BOM or routing missing (`master_data_missing`, request_id)."),
        },
    )
    def post(self, request: Request) -> Response:
        """Import an OperationsSchedule (V0700) or a ProductionSchedule (V0401): each
        request becomes a work order as with the JSON create, all in one transaction."""
        xml = request.data if isinstance(request.data, bytes) else b""  # no body: {}
        results = b2mml_schedule_import(xml=xml, actor=Actor(user=request.user))
        answer = {
            "work_orders": [
                {"wo_id": order.number, "status": order.status, "created": created}
                for order, created in results
            ]
        }
        created = any(created for _, created in results)
        return Response(ScheduleAnswerSerializer(answer).data, status=201 if created else 200)


class WorkOrderB2mmlView(APIView):
    permission_classes = [HasPerms]
    required_perms = {"GET": ["orders.view_productionorder"]}
    renderer_classes = [JSONRenderer]
    content_negotiation_class = JsonAnswers

    @extend_schema(
        operation_id="work_order_b2mml",
        responses={
            (200, XML): OpenApiResponse(
                OpenApiTypes.STR,
                description="An OperationsPerformance (B2MML V0700) with the order's "
                "actuals: a SegmentResponse per operation, MaterialActual Consumed and "
                "Produced per part and lot.",
            ),
            401: _error("No or a bad token."),
            403: _error("Lacks orders.view_productionorder."),
            404: _error("No such wo_id."),
        },
    )
    def get(self, request: Request, wo_id: str) -> HttpResponse:
        """The order's actuals as B2MML."""
        order = get_object_or_404(
            ProductionOrder.objects.select_related("item", "unit", "site", "route"),
            number=wo_id,
        )
        return HttpResponse(operations_performance(order), content_type=f"{XML}; charset=utf-8")


# Included by integration/api/urls.py: the names live in its "integration" namespace.
urlpatterns = [
    path("b2mml/schedule/", B2mmlScheduleView.as_view(), name="b2mml-schedule"),
    path("work-orders/<ref:wo_id>/b2mml/", WorkOrderB2mmlView.as_view(), name="work-order-b2mml"),
]
