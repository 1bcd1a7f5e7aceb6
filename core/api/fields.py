"""Serializer fields that refuse hostile input with a 400 instead of storing it or failing.

* :class:`DecimalField`: DRF's, taking only plain ASCII numbers (``12``, ``-3.5``,
  ``1e3``): no ``1_000``, no digits of other scripts (``١٢``), which ``Decimal()``
  accepts but no schema pattern does. Negative zero is stored as zero. Numbers too large
  to round (``1e22`` for a coordinate) are refused as too many digits.
* :class:`SingleLineCharField`: a title, a name, a city. Control characters (CR, LF,
  tab, ESC, ...) and the Unicode line and paragraph separators are refused: these values
  end up in email subjects and headers, where ``"Flat\\r\\nBcc: ..."`` must never appear.
* :class:`MultiLineCharField`: a description or a message. Newlines and tabs are kept
  (``\\r\\n`` and a lone ``\\r`` become ``\\n``); any other control character is refused.
"""

import re
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from rest_framework import serializers

from core.money import format_amount

_PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", re.ASCII)

# C0 and C1 controls and DEL, plus U+2028 LINE SEPARATOR and U+2029 PARAGRAPH SEPARATOR.
_NOT_SINGLE_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NOT_MULTI_LINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def has_control_characters(text: str, *, multiline: bool) -> bool:
    """Whether ``text`` holds characters a single-line (or multi-line) field refuses."""
    return bool((_NOT_MULTI_LINE if multiline else _NOT_SINGLE_LINE).search(text))


class DecimalField(serializers.DecimalField):
    default_error_messages = {"invalid": "A valid number is required (digits, '.', '-')."}

    def to_internal_value(self, data):
        if isinstance(data, str) and len(data) <= self.MAX_STRING_LENGTH:
            text = data.strip()
            if text and not _PLAIN_NUMBER.fullmatch(text):
                self.fail("invalid")
        value = super().to_internal_value(data)
        return value.copy_abs() if value.is_zero() else value

    def validate_precision(self, value):
        # ``quantize`` of a number with more whole digits than the field holds can exceed
        # the decimal context's precision (``InvalidOperation``): refuse it here first.
        _refuse_too_large(self, value)
        return super().validate_precision(value)


def _refuse_too_large(field: serializers.DecimalField, value: Decimal) -> None:
    whole = field.max_whole_digits
    if whole is not None and not value.is_zero() and value.adjusted() >= whole:
        field.fail("max_whole_digits", max_whole_digits=whole)


class RoundedDecimalField(DecimalField):
    """Rounded half up to ``decimal_places`` instead of refusing more decimals."""

    def validate_precision(self, value):
        _refuse_too_large(self, value)
        step = Decimal(1).scaleb(-self.decimal_places)
        return super().validate_precision(value.quantize(step, rounding=ROUND_HALF_UP))


class SingleLineCharField(serializers.CharField):
    default_error_messages = {
        "control_characters": "Line breaks and other control characters are not allowed here."
    }

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if has_control_characters(value, multiline=False):
            self.fail("control_characters")
        return value


class MultiLineCharField(serializers.CharField):
    default_error_messages = {
        "control_characters": "Control characters other than line breaks and tabs are not "
        "allowed here."
    }

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if has_control_characters(value, multiline=True):
            self.fail("control_characters")
        return value.replace("\r\n", "\n").replace("\r", "\n")


class AmountField(DecimalField):
    """An amount of money written with its currency's minor unit (``core.money``):
    ``"1000"`` in JPY, ``"0.00"`` in EUR, ``"1.250"`` in BHD, never DRF's fixed two
    decimals. The currency is the serializer context's ``"currency"`` if given, else read
    from the object being serialized along ``currency`` (an attribute or key path:
    ``"currency"``, ``"property.currency"``). Input is parsed as :class:`DecimalField`
    (up to 3 decimals: whether the currency allows them is the writer's check)."""

    def __init__(self, *, currency: str = "currency", **kwargs):
        self.currency_path = currency
        kwargs.setdefault("max_digits", 12)
        kwargs.setdefault("decimal_places", 3)
        super().__init__(**kwargs)

    def get_attribute(self, instance):
        value = super().get_attribute(instance)
        if value is None:
            return None
        return _Priced(Decimal(value), self._currency_of(instance))

    def _currency_of(self, instance) -> str:
        if self.context.get("currency"):
            return self.context["currency"]
        value = instance
        for part in self.currency_path.split("."):
            value = value[part] if isinstance(value, dict) else getattr(value, part)
        return value

    def to_representation(self, value):
        if isinstance(value, _Priced):
            return format_amount(value.amount, value.currency)
        return super().to_representation(value)


class _Priced(NamedTuple):
    amount: Decimal
    currency: str
