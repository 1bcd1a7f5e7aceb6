"""The payment gateway interface and the built-in database gateway.

Every call carries an idempotency key; calling twice with the same key returns
the first result and moves no money twice, and ``lookup(key)`` tells whether a call
with that key was carried out (how a crash between a call and the record of its result
is repaired: ``bookings.charges``). The built-in gateway accepts test tokens:
``tok_ok`` succeeds, ``tok_declined`` is declined (402 ``payment_declined``),
``tok_error`` fails with a gateway error (502 ``payment_gateway_error``). A real
provider implements the same five methods. Nobody calls a gateway while holding a row
lock (DESIGN.md section 1): ``bookings.charges`` is the only caller.
"""

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from django.conf import settings
from django.db import connections, router
from django.utils import timezone
from django.utils.module_loading import import_string

from bookings.models import BuiltinGatewayCall
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

    def lookup(self, *, idempotency_key: str) -> GatewayResult | None:
        """The result of the call made with this key, or None if none was carried out."""
        ...


class DatabaseGateway:
    """Test-token gateway: the money 'moves' only as rows in our own database. Like a
    provider it remembers each call it carried out (``BuiltinGatewayCall``, by key)."""

    name = "builtin"
    # test token -> the error it raises (None: success)
    OUTCOMES = {"tok_ok": None, "tok_declined": PaymentDeclined, "tok_error": PaymentGatewayError}

    def authorize(self, *, token, amount, currency, idempotency_key):
        if token not in self.OUTCOMES:
            raise InvalidPaymentToken()
        error = self.OUTCOMES[token]
        if error is not None:
            raise error()
        reference = f"auth_{uuid.uuid5(uuid.NAMESPACE_URL, idempotency_key).hex}"
        return self._carried_out("authorize", idempotency_key, reference, amount, currency)

    def capture(self, *, reference, amount, currency, idempotency_key):
        captured = reference.replace("auth_", "cap_", 1)
        return self._carried_out("capture", idempotency_key, captured, amount, currency)

    def void(self, *, reference, idempotency_key):
        return self._carried_out("void", idempotency_key, reference.replace("auth_", "void_", 1))

    def refund(self, *, reference, amount, currency, idempotency_key):
        refunded = f"re_{uuid.uuid5(uuid.NAMESPACE_URL, idempotency_key).hex}"
        return self._carried_out("refund", idempotency_key, refunded, amount, currency)

    def lookup(self, *, idempotency_key):
        call = BuiltinGatewayCall.objects.filter(idempotency_key=idempotency_key).first()
        return GatewayResult(reference=call.reference) if call else None

    @staticmethod
    def _carried_out(operation, key, reference, amount=None, currency=""):
        """The first call with ``key`` is remembered; a repeat changes nothing and returns
        the same result. One statement (``INSERT .. ON CONFLICT DO NOTHING``): every
        reference is a function of the key, or of the reference the call acts on, so a
        repeat's reference is the first call's. Written as SQL because ``bulk_create``,
        the ORM's only way to ignore a conflict, wraps its insert in a transaction of its
        own: two more round trips for each call."""
        call = BuiltinGatewayCall(
            idempotency_key=key,
            operation=operation,
            reference=reference,
            amount=amount,
            currency=currency,
            created_at=timezone.now(),
        )
        connection = connections[router.db_for_write(BuiltinGatewayCall)]
        fields = [f for f in BuiltinGatewayCall._meta.concrete_fields if not f.primary_key]
        quote = connection.ops.quote_name
        columns = ", ".join(quote(f.column) for f in fields)
        sql = (
            f"INSERT INTO {quote(BuiltinGatewayCall._meta.db_table)} ({columns})"  # noqa: S608 (names from the model)
            f" VALUES ({', '.join(['%s'] * len(fields))})"
            f" ON CONFLICT ({quote('idempotency_key')}) DO NOTHING"
        )
        values = [f.get_db_prep_save(getattr(call, f.attname), connection) for f in fields]
        with connection.cursor() as cursor:
            cursor.execute(sql, values)
        return GatewayResult(reference=reference)


def get_gateway() -> PaymentGateway:
    return import_string(settings.PAYMENT_GATEWAY)()
