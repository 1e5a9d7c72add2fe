"""The ERP's REST endpoints: thin views over integration.services."""

from dataclasses import asdict, is_dataclass
from decimal import Decimal

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from execution.selectors import order_genealogy
from integration.erp.api import serializers as s
from integration.erp.api.permissions import HasPerms
from integration.erp.services import master_data, work_orders
from inventory.fields import show
from inventory.identifiers import identifier_check
from inventory.selectors import order_as_built
from mesproject.actors import Actor
from mesproject.errors import ErrorSerializer
from orders.models import ProductionOrder

ORDER_VIEW = "orders.view_productionorder"
ORDER_ADD = "orders.add_productionorder"
ORDER_CHANGE = "orders.change_productionorder"


def _error(description: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorSerializer, description=description)


COMMON_ERRORS = {
    400: _error("Invalid input (`invalid`, or a rule's code)."),
    401: _error("No or a bad token."),
    403: _error("The caller's role may not do this."),
}


def _actor(request: Request) -> Actor:
    return Actor(user=request.user)


def _order(wo_id: str) -> ProductionOrder:
    return get_object_or_404(
        ProductionOrder.objects.select_related("item", "unit", "site"), number=wo_id
    )


def _answer(order, *, change_request=None, closing=False, status_code=200) -> Response:
    order = _order(order.number)  # fresh, with its related rows
    body = {"work_order": s.WorkOrderSerializer(order).data, "closing": closing}
    if change_request is not None:
        body["change_request"] = s.ChangeRequestSerializer(change_request).data
    return Response(body, status=status_code)


class WorkOrderListView(APIView):
    permission_classes = [HasPerms]
    required_perms = {"POST": [ORDER_ADD]}

    @extend_schema(
        operation_id="work_order_create",
        request=s.WorkOrderCreateSerializer,
        responses={
            201: OpenApiResponse(s.WorkOrderAnswerSerializer, description="Created."),
            200: OpenApiResponse(
                s.WorkOrderAnswerSerializer,
                description="The wo_id exists and is Created: updated (idempotent).",
            ),
            **COMMON_ERRORS,
            409: _error(
                "The wo_id exists and is no longer Created (`wo_exists`, status); with "
                "`release`, a release refused (`release_refused`)."
            ),
            422: _error("Part, BOM or routing missing (`master_data_missing`, named)."),
        },
    )
    def post(self, request: Request) -> Response:
        """Create a work order (ERP release); an existing wo_id is updated while Created."""
        data = s.WorkOrderCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        order, created = work_orders.work_order_create(
            data=work_orders.WorkOrderInput(
                wo_id=v["wo_id"],
                part_number=v["part_number"],
                revision=v["revision"],
                qty_target=v["qty_target"],
                scheduled_start=v.get("scheduled_start"),
                priority=v["priority"],
                site_code=v.get("site", ""),
                release=v["release"],
            ),
            actor=_actor(request),
        )
        return _answer(order, status_code=201 if created else 200)


class WorkOrderDetailView(APIView):
    permission_classes = [HasPerms]
    required_perms = {"GET": [ORDER_VIEW], "PATCH": [ORDER_CHANGE]}

    @extend_schema(
        operation_id="work_order_read",
        responses={
            200: s.WorkOrderSerializer,
            401: COMMON_ERRORS[401],
            403: COMMON_ERRORS[403],
            404: _error("No such wo_id."),
        },
    )
    def get(self, request: Request, wo_id: str) -> Response:
        """Status and quantities: target, good, scrap, in progress."""
        return Response(s.WorkOrderSerializer(_order(wo_id)).data)

    @extend_schema(
        operation_id="work_order_change",
        request=s.WorkOrderChangeSerializer,
        responses={
            200: OpenApiResponse(s.WorkOrderAnswerSerializer, description="Applied."),
            202: OpenApiResponse(
                s.WorkOrderAnswerSerializer,
                description="The order runs on the floor: a change request for the "
                "supervisor, applied when approved.",
            ),
            **COMMON_ERRORS,
            404: _error("No such wo_id."),
            409: _error("Below what is produced (`qty_below_produced`), or order frozen."),
        },
    )
    def patch(self, request: Request, wo_id: str) -> Response:
        """Change quantity, date or priority."""
        data = s.WorkOrderChangeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        changes = {k: v for k, v in data.validated_data.items() if k != "transaction_uuid"}
        order, change_request = work_orders.work_order_change(
            order=_order(wo_id), changes=changes, actor=_actor(request)
        )
        if change_request is not None:
            return _answer(order, change_request=change_request, status_code=202)
        return _answer(order)


class WorkOrderCloseView(APIView):
    permission_classes = [HasPerms]
    required_perms = {"POST": [ORDER_CHANGE]}

    @extend_schema(
        operation_id="work_order_close",
        request=s.WorkOrderCloseSerializer,
        responses={
            200: OpenApiResponse(s.WorkOrderAnswerSerializer, description="Closed or canceled."),
            202: OpenApiResponse(
                s.WorkOrderAnswerSerializer,
                description="Force close: the units in progress finish first (closing).",
            ),
            **COMMON_ERRORS,
            404: _error("No such wo_id."),
            409: _error("Already finished, or work in progress for a short close."),
        },
    )
    def post(self, request: Request, wo_id: str) -> Response:
        """Short close, cancel or force close; reserved material goes back to stock."""
        data = s.WorkOrderCloseSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        order, waiting = work_orders.work_order_close(
            order=_order(wo_id), mode=data.validated_data["mode"], actor=_actor(request)
        )
        return _answer(order, closing=waiting, status_code=202 if waiting else 200)


