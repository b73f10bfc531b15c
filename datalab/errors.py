"""One JSON error shape for the whole API.

Every error answers ``{"error": {"code": "...", "message": "...", "fields": {...}}}`` with the
status that fits (400 validation, 401, 403, 404, 409, 423, 429). Services raise the domain
exceptions below; views never build error bodies by hand.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status


class DomainError(exceptions.APIException):
    """Base of the errors services raise; carries a stable machine-readable code."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "invalid"
    default_detail = "The request is not valid."

    def __init__(self, message: str | None = None, *, code: str | None = None, extra=None):
        super().__init__(detail=message or self.default_detail, code=code or self.default_code)
        self.extra = extra or {}


class InvalidInput(DomainError):
    """Input is well formed but breaks a rule (400)."""

    def __init__(self, message: str, *, fields: dict[str, list[str]] | None = None, code=None):
        super().__init__(message, code=code or "invalid")
        self.fields = fields or {}


class Forbidden(DomainError):
    status_code = status.HTTP_403_FORBIDDEN
    default_code = "forbidden"
    default_detail = "You may not do this."


class NotFound(DomainError):
    status_code = status.HTTP_404_NOT_FOUND
    default_code = "not_found"
    default_detail = "Not found."


class Conflict(DomainError):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"
    default_detail = "The request conflicts with the current state."


class Locked(DomainError):
    status_code = status.HTTP_423_LOCKED
    default_code = "locked"
    default_detail = "The resource is locked."


class RateLimited(DomainError):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "rate_limited"
    default_detail = "Too many requests."


_CODE_BY_STATUS = {
    400: "invalid",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    415: "unsupported_media_type",
    423: "locked",
    429: "rate_limited",
}


# DRF's own codes that we name differently, so that one status has one code.
_CODE_ALIASES = {"throttled": "rate_limited", "authentication_failed": "not_authenticated"}


def error_body(code: str, message: str, fields: dict | None = None, **extra: Any) -> dict:
    body: dict[str, Any] = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    body.update(extra)
    return {"error": body}


def _flatten(detail: Any) -> Any:
    """Turn DRF's nested ErrorDetail structures into plain lists of strings."""
    if isinstance(detail, dict):
        return {key: _flatten(value) for key, value in detail.items()}
    if isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            return [str(item) for item in detail]
        return [_flatten(item) for item in detail]
    return [str(detail)]


def exception_handler(exc: Exception, context: dict) -> Any:
    # Imported here: rest_framework.views imports the authentication classes, which raise
    # the errors of this module.
    from rest_framework.views import exception_handler as drf_exception_handler

    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    status_code = response.status_code
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        if isinstance(fields, list):
            fields = {"non_field_errors": fields}
        message = "Some fields are not valid."
        response.data = error_body("invalid", message, fields)
        return response
    code = getattr(exc, "default_code", None)
    detail = getattr(exc, "detail", None)
    codes = exc.get_codes() if isinstance(exc, exceptions.APIException) else None
    if isinstance(codes, str):
        code = _CODE_ALIASES.get(codes, codes)
    code = code if code and code != "error" else _CODE_BY_STATUS.get(status_code, "error")
    fields = getattr(exc, "fields", None)
    extra = getattr(exc, "extra", {}) or {}
    if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
        extra = {**extra, "retry_after": int(exc.wait)}
    response.data = error_body(code, str(detail) if detail else "Error.", fields, **extra)
    return response


def json_404(request, exception=None) -> JsonResponse:
    return JsonResponse(error_body("not_found", "Not found."), status=404)


def json_500(request) -> JsonResponse:
    return JsonResponse(error_body("server_error", "Internal server error."), status=500)
