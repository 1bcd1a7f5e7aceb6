"""Domain errors: plain exceptions with a stable ``code`` a client can branch on.

Services raise these; they know nothing of HTTP frameworks. Each carries the HTTP
status it answers with, which the one API module that maps them
(:mod:`core.api.errors`) and the WebSocket consumers read. The API's error shape is
``{"type": "...", "errors": [{"code": "...", "detail": "...", "attr": null}]}``
(DESIGN.md section 4).
"""

from http import HTTPStatus

from django.db import DatabaseError, InterfaceError, OperationalError
from kombu.exceptions import OperationalError as BrokerUnavailable
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError


class ApplicationError(Exception):
    """Base of every domain error.

    ``detail`` is the human sentence, ``code`` the stable machine code; ``extra`` holds
    fields added to the error entry (e.g. ``negotiation_id`` on ``negotiation_exists``).
    """

    status_code: int = HTTPStatus.BAD_REQUEST
    default_code = "invalid"
    default_detail = "The request could not be completed."

    def __init__(self, detail: str | None = None, code: str | None = None, **extra):
        self.detail = str(detail or self.default_detail)
        self.code = code or self.default_code
        self.extra = extra
        super().__init__(self.detail)


class InvalidFields(ApplicationError):
    """Errors about named fields of the request: ``{field: [(detail, code), ...]}``.

    Answered like a serializer's validation error, one entry per field with its ``attr``;
    the field ``None`` is an error about the request body as a whole (``attr: null``).
    """

    default_detail = "Some fields are invalid."

    def __init__(self, errors: dict[str | None, list[tuple[str, str]]]):
        self.errors = errors
        first = next(iter(errors.values()), [(self.default_detail, self.default_code)])[0]
        super().__init__(first[0], first[1])

    @classmethod
    def single(cls, field: str | None, detail: str, code: str = "invalid") -> "InvalidFields":
        return cls({field: [(detail, code)]})


class ConflictError(ApplicationError):
    status_code = HTTPStatus.CONFLICT
    default_code = "conflict"
    default_detail = "The request conflicts with the current state."


class InvalidTransition(ConflictError):
    default_code = "invalid_transition"
    default_detail = "This action is not allowed in the current state."


class DomainPermissionDenied(ApplicationError):
    status_code = HTTPStatus.FORBIDDEN
    default_code = "permission_denied"
    default_detail = "You do not have permission to perform this action."


class PayloadTooLarge(ApplicationError):
    status_code = HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    default_code = "payload_too_large"
    default_detail = "The request body is too large."


class ServiceUnavailable(ApplicationError):
    """A backing service is down or busy: 503 with ``Retry-After``."""

    status_code = HTTPStatus.SERVICE_UNAVAILABLE
    default_code = "service_unavailable"
    default_detail = "A backing service is unavailable; try again shortly."
    retry_after = 5


# Redis (cache, throttles, channel layer) or the Celery broker unreachable.
REDIS_OUTAGE = (RedisConnectionError, RedisTimeoutError, BrokerUnavailable)


def is_outage(exc: BaseException | None) -> bool:
    """A backing service (database, Redis, broker) is unreachable: answer 503, not 500."""
    return isinstance(exc, (OperationalError, InterfaceError, *REDIS_OUTAGE)) or (
        isinstance(exc, DatabaseError) and "connection" in str(exc).lower()
    )
