"""Domain errors and the one error body every API failure uses: {code, message, fields}."""

from django.core.exceptions import PermissionDenied, RequestDataTooBig, ValidationError
from django.http import Http404, JsonResponse
from django.views import defaults
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response


class ApplicationError(Exception):
    """A refused business request: a machine-readable code plus a message for people."""

    code = "invalid_request"
    http_status = status.HTTP_400_BAD_REQUEST

    def __init__(self, message: str, *, code: str | None = None, fields: dict | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.fields = fields or {}


class NotAllowed(ApplicationError):
    """The request conflicts with the current state of the record."""

    code = "not_allowed"
    http_status = status.HTTP_409_CONFLICT


class Forbidden(ApplicationError):
    """The caller is known but may not do this (its role, its terminal, its site)."""

    code = "forbidden"
    http_status = status.HTTP_403_FORBIDDEN


class MissingMasterData(ApplicationError):
    """What a request needs (item, BOM, route...) does not exist or is not approved."""

    code = "master_data_missing"
    http_status = status.HTTP_422_UNPROCESSABLE_ENTITY


def error_body(code: str, message: str, fields: dict | None = None) -> dict:
    return {"code": code, "message": message, "fields": fields or {}}


def api_exception_handler(exc, context):
    # Imported here: rest_framework.views loads the API's parsers, which use this module.
    from rest_framework.views import exception_handler

    if isinstance(exc, ApplicationError):
        return Response(error_body(exc.code, exc.message, exc.fields), status=exc.http_status)
    if isinstance(exc, ValidationError):
        fields = exc.message_dict if hasattr(exc, "error_dict") else {}
        return Response(
            error_body("invalid", "; ".join(exc.messages), fields),
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is None:
        return None
    detail = response.data
    if isinstance(exc, exceptions.ValidationError):
        response.data = error_body("invalid", "The request is not valid.", detail)
    else:
        code = getattr(exc, "default_code", "error")
        message = detail.get("detail", str(detail)) if isinstance(detail, dict) else str(detail)
        response.data = error_body(code, str(message))
    return response


class ApiNotFoundMiddleware:
    """A path under /api/ that no route matches (an unknown path, or a path parameter the
    route's pattern refuses, such as an id with a dot) gets the API's JSON 404 instead of
    Django's HTML page: API callers always read {code, message, fields}."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            response.status_code == status.HTTP_404_NOT_FOUND
            and request.path.startswith("/api/")
            and "json" not in response.get("Content-Type", "")
        ):
            return JsonResponse(
                error_body("not_found", "No such resource."), status=status.HTTP_404_NOT_FOUND
            )
        return response


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


# Django's error handlers (mesproject/urls.py): under /api/ the one JSON error body, elsewhere
# the styled pages of templates/ (400.html ... 500.html).


def bad_request(request, exception=None):
    if not _is_api(request):
        return defaults.bad_request(request, exception)
    if isinstance(exception, RequestDataTooBig):
        return JsonResponse(
            error_body("payload_too_large", "The request body is too large."),
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    return JsonResponse(
        error_body("bad_request", "The request is malformed."), status=status.HTTP_400_BAD_REQUEST
    )


def permission_denied(request, exception=None):
    if not _is_api(request):
        return defaults.permission_denied(request, exception)
    return JsonResponse(
        error_body("permission_denied", "You do not have permission to perform this action."),
        status=status.HTTP_403_FORBIDDEN,
    )


def page_not_found(request, exception=None):
    if not _is_api(request):
        return defaults.page_not_found(request, exception)
    return JsonResponse(error_body("not_found", "No such resource."), status=404)


def server_error(request):
    """Anything uncaught: logged with its traceback by Django, answered without it."""
    if not _is_api(request):
        return defaults.server_error(request)
    return JsonResponse(
        error_body("server_error", "The server failed to answer; the error is logged."),
        status=status.HTTP_500_INTERNAL_SERVER_ERROR,
    )


class ErrorSerializer(serializers.Serializer):
    """The body of every refusal (documentation only)."""

    code = serializers.CharField(help_text="Machine-readable, e.g. master_data_missing.")
    message = serializers.CharField(help_text="For people.")
    fields = serializers.DictField(help_text="Which fields, and why.", required=False)
