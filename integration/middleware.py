"""The one idempotency mechanism for every write of the REST API (`/api/`).

A write must carry an `Idempotency-Key` header, or a key in its JSON body
(`transaction_uuid`, or a shop-floor registration's own `registration_uuid`). The first
answer (2xx or 4xx) is stored with a fingerprint of the request, unique per caller, in the
same transaction as the effect; a replay gets it back with `Idempotent-Replayed: true`.
"""

import json

from django.db import transaction
from django.http import HttpResponse, JsonResponse
from django.urls import Resolver404, resolve
from rest_framework.authtoken.models import Token

from mesproject.errors import error_body

from .services.idempotency import (
    MAX_KEY_LENGTH,
    idempotency_claim,
    idempotency_complete,
    idempotency_release,
    request_fingerprint,
)

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
BODY_KEYS = ("transaction_uuid", "registration_uuid")
# Answers that say nothing about the request itself are not kept: the caller may fix its
# credentials or permissions, or wait out its throttle (429), and send the same key again.
NOT_STORED = {401, 403, 429}


class _Discard(Exception):
    """Rolls back the request's transaction when its answer is not kept."""


def _caller(request):
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "token" and token:
        found = Token.objects.select_related("user").filter(key=token.strip()).first()
        return found.user if found and found.user.is_active else None
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


def _method_allowed(request) -> bool:
    """False for a path that does not exist or a method it does not take: the view's own
    404 / 405 says more than a missing key would."""
    try:
        func = resolve(request.path_info).func
    except Resolver404:
        return False
    method = request.method.lower()
    actions = getattr(func, "actions", None)  # a viewset route: method -> action
    if actions is not None:
        return method in actions
    view_class = getattr(func, "cls", None) or getattr(func, "view_class", None)
    return view_class is None or hasattr(view_class, method)


def _body_key(request) -> str:
    if "json" not in request.content_type:
        return ""
    try:
        data = json.loads(request.body or b"null")
    except ValueError:
        return ""
    if not isinstance(data, dict):
        return ""
    for name in BODY_KEYS:
        if data.get(name):
            return str(data[name])
    return ""


def _refusal(status: int, code: str, message: str, **headers) -> JsonResponse:
    response = JsonResponse(error_body(code, message), status=status)
    for name, value in headers.items():
        response[name] = value
    return response


def _replay(record) -> HttpResponse:
    response = HttpResponse(
        bytes(record.response_body),
        status=record.response_status,
        content_type=record.response_content_type or None,
    )
    if record.response_location:
        response["Location"] = record.response_location
    response["Idempotent-Replayed"] = "true"
    return response


class IdempotencyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method not in WRITE_METHODS or not request.path.startswith("/api/"):
            return self.get_response(request)
        user = _caller(request)
        if user is None or not _method_allowed(request):
            return self.get_response(request)  # the view answers 401/403, 404 or 405
        key = (request.headers.get("Idempotency-Key") or _body_key(request)).strip()
        if not key:
            return _refusal(
                400,
                "idempotency_key_missing",
                "Every write needs an Idempotency-Key header (or a transaction_uuid).",
            )
        if len(key) > MAX_KEY_LENGTH:
            return _refusal(
                400, "idempotency_key_invalid", f"Keys are {MAX_KEY_LENGTH} characters at most."
            )
        fingerprint = request_fingerprint(
            method=request.method,
            path=request.get_full_path(),
            body=request.body,
            content_type=request.content_type,
        )
        claim = idempotency_claim(
            user=user,
            key=key,
            fingerprint=fingerprint,
            method=request.method,
            path=request.get_full_path(),
        )
        if claim.outcome == "mismatch":
            return _refusal(
                422,
                "idempotency_key_reused",
                "This Idempotency-Key was used for a different request.",
            )
        if claim.outcome == "in_flight":
            return _refusal(
                409,
                "idempotency_key_in_flight",
                "A request with this Idempotency-Key is still being processed.",
                **{"Retry-After": "1"},
            )
        if claim.outcome == "replay":
            return _replay(claim.record)
        return self._run(request, claim.record)

    def _run(self, request, record):
        response = None
        try:
            with transaction.atomic():
                response = self.get_response(request)
                if response.status_code >= 500 or response.status_code in NOT_STORED:
                    raise _Discard
                if hasattr(response, "render") and not response.is_rendered:
                    response.render()
                idempotency_complete(
                    record=record,
                    status=response.status_code,
                    body=response.content,
                    content_type=response.get("Content-Type", ""),
                    location=response.get("Location", ""),
                )
        except _Discard:
            idempotency_release(record=record)
        except BaseException:
            idempotency_release(record=record)
            raise
        return response
