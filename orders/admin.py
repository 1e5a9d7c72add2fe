"""Master data and production orders in the admin; every order change goes through services."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from simple_history.admin import SimpleHistoryAdmin

from mesproject.actors import Actor
from mesproject.admin import ReadOnlyAdmin
from mesproject.errors import ApplicationError

from . import services
from .choices import MANUAL_TRANSITIONS, OrderStatus, Transition
from .models import (
    Bom,
    BomLine,
    OrderTransitionLog,
    ProductionOrder,
    ProductionOrderMaterial,
    ProductionOrderStep,
    ReasonCode,
    Resource,
    Route,
    RouteOperation,
)


@admin.register(Resource)
class ResourceAdmin(SimpleHistoryAdmin):
    list_display = ("code", "name", "site", "kind", "consumption_setting", "is_active")
    list_select_related = ("site",)
    list_filter = ("site", "kind", "consumption_setting", "is_active")
    search_fields = ("code", "name")
    raw_id_fields = ("input_location", "output_location")


@admin.register(ReasonCode)
class ReasonCodeAdmin(SimpleHistoryAdmin):
    list_display = ("code", "description", "kind", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("code", "description")


class BomLineInline(admin.TabularInline):
    model = BomLine
    extra = 0
    autocomplete_fields = ("component",)


@admin.register(Bom)
class BomAdmin(SimpleHistoryAdmin):
    list_display = ("__str__", "item", "revision", "approved")
    list_select_related = ("item",)
    list_filter = ("approved",)
    search_fields = ("item__part_number", "description")
    autocomplete_fields = ("item",)
    inlines = [BomLineInline]


@admin.register(BomLine)
class BomLineAdmin(SimpleHistoryAdmin):
    list_display = (
        "bom",
        "line_number",
        "component",
        "quantity_per",
        "scrap_allowance_pct",
        "flushing_principle",
        "operation_number",
    )
    list_select_related = ("bom__item", "component")
    list_filter = ("flushing_principle",)
    search_fields = ("bom__item__part_number", "component__part_number")
    autocomplete_fields = ("component",)


class RouteOperationInline(admin.TabularInline):
    model = RouteOperation
    extra = 0


@admin.register(Route)
class RouteAdmin(SimpleHistoryAdmin):
    list_display = ("__str__", "item", "revision", "approved")
    list_select_related = ("item",)
    list_filter = ("approved",)
    search_fields = ("item__part_number", "name")
    autocomplete_fields = ("item",)
    inlines = [RouteOperationInline]


@admin.register(RouteOperation)
class RouteOperationAdmin(SimpleHistoryAdmin):
    list_display = ("route", "operation_number", "name", "resource", "setup_time_minutes")
    list_select_related = ("route__item", "resource")
    list_filter = ("resource",)


# --- Production orders ---------------------------------------------------------------------


class ProductionOrderForm(forms.ModelForm):
    """Shape only; the rules are asked of the services, so admin and API refuse alike."""

    class Meta:
        model = ProductionOrder
        fields = (
            "number",
            "item",
            "revision",
            "quantity",
            "unit",
            "site",
            "scheduled_start",
            "priority",
            "over_delivery_tolerance_pct",
            "restricted",
        )

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        try:
            if self.instance.pk is None:
                services.production_order_check_new(
                    number=data["number"],
                    item=data["item"],
                    quantity=data["quantity"],
                    unit=data.get("unit") or data["item"].unit,
                    priority=data["priority"],
                    over_delivery_tolerance_pct=data["over_delivery_tolerance_pct"],
                )
            else:
                current = ProductionOrder.objects.get(pk=self.instance.pk)
                changes = {f: data[f] for f in self.changed_data if f != "number"}
                services.production_order_check_changes(order=current, changes=changes)
        except ApplicationError as error:
            raise ValidationError(error.message, code=error.code) from error
        return data


class MaterialInline(admin.TabularInline):
    model = ProductionOrderMaterial
    extra = 0
    fields = (
        "line_number",
        "component",
        "quantity_per",
        "scrap_allowance_pct",
        "flushing_principle",
        "operation_number",
    )
    autocomplete_fields = ("component",)

    def _locked(self, obj) -> bool:
        return obj is None or obj.restricted or obj.status not in services.EDITABLE

    def get_readonly_fields(self, request, obj=None):
        # Existing lines never change in place: remove and add (both audited).
        return self.fields

    def has_add_permission(self, request, obj=None):
        return not self._locked(obj) and super().has_add_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not self._locked(obj) and super().has_delete_permission(request, obj)


class NewMaterialInline(MaterialInline):
    """The form row to add a component; saved through production_order_material_add."""

    verbose_name_plural = "Add materials"
    extra = 1

    def get_readonly_fields(self, request, obj=None):
        return ("line_number",)

    def get_queryset(self, request):
        return super().get_queryset(request).none()

    def has_delete_permission(self, request, obj=None):
        return False


class StepInline(admin.TabularInline):
    model = ProductionOrderStep
    extra = 0
    readonly_fields = ("sequence", "quantity")
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class TransitionLogInline(admin.TabularInline):
    model = OrderTransitionLog
    extra = 0
    fields = ("at", "transition", "from_status", "to_status", "actor", "reason")
    readonly_fields = fields
    can_delete = False
    verbose_name_plural = "Transition log"

    def has_add_permission(self, request, obj=None):
        return False


class SplitForm(forms.Form):
    step_size = forms.DecimalField(min_value=0, max_digits=20, decimal_places=6)


@admin.register(ProductionOrder)
class ProductionOrderAdmin(SimpleHistoryAdmin):
    form = ProductionOrderForm
    change_form_template = "admin/orders/productionorder/change_form.html"
    list_display = (
        "number",
        "item",
        "quantity",
        "quantity_completed",
        "quantity_scrapped",
        "status",
        "site",
        "scheduled_start",
        "priority",
    )
    list_select_related = ("item", "site")
    list_filter = ("status", "site", "scheduled_start", "item")
    search_fields = ("number", "item__part_number", "item__description")
    date_hierarchy = "scheduled_start"
    autocomplete_fields = ("item",)
    inlines = [MaterialInline, NewMaterialInline, StepInline, TransitionLogInline]
    actions = ["release_selected", "cancel_selected", "close_selected"]
    # The change services; execution's admin (admin_orders.py), registered in place of this
    # one, sets its own change use case, which also re-syncs reservations and jobs.
    change_order = staticmethod(services.production_order_update)
    add_material = staticmethod(services.production_order_material_add)
    remove_material = staticmethod(services.production_order_material_remove)
    # The status move alone; execution's admin puts its order lifecycle use case here.
    transition = staticmethod(services.production_order_transition)
    allowed_transitions = staticmethod(services.allowed_transitions)
    quantity_fields = (
        "status",
        "quantity_in_progress",
        "quantity_completed",
        "quantity_scrapped",
        "bom",
        "route",
        "created_at",
        "updated_at",
    )

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        if obj.status not in services.EDITABLE:
            return (*ProductionOrderForm.Meta.fields, *self.quantity_fields)
        if obj.status != OrderStatus.CREATED:
            return ("number", *services.CREATED_ONLY_FIELDS, *self.quantity_fields)
        return ("number", *self.quantity_fields)

    def has_delete_permission(self, request, obj=None):
        # Orders are canceled, never deleted, once they left Created.
        if obj is not None and (obj.status != OrderStatus.CREATED or obj.has_activity()):
            return False
        return super().has_delete_permission(request, obj)

    def get_inline_instances(self, request, obj=None):
        if obj is None:
            return []
        return super().get_inline_instances(request, obj)

    def save_model(self, request, obj, form, change):
        actor = Actor(user=request.user)
        if not change:
            data = form.cleaned_data
            saved = services.production_order_create(
                number=data["number"],
                item=data["item"],
                revision=data.get("revision") or None,
                quantity=data["quantity"],
                unit=data.get("unit"),
                site=data["site"],
                scheduled_start=data.get("scheduled_start"),
                priority=data["priority"],
                over_delivery_tolerance_pct=data["over_delivery_tolerance_pct"],
                restricted=data["restricted"],
                actor=actor,
            )
            obj.pk = saved.pk
            return
        changes = {f: form.cleaned_data[f] for f in form.changed_data if f != "number"}
        if changes:
            self.change_order(order=obj, actor=actor, **changes)

    def save_formset(self, request, form, formset, change):
        if formset.model is not ProductionOrderMaterial:
            return super().save_formset(request, form, formset, change)
        order = form.instance
        formset.save(commit=False)
        for material in formset.deleted_objects:
            self.remove_material(material=material)
        for material in formset.new_objects:
            self.add_material(
                order=order,
                component=material.component,
                quantity_per=material.quantity_per,
                scrap_allowance_pct=material.scrap_allowance_pct,
                flushing_principle=material.flushing_principle,
                operation_number=material.operation_number,
            )

    # Transitions: buttons on the change page and bulk actions, both through the services.

    def get_urls(self):
        return [
            path(
                "<int:object_id>/transition/<str:transition>/",
                self.admin_site.admin_view(self.transition_view),
                name="orders_productionorder_transition",
            ),
            path(
                "<int:object_id>/split/",
                self.admin_site.admin_view(self.split_view),
                name="orders_productionorder_split",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        order = self.get_object(request, object_id)
        if order is not None:
            extra_context["order_transitions"] = [
                {"name": name, "label": Transition(name).label, "blockers": blockers}
                for name, blockers in self.allowed_transitions(order=order)
            ]
            extra_context["can_transition"] = self.has_change_permission(request, order)
            extra_context["split_form"] = SplitForm()
        return super().change_view(request, object_id, form_url, extra_context)

    def transition_view(self, request, object_id, transition):
        order = get_object_or_404(ProductionOrder, pk=object_id)
        if request.method != "POST" or not self.has_change_permission(request, order):
            raise PermissionDenied
        if transition not in MANUAL_TRANSITIONS:
            raise PermissionDenied
        try:
            order = self.transition(
                order=order,
                transition=transition,
                actor=Actor(user=request.user),
                reason=request.POST.get("reason", "").strip(),
            )
        except ApplicationError as error:
            self.message_user(request, error.message, messages.ERROR)
        else:
            self.message_user(
                request,
                f"{Transition(transition).label}: order {order.number} is now "
                f"{order.get_status_display()}.",
                messages.SUCCESS,
            )
        return redirect(reverse("admin:orders_productionorder_change", args=[object_id]))

    def split_view(self, request, object_id):
        order = get_object_or_404(ProductionOrder, pk=object_id)
        if request.method != "POST" or not self.has_change_permission(request, order):
            raise PermissionDenied
        form = SplitForm(request.POST)
        if not form.is_valid():
            self.message_user(request, "Give a step size above zero.", messages.ERROR)
        else:
            try:
                steps = services.production_order_split_into_steps(
                    order=order, step_size=form.cleaned_data["step_size"]
                )
            except ApplicationError as error:
                self.message_user(request, error.message, messages.ERROR)
            else:
                self.message_user(
                    request,
                    f"Order {order.number} split into {len(steps)} steps.",
                    messages.SUCCESS,
                )
        return redirect(reverse("admin:orders_productionorder_change", args=[object_id]))

    def _bulk_transition(self, request, queryset, transition):
        done, refused = [], []
        for order in queryset:
            try:
                self.transition(order=order, transition=transition, actor=Actor(user=request.user))
                done.append(order.number)
            except ApplicationError as error:
                refused.append(error.message)
        if done:
            label = Transition(transition).label
            self.message_user(request, f"{label}: {', '.join(done)}.", messages.SUCCESS)
        for message in refused:
            self.message_user(request, message, messages.ERROR)

    @admin.action(description="Release selected orders", permissions=["change"])
    def release_selected(self, request, queryset):
        self._bulk_transition(request, queryset, Transition.RELEASE)

    @admin.action(description="Cancel selected orders", permissions=["change"])
    def cancel_selected(self, request, queryset):
        self._bulk_transition(request, queryset, Transition.CANCEL)

    @admin.action(description="Close selected orders", permissions=["change"])
    def close_selected(self, request, queryset):
        self._bulk_transition(request, queryset, Transition.CLOSE)


@admin.register(OrderTransitionLog)
class OrderTransitionLogAdmin(ReadOnlyAdmin):
    list_display = ("at", "order", "transition", "from_status", "to_status", "actor", "reason")
    list_select_related = ("order",)
    list_filter = ("transition", "to_status")
    search_fields = ("order__number", "actor", "reason")
    readonly_fields = list_display