class WorkOrderReleaseView(APIView):
    permission_classes = [HasPerms]
    required_perms = {"POST": [ORDER_CHANGE]}

    @extend_schema(
        operation_id="work_order_release",
        request=s.WorkOrderReleaseSerializer,
        responses={
            200: OpenApiResponse(
                s.WorkOrderAnswerSerializer,
                description="Released: materials reserved, jobs created from the routing.",
            ),
            **COMMON_ERRORS,
            404: _error("No such wo_id."),
            409: _error(
                "The release is refused (`release_refused`, with `status` and `reasons`): "
                "not Created, or a guard of the release."
            ),
            422: _error("BOM or routing missing or not approved (`master_data_missing`, named)."),
        },
    )
    def post(self, request: Request, wo_id: str) -> Response:
        """Release a Created work order, as the planner's Release does."""
        s.WorkOrderReleaseSerializer(data=request.data).is_valid(raise_exception=True)
        order = work_orders.work_order_release(order=_order(wo_id), actor=_actor(request))
        return _answer(order)


class WorkOrderAsBuiltView(APIView):
    permission_classes = [HasPerms]
    required_perms = {"GET": [ORDER_VIEW]}

    @extend_schema(operation_id="work_order_as_built", responses={200: dict, 404: _error("")})
    def get(self, request: Request, wo_id: str) -> Response:
        """The as-built record (the genealogy message links here): lots produced, the
        component lots the order consumed (`components`, from the ledger), and per finished
        lot the component lots and quantities that went into it (`genealogy`)."""
        order = _order(wo_id)
        record = order_as_built(order_ref=order.number)
        return Response(
            {
                "wo_id": order.number,
                "part_number": order.item.part_number,
                "status": order.status,
                "as_built": {
                    **_plain(record),
                    "genealogy": _plain(order_genealogy(order=order)),
                },
            }
        )


def _plain(value):
    """A selector's dataclasses as JSON (decimals as strings)."""
    if is_dataclass(value):
        return _plain(asdict(value))
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal):
        return show(value)
    return value


UPSERT_RESPONSES = {
    200: OpenApiResponse(s.UpsertAnswerSerializer, description="Updated."),
    201: OpenApiResponse(s.UpsertAnswerSerializer, description="Created."),
    **COMMON_ERRORS,
    409: _error("A change the record's use forbids (e.g. `unit_locked`)."),
    422: _error("Something it refers to is unknown (`master_data_missing`, named)."),
}


def _upserted(part_number: str, revision: str, created: bool) -> Response:
    return Response(
        {"part_number": part_number, "revision": revision, "created": created},
        status=201 if created else 200,
    )


class PartView(APIView):
    permission_classes = [HasPerms]
    required_perms = {"PUT": ["inventory.add_item", "inventory.change_item"]}

    @extend_schema(operation_id="part_upsert", request=s.PartSerializer, responses=UPSERT_RESPONSES)
    def put(self, request: Request, part_number: str) -> Response:
        """Create or update a part (item)."""
        identifier_check(part_number, field="part_number")
        data = s.PartSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = {k: val for k, val in data.validated_data.items() if k != "transaction_uuid"}
        item, created = master_data.part_upsert(
            data=master_data.PartInput(part_number=part_number, **v)
        )
        return _upserted(item.part_number, item.revision, created)


class BomView(APIView):
    permission_classes = [HasPerms]
    required_perms = {"PUT": ["orders.add_bom", "orders.change_bom"]}

    @extend_schema(operation_id="bom_upsert", request=s.BomSerializer, responses=UPSERT_RESPONSES)
    def put(self, request: Request, part_number: str, revision: str) -> Response:
        """Create or replace a BOM revision with exactly these lines."""
        identifier_check(part_number, field="part_number")
        identifier_check(revision, field="revision")
        data = s.BomSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        bom, created = master_data.bom_upsert(
            part_number=part_number,
            revision=revision,
            lines=v["lines"],
            approved=v["approved"],
            description=v.get("description", ""),
        )
        return _upserted(part_number, bom.revision, created)


class RoutingView(APIView):
    permission_classes = [HasPerms]
    required_perms = {"PUT": ["orders.add_route", "orders.change_route"]}

    @extend_schema(
        operation_id="routing_upsert", request=s.RoutingSerializer, responses=UPSERT_RESPONSES
    )
    def put(self, request: Request, part_number: str, revision: str) -> Response:
        """Create or replace a routing revision with exactly these operations."""
        identifier_check(part_number, field="part_number")
        identifier_check(revision, field="revision")
        data = s.RoutingSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        route, created = master_data.routing_upsert(
            part_number=part_number,
            revision=revision,
            operations=v["operations"],
            approved=v["approved"],
            name=v.get("name", ""),
        )
        return _upserted(part_number, route.revision, created)
