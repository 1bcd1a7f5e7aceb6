"""Money helpers: ``Decimal`` amounts quantized to their currency's minor unit."""

from decimal import ROUND_HALF_UP, Decimal

# ISO 4217 currencies whose minor unit is not 2 digits.
_MINOR_DIGITS = {
    "BHD": 3, "CLP": 0, "IQD": 3, "ISK": 0, "JOD": 3, "JPY": 0, "KRW": 0,
    "KWD": 3, "LYD": 3, "OMR": 3, "PYG": 0, "TND": 3, "UGX": 0, "VND": 0, "XAF": 0, "XOF": 0,
}  # fmt: skip


def minor_digits(currency: str) -> int:
    return _MINOR_DIGITS.get(currency.upper(), 2)


def format_amount(amount: Decimal | str | int, currency: str) -> str:
    """``amount`` as the API writes it: fixed point with the currency's minor unit
    ("0.00" for EUR, "1000" for JPY, "1.250" for BHD)."""
    return format(quantize(Decimal(amount), currency), "f")


def has_more_decimals(amount: Decimal, currency: str) -> bool:
    """Whether ``amount`` has digits below the currency's minor unit (999.50 in JPY)."""
    return Decimal(amount) != Decimal(amount).quantize(Decimal(1).scaleb(-minor_digits(currency)))


def quantize(amount: Decimal, currency: str) -> Decimal:
    """Round half up to the currency's minor unit (cents for EUR, yen for JPY)."""
    exponent = Decimal(1).scaleb(-minor_digits(currency))
    return Decimal(amount).quantize(exponent, rounding=ROUND_HALF_UP)
