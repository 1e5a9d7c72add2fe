"""The processing log's filters, read from the query string; an invalid one is shown on the
form, not applied."""

import django_filters
from django import forms

from ...choices import RegistrationKind, RegistrationStatus
from ...models import RawRegistration


def _date_input():
    return forms.DateInput(attrs={"type": "date"})


class ProcessingLogFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        label="Status", choices=RegistrationStatus.choices, empty_label="Any status"
    )
    kind = django_filters.ChoiceFilter(
        label="Kind", choices=RegistrationKind.choices, empty_label="Any kind"
    )
    worker = django_filters.CharFilter(
        label="Worker badge", max_length=32, field_name="worker__badge_id", lookup_expr="iexact"
    )
    order = django_filters.CharFilter(
        label="Order number", max_length=64, field_name="order__number", lookup_expr="icontains"
    )
    date_from = django_filters.DateFilter(
        label="From", field_name="occurred_at", lookup_expr="date__gte", widget=_date_input()
    )
    date_to = django_filters.DateFilter(
        label="To", field_name="occurred_at", lookup_expr="date__lte", widget=_date_input()
    )

    class Meta:
        model = RawRegistration
        fields: list[str] = []
