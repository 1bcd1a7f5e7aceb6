"""The rules a listing keeps: checked by every write of it (properties.services).

Rules over several fields are checked before writing, with one error per field
(``400``, type ``validation_error``); the database re-checks those it can hold (min <=
max nights, floor < auto-accept). A published listing must stay complete:
:func:`missing_for_publication` lists what it lacks, one item per field.
"""

from decimal import Decimal

from django.conf import settings

from core.money import has_more_decimals, minor_digits
from properties.errors import field_errors
from properties.models import Property, StayKind
from properties.quotes import PAYING_GUEST_MIN_NIGHTS


def check_listing(prop: Property, stay_types: list[dict]) -> None:
    """Rules over several fields, checked before writing (the database re-checks those it
    can hold: min <= max nights, floor < auto-accept)."""
    errors: dict[str, str] = {}
    if prop.min_nights > prop.max_nights:
        errors["min_nights"] = "Minimum nights cannot exceed maximum nights."
    kinds = {spec["kind"] for spec in stay_types}
    if StayKind.PAYING_GUEST in kinds and prop.max_nights < PAYING_GUEST_MIN_NIGHTS:
        errors["max_nights"] = (
            f"Paying guests stay at least {PAYING_GUEST_MIN_NIGHTS} nights: "
            f"allow at least {PAYING_GUEST_MIN_NIGHTS} nights."
        )
    floor, auto = prop.floor_nightly_price, prop.auto_accept_nightly_price
    list_price = list_nightly_price(stay_types)
    if floor is not None and auto is not None and floor >= auto:
        errors["floor_nightly_price"] = "The floor must be below the auto-accept price."
    if list_price is not None:
        if auto is not None and auto >= list_price:
            errors["auto_accept_nightly_price"] = "Auto-accept must be below the nightly price."
        if floor is not None and floor >= list_price:
            errors["floor_nightly_price"] = "The floor must be below the nightly price."
    errors.update(_too_precise(prop, stay_types))
    if errors:
        raise field_errors(errors)


_PRICE_FIELDS = ("cleaning_fee", "floor_nightly_price", "auto_accept_nightly_price")
_STAY_TYPE_PRICES = ("nightly_price", "monthly_price", "breakfast_price", "lunch_price",
                     "dinner_price")  # fmt: skip


def _too_precise(prop: Property, stay_types: list[dict]) -> dict[str, str]:
    """Prices with more decimals than the listing's currency has (999.50 in JPY): refused,
    never rounded behind the host's back."""
    digits = minor_digits(prop.currency)
    message = f"{prop.currency} amounts have at most {digits} decimals."
    errors = {
        name: message
        for name in _PRICE_FIELDS
        if getattr(prop, name) is not None and has_more_decimals(getattr(prop, name), prop.currency)
    }
    for spec in stay_types:
        for name in _STAY_TYPE_PRICES:
            value = spec.get(name)
            if value is not None and has_more_decimals(value, prop.currency):
                errors[f"stay_types.{spec['kind']}.{name}"] = message
    return errors


def list_nightly_price(stay_types: list[dict]) -> Decimal | None:
    """The cheapest nightly price on offer (a paying guest's month counts 30 nights)."""
    nightly = [spec["nightly_price"] for spec in stay_types if spec.get("nightly_price")]
    monthly = [spec["monthly_price"] / 30 for spec in stay_types if spec.get("monthly_price")]
    prices = nightly or monthly
    return min(prices).quantize(Decimal("0.01")) if prices else None


def missing_for_publication(prop: Property) -> list[dict]:
    missing = []

    def need(attr: str, detail: str) -> None:
        missing.append({"attr": attr, "detail": detail})

    if not prop.title.strip():
        need("title", "Add a title.")
    if len(prop.description.strip()) < 20:
        need("description", "Add a description of at least 20 characters.")
    if not (prop.address and prop.city and prop.country):
        need("address", "Add the address, city and country.")
    if prop.latitude is None or prop.longitude is None:
        need("location", "Add the latitude and longitude.")
    if not prop.stay_types.exists():
        need("stay_types", "Offer at least one stay type with its price.")
    photos = prop.photos.count()
    if photos < settings.LISTING_MIN_PHOTOS:
        need("photos", f"Upload at least {settings.LISTING_MIN_PHOTOS} photos ({photos} so far).")
    return missing


def raise_if_incomplete(prop: Property) -> None:
    missing = missing_for_publication(prop)
    if missing:
        raise field_errors({item["attr"]: item["detail"] for item in missing}, code="missing")
