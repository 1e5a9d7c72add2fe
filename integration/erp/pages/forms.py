"""Forms of the IT pages: the payload fix of a dead letter (the list filters are in
filters.py)."""

import json

from django import forms

from mesproject.parsers import JsonRefused, json_loads


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
