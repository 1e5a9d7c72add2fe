"""Forms of the IT pages: the outbox and idempotency-key filters, the payload fix."""

import json

from django import forms

from integration.choices import MessageKind, MessageStatus
from mesproject.parsers import JsonRefused, json_loads

HELD = "held"
# The real statuses, plus "held" (integration.erp.selectors.held: pending, behind a dead letter).
STATUS_CHOICES = [
    ("", "Any status"),
    (MessageStatus.DEAD_LETTER, MessageStatus.DEAD_LETTER.label),
    (HELD, "Held (behind a dead letter)"),
    (MessageStatus.PENDING, MessageStatus.PENDING.label),
    (MessageStatus.DELIVERED, MessageStatus.DELIVERED.label),
    (MessageStatus.CANCELED, MessageStatus.CANCELED.label),
]


def _date(label):
    return forms.DateField(
        label=label, required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


class OutboxFilter(forms.Form):
    """Read from the query string; an invalid value is shown, not applied."""

    status = forms.ChoiceField(choices=STATUS_CHOICES, required=False)
    kind = forms.ChoiceField(choices=[("", "Any kind"), *MessageKind.choices], required=False)
    stream = forms.CharField(label="Work order / stream", max_length=80, required=False)
    date_from = _date("Created from")
    date_to = _date("Created to")

    def apply(self, queryset):
        self.is_valid()
        data = self.cleaned_data
        status = data.get("status")
        if status == HELD:
            queryset = queryset.filter(held=True)
        elif status:
            queryset = queryset.filter(status=status)
        if data.get("kind"):
            queryset = queryset.filter(kind=data["kind"])
        if data.get("stream", "").strip():
            queryset = queryset.filter(stream__iexact=data["stream"].strip())
        if data.get("date_from"):
            queryset = queryset.filter(created_at__date__gte=data["date_from"])
        if data.get("date_to"):
            queryset = queryset.filter(created_at__date__lte=data["date_to"])
        return queryset


class PrettyJSONField(forms.JSONField):
    """Shown indented and sorted: IT reads and edits it by hand."""

    def to_python(self, value):
        # The API's JSON limits: no control characters (PostgreSQL's jsonb refuses \u0000),
        # bounded nesting; and a number beyond Python's int-string limit (4,300 digits) is
        # a ValueError the stock field does not catch.
        if self.disabled or value in self.empty_values or not isinstance(value, str):
            return super().to_python(value)
        try:
            return json_loads(value)
        except JsonRefused as exc:
            raise forms.ValidationError(exc.message, code=exc.code) from exc
        except ValueError as exc:
            raise forms.ValidationError("Enter a valid JSON.", code="invalid") from exc

    def bound_data(self, data, initial):
        if self.disabled:
            return initial
        try:
            return json_loads(data) if isinstance(data, str) else data
        except (JsonRefused, ValueError):
            return forms.fields.InvalidJSONInput(data)  # shown again as typed

    def prepare_value(self, value):
        if isinstance(value, forms.fields.InvalidJSONInput):
            return value  # what was typed, as typed
        return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)


class FixPayloadForm(forms.Form):
    payload = PrettyJSONField(
        label="Payload (JSON object)",
        widget=forms.Textarea(attrs={"rows": 16, "cols": 80, "spellcheck": "false"}),
        help_text="Saving sends the corrected message again at once.",
    )

    def clean_payload(self):
        payload = self.cleaned_data["payload"]
        if not isinstance(payload, dict):
            raise forms.ValidationError("The payload must be a JSON object: { ... }.")
        return payload


class IdempotencyKeyFilter(forms.Form):
    key = forms.CharField(label="Key (exact)", max_length=255, required=False)
    caller = forms.CharField(label="Caller (user name)", max_length=150, required=False)

    def apply(self, queryset):
        self.is_valid()
        data = self.cleaned_data
        if data.get("key", "").strip():
            queryset = queryset.filter(key=data["key"].strip())
        if data.get("caller", "").strip():
            queryset = queryset.filter(user__username__iexact=data["caller"].strip())
        return queryset
