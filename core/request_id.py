"""A request id on every log line and on every response (``X-Request-ID``).

An incoming ``X-Request-ID`` from the proxy is kept when it looks sane, so one
id follows a request across the proxy, the app and its logs.
"""

import contextvars
import logging
import re
import uuid

from asgiref.sync import iscoroutinefunction, markcoroutinefunction

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
_SANE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
HEADER = "X-Request-ID"


def _incoming_or_new(meta: dict) -> str:
    incoming = meta.get("HTTP_X_REQUEST_ID", "")
    # fullmatch: with match(), "$" also matches before a trailing newline, and a header
    # value with a newline makes Django refuse the whole response (a 500).
    return incoming if _SANE_ID.fullmatch(incoming) else uuid.uuid4().hex


class RequestIdMiddleware:
    """Sets the request id for the duration of the request (sync and async)."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request):
        if iscoroutinefunction(self):
            return self.__acall__(request)
        token = request_id_var.set(_incoming_or_new(request.META))
        request.request_id = request_id_var.get()
        try:
            response = self.get_response(request)
            response[HEADER] = request.request_id
            return response
        finally:
            request_id_var.reset(token)

    async def __acall__(self, request):
        token = request_id_var.set(_incoming_or_new(request.META))
        request.request_id = request_id_var.get()
        try:
            response = await self.get_response(request)
            response[HEADER] = request.request_id
            return response
        finally:
            request_id_var.reset(token)


class RequestIdFilter(logging.Filter):
    """Adds ``record.request_id`` so formatters can print it.

    Django logs each 4xx/5xx (``django.request``) after the middleware has returned and
    the context variable is reset; those records carry the request, so its id is used.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        request_id = getattr(getattr(record, "request", None), "request_id", None)
        record.request_id = request_id or request_id_var.get()
        return True
