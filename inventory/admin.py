"""Master data, and the ledger and its balances read-only; journals posted via services."""

from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from mesproject.actors import Actor
from mesproject.admin import ReadOnlyAdmin

from . import services
from .choices import JournalStatus
from .exceptions import ApplicationError
from .models import (
    AdjustmentJournal,
    AdjustmentJournalLine,
    InventoryTransaction,
    Item,
    Location,
    Lot,
    OnHand,
    Reservation,
    Site,
    UnitConversion,
    UnitOfMeasure,
    Warehouse,
)


@admin.register(UnitOfMeasure)
class UnitOfMeasureAdmin(SimpleHistoryAdmin):
    list_display = ("code", "name", "decimal_places")
    search_fields = ("code", "name")


@admin.register(UnitConversion)
class UnitConversionAdmin(SimpleHistoryAdmin):
    list_display = ("__str__", "from_unit", "to_unit", "factor", "item")
    list_select_related = ("from_unit", "to_unit", "item")
    list_filter = ("from_unit", "to_unit")
    autocomplete_fields = ("item",)


@admin.register(Item)
class ItemAdmin(SimpleHistoryAdmin):
    list_display = (
        "part_number",
        "revision",
        "description",
        "item_type",
        "unit",
        "default_flushing_principle",
        "tracking",
        "is_active",
        "stock_links",
    )
    list_select_related = ("unit",)
    list_filter = ("item_type", "default_flushing_principle", "tracking", "is_active")
    search_fields = ("part_number", "description")

    @admin.display(description="Stock")
    def stock_links(self, obj):
        on_hand = reverse("admin:inventory_onhand_changelist")
        return format_html(
            '<a href="{}?item={}">on-hand</a> · <a href="{}">ledger</a>',
            on_hand,
            obj.pk,
            _ledger_url(item=obj.pk),
        )


class WarehouseInline(admin.TabularInline):
    model = Warehouse
    extra = 0
    show_change_link = True


@admin.register(Site)
class SiteAdmin(SimpleHistoryAdmin):
    list_display = ("code", "name")
    search_fields = ("code", "name")
    inlines = [WarehouseInline]


class LocationInline(admin.TabularInline):
    model = Location
    extra = 0


@admin.register(Warehouse)
class WarehouseAdmin(SimpleHistoryAdmin):
    list_display = ("code", "name", "site")
    list_select_related = ("site",)
    list_filter = ("site",)
    search_fields = ("code", "name")
    inlines = [LocationInline]


@admin.register(Location)
class LocationAdmin(SimpleHistoryAdmin):
    list_display = ("__str__", "name", "kind", "allow_negative_stock")
    list_select_related = ("warehouse__site",)
    list_filter = ("kind", "warehouse__site", "warehouse")
    search_fields = ("code", "name", "warehouse__code")


# --- Stock: the ledger and its balances (read-only; they change only through services) ----


def _ledger_url(**params) -> str:
    return f"{reverse('admin:inventory_inventorytransaction_changelist')}?{urlencode(params)}"


@admin.register(Lot)
class LotAdmin(SimpleHistoryAdmin):
    list_display = ("number", "item", "expiry_date", "created_at", "ledger_link")
    list_select_related = ("item",)
    list_filter = ("item__tracking", "expiry_date")
    search_fields = ("number", "item__part_number")
    autocomplete_fields = ("item",)
    date_hierarchy = "created_at"

    def get_readonly_fields(self, request, obj=None):
        # A lot's identity never changes once stock moved under it; its expiry may.
        return ("item", "number", "created_at") if obj else ("created_at",)

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Ledger")
    def ledger_link(self, obj):
        return format_html('<a href="{}">ledger</a>', _ledger_url(lot=obj.pk))


@admin.register(InventoryTransaction)
class InventoryTransactionAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "recorded_at",
        "kind",
        "item",
        "lot",
        "location",
        "quantity",
        "unit",
        "order_ref",
        "source_type",
        "source_id",
        "actor",
    )
    list_select_related = ("item", "lot", "location__warehouse__site", "unit")
    list_filter = ("kind", "source_type", "location__warehouse__site", "location__kind")
    search_fields = ("item__part_number", "lot__number", "order_ref", "source_id", "actor")
    date_hierarchy = "recorded_at"
    show_full_result_count = False
    fields = (
        "kind",
        "item",
        "lot",
        "location",
        "reservation",
        "quantity",
        "unit",
        "order_ref",
        "parent_lot",
        "source_type",
        "source_id",
        "posting_id",
        "reason",
        "user",
        "actor",
        "occurred_at",
        "recorded_at",
    )
    readonly_fields = fields

    def get_actions(self, request):
        return {}


class NonZeroFilter(admin.SimpleListFilter):
    title = "quantity"
    parameter_name = "quantity"

    def lookups(self, request, model_admin):
        return [("nonzero", "Not zero"), ("negative", "Negative"), ("zero", "Zero")]

    def queryset(self, request, queryset):
        if self.value() == "nonzero":
            return queryset.exclude(quantity=0)
        if self.value() == "negative":
            return queryset.filter(quantity__lt=0)
        if self.value() == "zero":
            return queryset.filter(quantity=0)
        return queryset


