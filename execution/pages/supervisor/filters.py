"""The attendance list's filters, read from the query string. An invalid one (a range that
ends before it starts, say) is shown on the form and no filter is applied."""

import django_filters
from django import forms
from django.db.models import Q

from inventory.models import Site

from ...choices import AttendanceStatus
from ...models import AttendanceDay


def _date_input():
    return forms.DateInput(attrs={"type": "date"})


class AttendanceFilterForm(forms.Form):
    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", "The end date is before the start date.")
        return data


class AttendanceFilter(django_filters.FilterSet):
    date_from = django_filters.DateFilter(
        label="From", field_name="date", lookup_expr="gte", widget=_date_input()
    )
    date_to = django_filters.DateFilter(
        label="To", field_name="date", lookup_expr="lte", widget=_date_input()
    )
    status = django_filters.ChoiceFilter(
        label="Status", choices=AttendanceStatus.choices, empty_label="Any status"
    )
    site = django_filters.ModelChoiceFilter(
        label="Site",
        field_name="worker__site",
        queryset=Site.objects.order_by("code"),
        empty_label="All sites",
    )
    worker = django_filters.CharFilter(
        label="Worker (badge or name)", max_length=100, method="filter_worker"
    )

    class Meta:
        model = AttendanceDay
        fields: list[str] = []
        form = AttendanceFilterForm

    def filter_queryset(self, queryset):
        if not self.form.is_valid():
            return queryset
        return super().filter_queryset(queryset)

    def filter_worker(self, queryset, name, value):
        return queryset.filter(Q(worker__badge_id__iexact=value) | Q(worker__name__icontains=value))
