"""The IT pages' list filters, read from the query string; an invalid value is shown on the
form, not applied."""

import django_filters
from django import forms

from integration.choices import MessageKind, MessageStatus
from integration.models import IdempotencyKey, OutboxMessage

HELD = "held"
# The real statuses, plus "held" (integration.erp.selectors.held: pending, behind a dead letter).
STATUS_CHOICES = [
    (MessageStatus.DEAD_LETTER, MessageStatus.DEAD_LETTER.label),
    (HELD, "Held (behind a dead letter)"),
    (MessageStatus.PENDING, MessageStatus.PENDING.label),
    (MessageStatus.DELIVERED, MessageStatus.DELIVERED.label),
    (MessageStatus.CANCELED, MessageStatus.CANCELED.label),
]
DATE_INPUT = forms.DateInput(attrs={"type": "date"})


class OutboxFilter(django_filters.FilterSet):
    """The outbox by status (or held), kind, work order (stream) and creation date. The
    queryset must be annotated with `held` (integration.erp.selectors.with_held)."""

    status = django_filters.ChoiceFilter(
        label="Status", choices=STATUS_CHOICES, empty_label="Any status", method="filter_status"
    )
    kind = django_filters.ChoiceFilter(
        label="Kind", choices=MessageKind.choices, empty_label="Any kind"
    )
    stream = django_filters.CharFilter(
        label="Work order / stream", max_length=80, lookup_expr="iexact"
    )
    date_from = django_filters.DateFilter(
        label="Created from", field_name="created_at", lookup_expr="date__gte", widget=DATE_INPUT
    )
    date_to = django_filters.DateFilter(
        label="Created to", field_name="created_at", lookup_expr="date__lte", widget=DATE_INPUT
    )

    class Meta:
        model = OutboxMessage
        fields = ["status", "kind", "stream", "date_from", "date_to"]

    def filter_status(self, queryset, name, value):
        if value == HELD:
            return queryset.filter(held=True)
        return queryset.filter(status=value)


class IdempotencyKeyFilter(django_filters.FilterSet):
    key = django_filters.CharFilter(label="Key (exact)", max_length=255)
    caller = django_filters.CharFilter(
        label="Caller (user name)",
        max_length=150,
        field_name="user__username",
        lookup_expr="iexact",
    )

    class Meta:
        model = IdempotencyKey
        fields = ["key", "caller"]
