"""The order list's filters and sort, read from the query string (the list and its CSV
export share them); an invalid filter is shown on the form, not applied."""

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, Q

from inventory.models import Site
from orders.choices import OrderStatus
from orders.models import ProductionOrder, Resource, RouteOperation

from ...models import Job
from .selectors import ORDER_SORTS, production_order_list

DATE_INPUT = forms.DateInput(attrs={"type": "date"})


def order_sort(value: str) -> str:
    """The sort asked for, when it is one of the list's (else the default order)."""
    return value if value.lstrip("-") in ORDER_SORTS else ""


class OrderListFilter(django_filters.FilterSet):
    """Orders by state, site, item, resource, scheduled dates and a search; sorted by the
    `sort` parameter (a column heading's link, kept outside the form)."""

    q = django_filters.CharFilter(label="Search", max_length=100, method="filter_search")
    status = django_filters.ChoiceFilter(
        label="Status", choices=OrderStatus.choices, empty_label="Any status"
    )
    site = django_filters.ModelChoiceFilter(
        label="Site", queryset=Site.objects.order_by("code"), empty_label="Any site"
    )
    item = django_filters.CharFilter(
        label="Item part number",
        max_length=64,
        field_name="item__part_number",
        lookup_expr="iexact",
    )
    resource = django_filters.ModelChoiceFilter(
        label="Resource",
        queryset=Resource.objects.filter(is_active=True).order_by("code"),
        empty_label="Any resource",
        method="filter_resource",
    )
    scheduled_from = django_filters.DateFilter(
        label="Scheduled from",
        field_name="scheduled_start",
        lookup_expr="date__gte",
        widget=DATE_INPUT,
    )
    scheduled_to = django_filters.DateFilter(
        label="Scheduled to",
        field_name="scheduled_start",
        lookup_expr="date__lte",
        widget=DATE_INPUT,
    )

    class Meta:
        model = ProductionOrder
        fields: list[str] = []

    def __init__(self, data=None, **kwargs):
        self.sort = order_sort((data or {}).get("sort", ""))
        kwargs.setdefault("queryset", production_order_list(sort=self.sort))
        super().__init__(data, **kwargs)
        self.form.fields["q"].widget.attrs["placeholder"] = "Order, part number or name"

    def filter_search(self, queryset, name, value):
        return queryset.filter(
            Q(number__icontains=value)
            | Q(item__part_number__icontains=value)
            | Q(item__description__icontains=value)
        )

    def filter_resource(self, queryset, name, value):
        """Orders with a job on the resource, or whose route (the released one, else the
        item revision's) has an operation on it."""
        has_job = Exists(Job.objects.filter(order=OuterRef("pk"), resource=value))
        on_route = Exists(
            RouteOperation.objects.filter(
                route__item=OuterRef("item"),
                route__revision=OuterRef("revision"),
                resource=value,
            )
        )
        return queryset.filter(has_job | on_route)
