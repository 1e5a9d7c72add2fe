"""Output shapes of the inventory API (read-only: movements are posted through services)."""

from rest_framework import serializers

from mesproject.serializer_fields import TextField

from ..models import (
    AdjustmentJournal,
    AdjustmentJournalLine,
    InventoryTransaction,
    OnHand,
    Reservation,
)


class InventoryTransactionSerializer(serializers.ModelSerializer):
    part_number = TextField(source="item.part_number", read_only=True)
    unit = TextField(source="unit.code", read_only=True)
    lot_number = TextField(source="lot.number", read_only=True, default=None, allow_null=True)
    location_code = TextField(source="location.code", read_only=True, default=None, allow_null=True)

    class Meta:
        model = InventoryTransaction
        fields = (
            "id",
            "kind",
            "item",
            "part_number",
            "lot",
            "lot_number",
            "location",
            "location_code",
            "reservation",
            "quantity",
            "unit",
            "order_ref",
            "parent_lot",
            "source_type",
            "source_id",
            "posting_id",
            "reason",
            "actor",
            "occurred_at",
            "recorded_at",
        )
        read_only_fields = fields


class OnHandSerializer(serializers.ModelSerializer):
    part_number = TextField(source="item.part_number", read_only=True)
    unit = TextField(source="item.unit.code", read_only=True)
    lot_number = TextField(source="lot.number", read_only=True, default=None, allow_null=True)
    location_code = TextField(source="location.code", read_only=True)
    site = TextField(source="location.warehouse.site.code", read_only=True)

    class Meta:
        model = OnHand
        fields = (
            "id",
            "item",
            "part_number",
            "lot",
            "lot_number",
            "location",
            "location_code",
            "site",
            "quantity",
            "unit",
            "updated_at",
        )
        read_only_fields = fields


class ReservationSerializer(serializers.ModelSerializer):
    part_number = TextField(source="item.part_number", read_only=True)
    site_code = TextField(source="site.code", read_only=True)

    class Meta:
        model = Reservation
        fields = (
            "id",
            "order_ref",
            "item",
            "part_number",
            "site",
            "site_code",
            "source_type",
            "source_id",
            "quantity_reserved",
            "quantity_consumed",
            "quantity_freed",
            "quantity_open",
            "quantity_short",
            "updated_at",
        )
        read_only_fields = fields


class AdjustmentJournalLineSerializer(serializers.ModelSerializer):
    part_number = TextField(source="item.part_number", read_only=True)
    lot_number = TextField(source="lot.number", read_only=True, default=None, allow_null=True)

    class Meta:
        model = AdjustmentJournalLine
        fields = (
            "line_number",
            "item",
            "part_number",
            "lot",
            "lot_number",
            "location",
            "quantity",
            "order_ref",
            "note",
            "ledger_entry",
        )
        read_only_fields = fields


class AdjustmentJournalSerializer(serializers.ModelSerializer):
    lines = AdjustmentJournalLineSerializer(many=True, read_only=True)

    class Meta:
        model = AdjustmentJournal
        fields = (
            "id",
            "description",
            "reason_code",
            "reason",
            "audit_flag",
            "status",
            "source_type",
            "source_id",
            "created_at",
            "created_by_actor",
            "posted_at",
            "posted_by_actor",
            "lines",
        )
        read_only_fields = fields
