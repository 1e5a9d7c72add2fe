"""The OpenAPI schema: the idempotency contract and the common refusals, stated once, and
request constraints drf-spectacular leaves out."""

from drf_spectacular import openapi
from rest_framework import serializers


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's AutoSchema, with two constraints the serializers check stated in
    the schema too, so a body the schema allows is one the serializers accept:

    - a nested list's `allow_empty=False` / `max_length` (minItems / maxItems);
    - a decimal string needs a digit ("", "-" and "." match drf-spectacular's pattern but
      are no number), and has no sign when the field's minimum is 0 or more.
    """

    def _insert_field_validators(self, field, schema):
        super()._insert_field_validators(field, schema)
        if isinstance(field, serializers.ListSerializer) and schema.get("type") == "array":
            if not field.allow_empty:
                schema["minItems"] = max(schema.get("minItems", 0), 1)
            if field.max_length is not None:
                schema["maxItems"] = field.max_length
        if isinstance(field, serializers.DecimalField) and "pattern" in schema:
            schema["pattern"] = decimal_pattern(field)


def decimal_pattern(field: serializers.DecimalField) -> str:
    whole, places = field.max_whole_digits, field.decimal_places
    number = rf"(?:\d{{1,{whole}}}(?:\.\d{{0,{places}}})?|\.\d{{1,{places}}})"
    if whole == 0:
        number = rf"0?\.\d{{1,{places}}}"
    unsigned = field.min_value is not None and field.min_value >= 0
    return rf"^{'' if unsigned else '-?'}{number}$"


WRITE_METHODS = {"post", "put", "patch", "delete"}

IDEMPOTENCY_PARAMETER = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "maxLength": 255},
    "description": (
        "Required on every write unless the JSON body carries `transaction_uuid` (or a "
        "registration's `registration_uuid`). The first answer (2xx or 4xx) is kept 30 days "
        "per caller and key and returned again, with `Idempotent-Replayed: true`."
    ),
}

IDEMPOTENCY_RESPONSES = {
    "400": "Refused: missing Idempotency-Key (`idempotency_key_missing`) or invalid input.",
    "409": "A request with this key is still in flight (`idempotency_key_in_flight`), or "
    "the record's state refuses the request.",
    "422": "The key was used for a different request (`idempotency_key_reused`), or master "
    "data is missing.",
}


def add_idempotency_contract(result, generator, request, public):
    error_ref = {"$ref": "#/components/schemas/Error"}
    for path, operations in result.get("paths", {}).items():
        if not path.startswith("/api/v1/"):
            continue
        for method, operation in operations.items():
            if method not in WRITE_METHODS:
                continue
            operation.setdefault("parameters", []).append(IDEMPOTENCY_PARAMETER)
            responses = operation.setdefault("responses", {})
            for status, text in IDEMPOTENCY_RESPONSES.items():
                entry = responses.setdefault(status, {"description": text})
                entry.setdefault("content", {"application/json": {"schema": error_ref}})
            for status, entry in responses.items():
                if status.startswith("2"):
                    entry.setdefault("headers", {})["Idempotent-Replayed"] = {
                        "schema": {"type": "string", "enum": ["true"]},
                        "description": "Present on a replay of the first answer.",
                    }
    return result


ERROR_RESPONSES = {
    "401": "No or a bad token (`not_authenticated`, `authentication_failed`).",
    "403": "The caller's role may not do this (`permission_denied`).",
}
NOT_FOUND = "No such record (`not_found`)."
BAD_FILTER = "A filter or query value is not valid (`invalid`, named in fields)."
NOT_JSON = "The body is not JSON (`unsupported_media_type`)."


def add_error_responses(result, generator, request, public):
    """The refusals every API view can answer without declaring them: 401/403 (every call
    needs a token and a role), 404 (a path naming a record), 400 (a read whose query
    filters are validated) and 415 (a body that is not JSON). A view's own description of
    the same status wins."""
    error_ref = {"$ref": "#/components/schemas/Error"}
    for path, operations in result.get("paths", {}).items():
        if not path.startswith("/api/v1/"):
            continue
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            refusals = dict(ERROR_RESPONSES)
            if "{" in path:
                refusals["404"] = NOT_FOUND
            parameters = operation.get("parameters", [])
            if method == "get" and any(p.get("in") == "query" for p in parameters):
                refusals["400"] = BAD_FILTER
            if "requestBody" in operation:
                refusals["415"] = NOT_JSON
            responses = operation["responses"]
            for status, text in refusals.items():
                entry = responses.setdefault(status, {"description": text})
                entry.setdefault("content", {"application/json": {"schema": error_ref}})
    return result
