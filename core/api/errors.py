"""One error shape for the whole API (DESIGN.md section 4): the DRF mapping.

``{"type": "...", "errors": [{"code": "...", "detail": "...", "attr": null}]}``

Domain errors (:mod:`core.errors`) are plain exceptions with a stable ``code`` and an
HTTP status; this module turns them into DRF exceptions, which drf-standardized-errors
formats. Django-level errors that never reach
a DRF view (unknown URL, server error, CSRF failure, oversized body) get the same
shape through the JSON handlers below.
"""

import logging
import re
import sys

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import JsonResponse
from django.views.debug import SafeExceptionReporterFilter
from django.views.decorators.csrf import csrf_exempt
from drf_standardized_errors.handler import ExceptionHandler as BaseExceptionHandler
from rest_framework import exceptions

from core.errors import (
    ApplicationError,
    InvalidFields,
    PayloadTooLarge,
    ServiceUnavailable,
    is_outage,
)
from core.locks import LockTimeout, is_lock_timeout

logger = logging.getLogger(__name__)


def as_api_exception(exc: ApplicationError) -> exceptions.APIException:
    """The DRF exception a domain error answers as: its status, code, detail and extras."""
    if isinstance(exc, InvalidFields):
        details = {
            field: [exceptions.ErrorDetail(detail, code=code) for detail, code in entries]
            for field, entries in exc.errors.items()
        }
        api_exc = exceptions.ValidationError(details.pop(None) if None in details else details)
    else:
        api_exc = exceptions.APIException(detail=exc.detail, code=exc.code)
        api_exc.status_code = int(exc.status_code)
    api_exc.extra = exc.extra
    api_exc.domain_error = exc
    return api_exc


class ExceptionHandler(BaseExceptionHandler):
    """Maps infrastructure failures to documented errors instead of a 500."""

    def convert_known_exceptions(self, exc: Exception) -> Exception:
        if isinstance(exc, ApplicationError):
            return as_api_exception(exc)
        if isinstance(exc, RequestDataTooBig):
            return as_api_exception(PayloadTooLarge())
        if isinstance(exc, TooManyFieldsSent | TooManyFilesSent):  # a form body over the caps
            return exceptions.ParseError(str(exc), code="too_many_fields")
        if is_lock_timeout(exc):  # a lock taken outside core.locks.lock_rows
            logger.warning("lock timeout: %r", exc)
            return as_api_exception(LockTimeout())
        if is_outage(exc):
            logger.warning("backing service unavailable: %r", exc)
            return as_api_exception(ServiceUnavailable())
        if _has_nested_detail(exc):
            return _flatten_detail(exc)
        return super().convert_known_exceptions(exc)

    def report_exception(self, exc, response) -> None:
        """Expected outages (our own 5xx errors, e.g. a failing payment provider or an
        unreachable database) are logged as warnings, not reported as crashes."""
        domain_error = getattr(exc, "domain_error", None)
        if domain_error is not None:
            logger.warning("%s: %s", domain_error.code, domain_error.detail)
            return
        super().report_exception(exc, response)

    def get_response(self, exc, data):
        response = super().get_response(exc, data)
        extra = getattr(exc, "extra", None)
        if extra and response.data.get("errors"):
            # e.g. negotiation_exists names the open negotiation: {"negotiation_id": 12}
            response.data["errors"][0].update(extra)
        if isinstance(getattr(exc, "domain_error", None), ServiceUnavailable):
            response["Retry-After"] = str(exc.domain_error.retry_after)
        return response


def _has_nested_detail(exc: Exception) -> bool:
    """simplejwt's ``InvalidToken`` carries ``{"detail", "code", "messages"}`` as its detail,
    which would otherwise be reported as one error per key (``attr: "messages.0.message"``)."""
    return (
        isinstance(exc, exceptions.APIException)
        and not isinstance(exc, exceptions.ValidationError)
        and isinstance(exc.detail, dict)
        and "detail" in exc.detail
    )


def _flatten_detail(exc: exceptions.APIException) -> exceptions.APIException:
    detail = exc.detail["detail"]
    code = str(exc.detail.get("code") or getattr(detail, "code", None) or exc.default_code)
    flat = exceptions.APIException(detail=str(detail), code=code)
    flat.status_code = exc.status_code
    for attr in ("auth_header", "wait"):
        if getattr(exc, attr, None):
            setattr(flat, attr, getattr(exc, attr))
    return flat


def error_body(code: str, detail: str, error_type: str = "client_error") -> dict:
    return {"type": error_type, "errors": [{"code": code, "detail": detail, "attr": None}]}


def json_error(status_code: int, code: str, detail: str) -> JsonResponse:
    error_type = "server_error" if status_code >= 500 else "client_error"
    return JsonResponse(error_body(code, detail, error_type), status=status_code)


def handler400(request, exception=None):
    if isinstance(exception, RequestDataTooBig):
        return json_error(413, "payload_too_large", "The request body is too large.")
    return json_error(400, "bad_request", "Bad request.")


def handler403(request, exception=None):
    return json_error(403, "permission_denied", "You do not have permission to do this.")


def handler404(request, exception=None):
    return json_error(404, "not_found", "Not found.")


@csrf_exempt
def unknown_api_path(request, *args, **kwargs):
    """Any method to a path under ``/api/`` that names nothing: 404 ``not_found``.

    Exempt from ``CsrfViewMiddleware``, which would otherwise answer a write to it with
    403 ``csrf_failed`` before the 404 (even with a Bearer token). Nothing is done here,
    so there is nothing to forge; the API's own views check CSRF themselves on
    cookie-authenticated writes (accounts/authentication.py).
    """
    return handler404(request)


def handler500(request):
    """Outside DRF views (middleware, plain Django views) an unreachable database or Redis
    is a 503 in the documented shape too. Django calls this inside its ``except`` block."""
    exc = sys.exc_info()[1]
    if is_outage(exc):
        error = LockTimeout if is_lock_timeout(exc) else ServiceUnavailable
        response = json_error(503, error.default_code, error.default_detail)
        response["Retry-After"] = str(error.retry_after)
        return response
    return json_error(500, "error", "A server error occurred.")


def csrf_failure(request, reason=""):
    return json_error(403, "csrf_failed", f"CSRF check failed: {reason}")


class SecretMaskingReporterFilter(SafeExceptionReporterFilter):
    """Django's filter, also masking settings that hold credentials in a URL.

    Django hides settings named like ``KEY``, ``SECRET``, ``PASS`` or ``TOKEN``, but not
    ``CLOUDINARY_URL``, ``EMAIL_URL``, ``DATABASE_URL``, ``REDIS_URL`` or a cache's
    ``LOCATION``, whose values carry the password. Every setting named ``..._URL``,
    ``DSN`` or ``LOCATION`` is hidden, and any string of the form
    ``scheme://user:password@host`` anywhere in the settings has its credentials masked.
    """

    hidden_settings = re.compile(
        r"API|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE|URL|DSN|LOCATION|CREDENTIAL|AUTH",
        flags=re.IGNORECASE,
    )
    _credentials_in_url = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)[^/@\s]+@", re.I)

    def cleanse_setting(self, key, value):
        value = super().cleanse_setting(key, value)
        if isinstance(value, str):
            return self._credentials_in_url.sub(
                lambda m: f"{m['scheme']}{self.cleansed_substitute}@", value
            )
        return value
