"""The ERP contract's JSON shapes (snake_case, quantities as decimal strings)."""

from rest_framework import serializers

from integration.choices import ChangeRequestStatus, CloseMode
from inventory.choices import FlushingPrinciple, ItemType, Tracking
from inventory.fields import QUANTITY_DIGITS, QUANTITY_PLACES
from inventory.identifiers import IdentifierField
from mesproject.serializer_fields import TextField
from orders.choices import BomLinePrinciple, OrderStatus
from orders.models import ProductionOrder


def quantity(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=QUANTITY_DIGITS, decimal_places=QUANTITY_PLACES, **kwargs
    )


class WorkOrderCreateSerializer(serializers.Serializer):
    wo_id = IdentifierField(identifier="wo_id", help_text="Globally unique (the ERP's id).")
    part_number = IdentifierField(identifier="part_number")
    revision = IdentifierField(identifier="revision")
    qty_target = quantity(min_value=0, help_text="Quantity to build, in the part's unit.")
    scheduled_start = serializers.DateTimeField(required=False, allow_null=True)
    priority = serializers.IntegerField(min_value=1, max_value=9, default=5)
    site = TextField(
        max_length=16,
        required=False,
        allow_blank=True,
        help_text="Site code; empty: the site of the routing's first operation.",
    )
    release = serializers.BooleanField(
        default=False,
        help_text="Release the order at once (as POST .../release/ does); a refused release "
        "creates nothing.",
    )
    transaction_uuid = serializers.UUIDField(
        required=False, help_text="Accepted as the Idempotency-Key when the header is absent."
    )


class WorkOrderChangeSerializer(serializers.Serializer):
    qty_target = quantity(required=False, min_value=0)
    scheduled_start = serializers.DateTimeField(required=False, allow_null=True)
    priority = serializers.IntegerField(required=False, min_value=1, max_value=9)
    transaction_uuid = serializers.UUIDField(required=False)


class WorkOrderCloseSerializer(serializers.Serializer):
    mode = serializers.ChoiceField(
        choices=CloseMode.choices,
        help_text="short_close: close with what was produced (nothing produced: cancel); "
        "cancel; force: the units in progress finish their operation first.",
    )
    transaction_uuid = serializers.UUIDField(required=False)


class WorkOrderReleaseSerializer(serializers.Serializer):
    transaction_uuid = serializers.UUIDField(required=False)


class ChangeRequestSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=ChangeRequestStatus.choices)
    changes = serializers.DictField()
    requested_at = serializers.DateTimeField()


class WorkOrderSerializer(serializers.ModelSerializer):
    wo_id = TextField(source="number")
    part_number = TextField(source="item.part_number")
    uom = TextField(source="unit.code")
    site = TextField(source="site.code")
    status = serializers.ChoiceField(choices=OrderStatus.choices)
    qty_target = quantity(source="quantity")
    qty_good = quantity(source="quantity_completed")
    qty_scrap = quantity(source="quantity_scrapped")
    qty_in_progress = quantity(source="quantity_in_progress")

    class Meta:
        model = ProductionOrder
        fields = [
            "wo_id",
            "part_number",
            "revision",
            "status",
            "qty_target",
            "qty_good",
            "qty_scrap",
            "qty_in_progress",
            "uom",
            "site",
            "scheduled_start",
            "priority",
            "created_at",
            "updated_at",
        ]


class WorkOrderAnswerSerializer(serializers.Serializer):
    """A work order, and what is still waiting (a change request, a force close)."""

    work_order = WorkOrderSerializer()
    change_request = ChangeRequestSerializer(required=False, allow_null=True)
    closing = serializers.BooleanField(
        required=False, help_text="Force close waiting for the units in progress."
    )


class PartSerializer(serializers.Serializer):
    uom = TextField(max_length=16)
    revision = IdentifierField(identifier="revision", default="A")
    description = TextField(max_length=200, required=False, allow_blank=True)
    item_type = serializers.ChoiceField(choices=ItemType.choices, default=ItemType.RAW)
    tracking = serializers.ChoiceField(choices=Tracking.choices, default=Tracking.NONE)
    default_flushing_principle = serializers.ChoiceField(
        choices=FlushingPrinciple.choices, default=FlushingPrinciple.MANUAL
    )
    is_active = serializers.BooleanField(default=True)
    transaction_uuid = serializers.UUIDField(required=False)


class BomLineSerializer(serializers.Serializer):
    line_number = serializers.IntegerField(min_value=1)
    component_part = TextField(max_length=64)
    quantity_per = quantity(min_value=0)
    scrap_allowance_pct = serializers.DecimalField(
        max_digits=7, decimal_places=4, min_value=0, max_value=100, default=0
    )
    flushing_principle = serializers.ChoiceField(
        choices=BomLinePrinciple.choices, default=BomLinePrinciple.NONE
    )
    operation_number = serializers.IntegerField(min_value=1, required=False, allow_null=True)


class BomSerializer(serializers.Serializer):
    description = TextField(max_length=200, required=False, allow_blank=True)
    approved = serializers.BooleanField(default=True)
    lines = BomLineSerializer(many=True, allow_empty=False, max_length=2000)
    transaction_uuid = serializers.UUIDField(required=False)


class RouteOperationSerializer(serializers.Serializer):
    operation_number = serializers.IntegerField(min_value=1)
    name = TextField(max_length=100)
    resource_code = TextField(max_length=32)
    setup_time_minutes = serializers.DecimalField(
        max_digits=10, decimal_places=2, min_value=0, default=0
    )
    run_time_minutes_per_unit = serializers.DecimalField(
        max_digits=10, decimal_places=4, min_value=0, default=0
    )


class RoutingSerializer(serializers.Serializer):
    name = TextField(max_length=100, required=False, allow_blank=True)
    approved = serializers.BooleanField(default=True)
    operations = RouteOperationSerializer(many=True, allow_empty=False, max_length=500)
    transaction_uuid = serializers.UUIDField(required=False)


class UpsertAnswerSerializer(serializers.Serializer):
    part_number = TextField()
    revision = TextField()
    created = serializers.BooleanField()
