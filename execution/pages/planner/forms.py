"""Forms of the planner pages (the list's filters are filters.OrderListFilter): shape only.
The rules are the services' (orders.services); a refusal they raise is put back on the form
by `add_service_error`."""

from django import forms
from django.core.exceptions import ValidationError

from inventory.fields import show
from inventory.models import Item, Site, UnitOfMeasure
from mesproject.errors import ApplicationError
from orders import services as order_services
from orders.choices import OrderStatus
from orders.models import ProductionOrder

DATETIME_INPUT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
# Refusals whose fields name no form field, and the field they are about.
CODE_FIELDS = {"qty_below_produced": "quantity", "quantity_not_positive": "quantity"}


class OrderForm(forms.Form):
    """Create or edit a production order. On edit, the number never changes and the fields the
    services only allow on a Created order are disabled once it left Created."""

    number = forms.CharField(label="Order number", max_length=64)
    item = forms.ModelChoiceField(
        label="Item",
        queryset=Item.objects.filter(is_active=True).select_related("unit").order_by("part_number"),
    )
    revision = forms.CharField(
        label="Revision", max_length=16, required=False, help_text="Empty: the item's revision."
    )
    quantity = forms.DecimalField(label="Quantity", max_digits=20, decimal_places=6)
    unit = forms.ModelChoiceField(
        label="Unit",
        queryset=UnitOfMeasure.objects.order_by("code"),
        required=False,
        empty_label="The item's unit",
    )
    site = forms.ModelChoiceField(label="Site", queryset=Site.objects.order_by("code"))
    scheduled_start = forms.DateTimeField(
        label="Scheduled start", required=False, widget=DATETIME_INPUT
    )
    priority = forms.IntegerField(
        label="Priority", min_value=1, max_value=9, initial=5, help_text="1 is the most urgent."
    )
    over_delivery_tolerance_pct = forms.DecimalField(
        label="Over-delivery tolerance (%)",
        max_digits=7,
        decimal_places=4,
        min_value=0,
        initial=0,
    )
    restricted = forms.BooleanField(
        label="Restricted (no materials may be assigned or removed)", required=False
    )

    def __init__(self, *args, order: ProductionOrder | None = None, **kwargs):
        self.order = order
        if order is not None:
            kwargs.setdefault(
                "initial",
                {
                    "number": order.number,
                    "item": order.item,
                    "revision": order.revision,
                    "quantity": show(order.quantity),
                    "unit": order.unit,
                    "site": order.site,
                    "scheduled_start": order.scheduled_start,
                    "priority": order.priority,
                    "over_delivery_tolerance_pct": show(order.over_delivery_tolerance_pct),
                    "restricted": order.restricted,
                },
            )
        super().__init__(*args, **kwargs)
        if order is not None:
            self.fields["number"].disabled = True
            self.fields["unit"].required = True
            if order.status != OrderStatus.CREATED:
                for name in order_services.CREATED_ONLY_FIELDS:
                    self.fields[name].disabled = True
                    self.fields[name].help_text = "Only while the order is Created."

    def changes(self) -> dict:
        """What the planner changed, as production_order_update keyword arguments."""
        changes = {}
        for name in self.changed_data:
            if self.fields[name].disabled or name == "number":
                continue
            value = self.cleaned_data[name]
            if name == "revision":
                value = value.strip() or self.cleaned_data["item"].revision
            changes[name] = value
        return changes

    def add_service_error(self, error: ApplicationError | ValidationError) -> None:
        add_service_error(self, error)


def add_service_error(form: forms.Form, error: ApplicationError | ValidationError) -> None:
    """A service's refusal, on the field it names when the form has one, else on the form.

    Services refuse with ApplicationError (fields: what it concerns) or, for a quantity the
    unit cannot hold, Django's ValidationError keyed by field.
    """
    if isinstance(error, ValidationError):
        if hasattr(error, "error_dict"):
            for name, messages in error.message_dict.items():
                for message in messages:
                    form.add_error(name if name in form.fields else None, message)
        else:
            for message in error.messages:
                form.add_error(None, message)
        return
    named = [name for name in error.fields if name in form.fields]
    name = CODE_FIELDS.get(error.code) or (named[0] if named else None)
    form.add_error(name if name in form.fields else None, error.message)


class SplitForm(forms.Form):
    step_size = forms.DecimalField(
        label="Step size",
        max_digits=20,
        decimal_places=6,
        help_text="The last step takes the rest.",
    )


class CancelForm(forms.Form):
    reason = forms.CharField(label="Reason for canceling", max_length=500)
