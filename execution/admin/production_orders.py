"""The production order admin as execution extends it: a release short of material happens
only once confirmed.

The shortages are execution's read (execution.selectors.shortages), which
orders may not import, so execution registers its subclass of the orders admin in place of
it. Single release (the change page): short of material, the order is not released and the
shortages are shown, with a "Release with shortages" button that confirms. Bulk release:
"Release selected orders" releases the orders with no shortage and names the others (left
Created); "Release selected orders, shortages confirmed" releases them all. The release
service is the same either way: shortages are reserved anyway, as on the planner page.
"""

from django.contrib import admin, messages
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse

from orders.admin import ProductionOrderAdmin
from orders.choices import Transition
from orders.models import ProductionOrder

from ..selectors.shortages import release_shortages_to_confirm
from ..services import order_lifecycle
from ..services.order_changes import order_change, order_material_add, order_material_remove


def _shortages_text(shortages) -> str:
    return "; ".join(str(shortage) for shortage in shortages)


class ReleaseConfirmingOrderAdmin(ProductionOrderAdmin):
    # Changes go through execution's use case: a released order's reservations and job
    # plans follow its quantity and material lines.
    change_order = staticmethod(order_change)
    add_material = staticmethod(order_material_add)
    remove_material = staticmethod(order_material_remove)
    transition = staticmethod(order_lifecycle.order_transition)
    allowed_transitions = staticmethod(order_lifecycle.allowed_transitions)
    actions = [
        "release_selected",
        "release_selected_with_shortages",
        "cancel_selected",
        "close_selected",
    ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        order = self.get_object(request, object_id)
        if order is not None:
            extra_context["release_shortages"] = release_shortages_to_confirm(order=order)
        return super().change_view(request, object_id, form_url, extra_context)

    def transition_view(self, request, object_id, transition):
        order = get_object_or_404(ProductionOrder, pk=object_id)
        unconfirmed_release = (
            transition == Transition.RELEASE
            and request.method == "POST"
            and self.has_change_permission(request, order)
            and not request.POST.get("confirm_shortages")
        )
        if unconfirmed_release:
            shortages = release_shortages_to_confirm(order=order)
            if shortages:
                self.message_user(
                    request,
                    f"Order {order.number} not released: short of {_shortages_text(shortages)}. "
                    "Release with shortages to confirm.",
                    messages.WARNING,
                )
                return redirect(reverse("admin:orders_productionorder_change", args=[order.pk]))
        return super().transition_view(request, object_id, transition)

    @admin.action(
        description="Release selected orders (not those short of material)",
        permissions=["change"],
    )
    def release_selected(self, request, queryset):
        ready, short = [], []
        for order in queryset.select_related("item", "site"):
            shortages = release_shortages_to_confirm(order=order)
            if shortages:
                short.append(f"{order.number}: {_shortages_text(shortages)}")
            else:
                ready.append(order.pk)
        if ready:
            self._bulk_transition(request, queryset.filter(pk__in=ready), Transition.RELEASE)
        if short:
            self.message_user(
                request,
                f'Not released, short of material (release them with "Release selected '
                f'orders, shortages confirmed"): {" · ".join(short)}.',
                messages.WARNING,
            )

    @admin.action(
        description="Release selected orders, shortages confirmed", permissions=["change"]
    )
    def release_selected_with_shortages(self, request, queryset):
        self._bulk_transition(request, queryset, Transition.RELEASE)


admin.site.unregister(ProductionOrder)
admin.site.register(ProductionOrder, ReleaseConfirmingOrderAdmin)
