"""The payment gateway interface and the built-in database gateway.

Every call carries an idempotency key; calling twice with the same key returns
the first result and moves no money twice. The built-in gateway accepts test
tokens: ``tok_ok`` succeeds, ``tok_declined`` is declined (402
``payment_declined``), ``tok_error`` fails with a gateway error (502
``payment_gateway_error``). A real provider implements the same four methods.
"""

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from core.errors import ApplicationError


class PaymentDeclined(ApplicationError):
    status_code = 402
    default_code = "payment_declined"
    default_detail = "The card was declined."


class PaymentGatewayError(ApplicationError):
    status_code = 502
    default_code = "payment_gateway_error"
    default_detail = "The payment provider failed; nothing was charged. Try again."


class InvalidPaymentToken(ApplicationError):
    default_code = "invalid_payment_token"
    default_detail = "Unknown payment token."


@dataclass(frozen=True)
class GatewayResult:
    reference: str


class PaymentGateway(Protocol):
    name: str

    def authorize(
        self, *, token: str, amount: Decimal, currency: str, idempotency_key: str
    ) -> GatewayResult: ...

    def capture(
        self, *, reference: str, amount: Decimal, currency: str, idempotency_key: str
    ) -> GatewayResult: ...

    def void(self, *, reference: str, idempotency_key: str) -> GatewayResult: ...

    def refund(
        self, *, reference: str, amount: Decimal, currency: str, idempotency_key: str
    ) -> GatewayResult: ...


class DatabaseGateway:
    """Test-token gateway: the money 'moves' only as Payment rows in our own database."""

    name = "builtin"
    # test token -> the error it raises (None: success)
    OUTCOMES = {"tok_ok": None, "tok_declined": PaymentDeclined, "tok_error": PaymentGatewayError}

    def authorize(self, *, token, amount, currency, idempotency_key):
        if token not in self.OUTCOMES:
            raise InvalidPaymentToken()
        error = self.OUTCOMES[token]
        if error is not None:
            raise error()
        return GatewayResult(
            reference=f"auth_{uuid.uuid5(uuid.NAMESPACE_URL, idempotency_key).hex}"
        )

    def capture(self, *, reference, amount, currency, idempotency_key):
        return GatewayResult(reference=reference.replace("auth_", "cap_", 1))

    def void(self, *, reference, idempotency_key):
        return GatewayResult(reference=reference.replace("auth_", "void_", 1))

    def refund(self, *, reference, amount, currency, idempotency_key):
        return GatewayResult(reference=f"re_{uuid.uuid5(uuid.NAMESPACE_URL, idempotency_key).hex}")


def get_gateway() -> PaymentGateway:
    return import_string(settings.PAYMENT_GATEWAY)()
