"""OpenAPI post-processing: the idempotency contract, stated once for every write."""

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