@admin.register(OnHand)
class OnHandAdmin(ReadOnlyAdmin):
    list_display = (
        "item",
        "lot",
        "location",
        "location_kind",
        "quantity",
        "unit",
        "allow_negative",
        "updated_at",
        "ledger_link",
    )
    list_select_related = ("item__unit", "lot", "location__warehouse__site")
    list_filter = (
        NonZeroFilter,
        "location__warehouse__site",
        "location__kind",
        "location",
        "item__item_type",
        "item__tracking",
    )
    search_fields = ("item__part_number", "item__description", "lot__number", "location__code")
    show_full_result_count = False

    def get_actions(self, request):
        return {}

    @admin.display(description="Kind", ordering="location__kind")
    def location_kind(self, obj):
        return obj.location.get_kind_display()

    @admin.display(description="Unit")
    def unit(self, obj):
        return obj.item.unit

    @admin.display(description="Ledger")
    def ledger_link(self, obj):
        params = {"item": obj.item_id, "location": obj.location_id}
        if obj.lot_id:
            params["lot"] = obj.lot_id
        return format_html('<a href="{}">ledger</a>', _ledger_url(**params))


class OpenFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("open", "Open"), ("short", "Short when reserved"), ("done", "Nothing open")]

    def queryset(self, request, queryset):
        if self.value() == "open":
            return queryset.filter(quantity_open__gt=0)
        if self.value() == "short":
            return queryset.filter(quantity_short__gt=0)
        if self.value() == "done":
            return queryset.filter(quantity_open=0)
        return queryset


@admin.register(Reservation)
class ReservationAdmin(ReadOnlyAdmin):
    list_display = (
        "order_ref",
        "item",
        "site",
        "quantity_reserved",
        "quantity_consumed",
        "quantity_freed",
        "quantity_open",
        "quantity_short",
        "updated_at",
        "ledger_link",
    )
    list_select_related = ("item", "site")
    list_filter = (OpenFilter, "site")
    search_fields = ("order_ref", "item__part_number")

    def get_actions(self, request):
        return {}

    @admin.display(description="Order ledger")
    def ledger_link(self, obj):
        return format_html('<a href="{}">ledger</a>', _ledger_url(order_ref=obj.order_ref))


# --- Adjustment journals: drafts edited and posted through services -----------------------


class AdjustmentJournalLineForm(forms.ModelForm):
    """Shape here; whether the line could be posted is asked of the service."""

    class Meta:
        model = AdjustmentJournalLine
        fields = ("item", "lot", "location", "quantity", "order_ref", "note")

    def clean(self):
        data = super().clean()
        if self.errors or not data.get("item") or data.get("DELETE"):
            return data
        try:
            services.adjustment_journal_line_check(
                item=data["item"],
                location=data.get("location"),
                quantity=data.get("quantity"),
                lot=data.get("lot"),
                order_ref=data.get("order_ref", ""),
            )
        except ApplicationError as error:
            raise ValidationError(error.message) from error
        return data


class AdjustmentJournalLineInline(admin.TabularInline):
    model = AdjustmentJournalLine
    form = AdjustmentJournalLineForm
    extra = 1
    fields = ("line_number", "item", "lot", "location", "quantity", "order_ref", "note")
    readonly_fields = ("line_number",)
    autocomplete_fields = ("item", "lot", "location")

    def _posted(self, obj) -> bool:
        return obj is not None and obj.status == JournalStatus.POSTED

    def get_readonly_fields(self, request, obj=None):
        if self._posted(obj):
            return (*self.fields, "ledger_entry")
        return self.readonly_fields

    def get_fields(self, request, obj=None):
        return (*self.fields, "ledger_entry") if self._posted(obj) else self.fields

    def has_add_permission(self, request, obj=None):
        return not self._posted(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return not self._posted(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not self._posted(obj) and super().has_delete_permission(request, obj)

    def get_extra(self, request, obj=None, **kwargs):
        return 0 if self._posted(obj) else self.extra


@admin.register(AdjustmentJournal)
class AdjustmentJournalAdmin(SimpleHistoryAdmin):
    list_display = (
        "__str__",
        "description",
        "reason_code",
        "reason",
        "audit_flag",
        "status",
        "created_at",
        "created_by_actor",
        "posted_at",
        "posted_by_actor",
    )
    list_filter = ("status", "audit_flag", "source_type")
    search_fields = ("description", "reason", "reason_code", "source_id")
    date_hierarchy = "created_at"
    inlines = [AdjustmentJournalLineInline]
    actions = ["post_selected"]
    fields = ("description", "reason_code", "reason", "audit_flag")
    posted_fields = (
        "status",
        "source_type",
        "source_id",
        "created_at",
        "created_by_actor",
        "posted_at",
        "posted_by_actor",
        "posting_id",
    )

    def get_fields(self, request, obj=None):
        return (*self.fields, *self.posted_fields) if obj else self.fields

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.status == JournalStatus.POSTED:
            return (*self.fields, *self.posted_fields)
        return self.posted_fields if obj else ()

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.status == JournalStatus.POSTED:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.status == JournalStatus.POSTED:
            return False
        return super().has_delete_permission(request, obj)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def save_model(self, request, obj, form, change):
        services.adjustment_journal_save(journal=obj, actor=Actor(user=request.user))

    def save_formset(self, request, form, formset, change):
        formset.save(commit=False)
        for line in formset.deleted_objects:
            services.adjustment_journal_line_delete(line=line)
        for line in [*formset.new_objects, *(o for o, _ in formset.changed_objects)]:
            line.journal = form.instance
            services.adjustment_journal_line_save(line=line)

    def delete_model(self, request, obj):
        services.adjustment_journal_delete(journal=obj)

    @admin.action(description="Post selected journals", permissions=["change"])
    def post_selected(self, request, queryset):
        actor = Actor(user=request.user)
        for journal in queryset.order_by("pk"):
            try:
                services.adjustment_journal_post(journal=journal, actor=actor)
            except ApplicationError as error:
                self.message_user(request, f"{journal}: {error.message}", messages.ERROR)
            else:
                self.message_user(request, f"{journal} posted.", messages.SUCCESS)
