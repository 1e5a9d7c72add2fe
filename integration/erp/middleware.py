"""The one idempotency mechanism for every write of the REST API (`/api/`).

A write must carry an `Idempotency-Key` header, or a key in its JSON body
(`transaction_uuid`, or a shop-floor registration's own `registration_uuid`). The first
answer (2xx or 4xx) is stored with a fingerprint of the request, unique per caller, in the
same transaction as the effect; a replay gets it back with `Idempotent-Replayed: true`.
"""

import re

from django.db import transaction
from django.http import HttpResponse, JsonResponse
from django.urls import Resolver404, resolve
from rest_framework.authtoken.models import Token

from integration.erp.services.idempotency import (
    MAX_KEY_LENGTH,
    idempotency_claim,
    idempotency_complete,
    idempotency_release,
    request_fingerprint,
)
from mesproject.errors import error_body
from mesproject.parsers import JsonRefused, json_loads

# The header's sf-string (the IETF draft): what a log, a URL and PostgreSQL all keep intact.
_VISIBLE_ASCII = re.compile(r"[\x20-\x7e]+")
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


def _json_body(request):
    """The parsed JSON body, None when there is none (or it is no JSON: the view says so).
    JsonRefused for a body the API's parser refuses (too deep, a control character): it is
    refused here already, before it becomes a key or a fingerprint."""
    if "json" not in request.content_type:
        return None
    try:
        return json_loads(request.body or b"null")
    except JsonRefused:
        raise
    except ValueError:
        return None


def _body_key(data) -> str:
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
        try:
            data = _json_body(request)
        except JsonRefused as exc:
            return JsonResponse(error_body(exc.code, exc.message, exc.fields), status=400)
        key = (request.headers.get("Idempotency-Key") or _body_key(data)).strip()
        if not key:
            return _refusal(
                400,
                "idempotency_key_missing",
                "Every write needs an Idempotency-Key header (or a transaction_uuid).",
            )
        if len(key) > MAX_KEY_LENGTH or not _VISIBLE_ASCII.fullmatch(key):
            return _refusal(
                400,
                "idempotency_key_invalid",
                f"Keys are visible ASCII characters, {MAX_KEY_LENGTH} at most.",
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
