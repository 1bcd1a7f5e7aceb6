"""Property use-cases: the listing workflow, photos, calendar, quotes.

Writes that touch dates (blocks, rates) lock the property row first, exactly
like booking writers, so a block can never slip in beside a new booking.
"""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from rest_framework import serializers

from accounts.models import User
from config.errors import ApplicationError, ConflictError
from properties import pricing
from properties.models import (
    Amenity,
    AvailabilityBlock,
    Photo,
    Property,
    SeasonalRate,
    StayKind,
    StayType,
    _new_ical_token,
)

PAYING_GUEST_MIN_NIGHTS = 28


class QuoteError(ApplicationError):
    default_code = "invalid_stay"


class DatesUnavailable(ConflictError):
    default_code = "dates_unavailable"
    default_detail = "These dates are no longer available."


class NotPublishable(ApplicationError):
    default_code = "incomplete_listing"


class TooManyPhotos(ApplicationError):
    default_code = "too_many_photos"
    default_detail = "A property can have at most 30 photos."


# --- listing workflow --------------------------------------------------------------------------

SIMPLE_FIELDS = (
    "title", "description", "property_type", "address", "city", "country", "latitude",
    "longitude", "timezone", "max_guests", "bedrooms", "beds", "bathrooms", "house_rules",
    "check_in_time", "check_out_time", "min_nights", "max_nights", "advance_notice_days",
    "cancellation_policy", "instant_book", "currency", "cleaning_fee",
    "weekly_discount_percent", "monthly_discount_percent", "accepts_offers",
    "floor_nightly_price", "auto_accept_nightly_price",
)  # fmt: skip


def _lock(prop: Property) -> Property:
    return Property.objects.select_for_update().get(pk=prop.pk)


def _apply(prop: Property, fields: dict) -> None:
    for name in SIMPLE_FIELDS:
        if name in fields:
            setattr(prop, name, fields[name])
    if fields.get("country"):
        prop.country = fields["country"].upper()
    if fields.get("currency"):
        prop.currency = fields["currency"].upper()


def _replace_stay_types(prop: Property, stay_types: list[dict]) -> None:
    prop.stay_types.all().delete()
    StayType.objects.bulk_create(StayType(property=prop, **spec) for spec in stay_types)


def _validate_invariants(prop: Property, stay_types: list[dict]) -> None:
    """Rules over several fields, checked before writing (the database re-checks them)."""
    errors: dict[str, str] = {}
    if prop.min_nights > prop.max_nights:
        errors["min_nights"] = "Minimum nights cannot exceed maximum nights."
    floor, auto = prop.floor_nightly_price, prop.auto_accept_nightly_price
    nightly = [spec["nightly_price"] for spec in stay_types if spec.get("nightly_price")]
    list_price = min(nightly) if nightly else None
    if floor is not None and auto is not None and floor >= auto:
        errors["floor_nightly_price"] = "The floor must be below the auto-accept price."
    if list_price is not None:
        if auto is not None and auto >= list_price:
            errors["auto_accept_nightly_price"] = "Auto-accept must be below the nightly price."
        if floor is not None and floor >= list_price:
            errors["floor_nightly_price"] = "The floor must be below the nightly price."
    if errors:
        raise serializers.ValidationError(errors)


def _stay_type_specs(prop: Property, fields: dict) -> list[dict]:
    if "stay_types" in fields:
        return fields["stay_types"]
    if prop.pk is None:
        return []
    return list(prop.stay_types.values("kind", "nightly_price", "monthly_price"))


def _base_price(stay_types: list[dict]) -> Decimal | None:
    nightly = [spec["nightly_price"] for spec in stay_types if spec.get("nightly_price")]
    monthly = [spec["monthly_price"] / 30 for spec in stay_types if spec.get("monthly_price")]
    prices = nightly or monthly
    return min(prices).quantize(Decimal("0.01")) if prices else None


def _write(prop: Property, fields: dict) -> Property:
    _apply(prop, fields)
    stay_types = _stay_type_specs(prop, fields)
    _validate_invariants(prop, stay_types)
    prop.base_nightly_price = _base_price(stay_types)
    prop.save()
    if "stay_types" in fields:
        _replace_stay_types(prop, fields["stay_types"])
    if "amenities" in fields:
        prop.amenities.set(Amenity.objects.filter(code__in=fields["amenities"]))
    return prop


@transaction.atomic
def property_create(*, host: User, **fields) -> Property:
    return _write(Property(host=host), fields)


@transaction.atomic
def property_update(*, prop: Property, **fields) -> Property:
    return _write(_lock(prop), fields)


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


@transaction.atomic
def property_publish(*, prop: Property) -> Property:
    prop = _lock(prop)
    if prop.status == Property.Status.ARCHIVED:
        raise ConflictError("An archived listing cannot be published.", code="invalid_transition")
    missing = missing_for_publication(prop)
    if missing:
        raise serializers.ValidationError(
            {
                item["attr"]: [serializers.ErrorDetail(item["detail"], code="missing")]
                for item in missing
            }
        )
    prop.status = Property.Status.PUBLISHED
    prop.published_at = prop.published_at or timezone.now()
    prop.save(update_fields=["status", "published_at", "updated_at"])
    return prop


@transaction.atomic
def property_unlist(*, prop: Property) -> Property:
    prop = _lock(prop)
    if prop.status != Property.Status.PUBLISHED:
        raise ConflictError("Only a published listing can be unlisted.", code="invalid_transition")
    prop.status = Property.Status.UNLISTED
    prop.save(update_fields=["status", "updated_at"])
    return prop


@transaction.atomic
def property_archive(*, prop: Property) -> Property:
    """DELETE archives: bookings keep their property; the listing leaves search."""
    prop = _lock(prop)
    prop.status = Property.Status.ARCHIVED
    prop.save(update_fields=["status", "updated_at"])
    return prop


@transaction.atomic
def property_rotate_ical_token(*, prop: Property) -> Property:
    prop = _lock(prop)
    prop.ical_token = _new_ical_token()
    prop.save(update_fields=["ical_token", "updated_at"])
    return prop


# --- photos ---------------------------------------------------------------------------------------


@transaction.atomic
def photo_add(*, prop: Property, image, caption: str = "") -> Photo:
    prop = _lock(prop)
    count = prop.photos.count()
    if count >= settings.PHOTO_MAX_PER_PROPERTY:
        raise TooManyPhotos()
    position = (prop.photos.aggregate(m=Max("position"))["m"] or 0) + 1
    return Photo.objects.create(
        property=prop, image=image, caption=caption, position=position, is_cover=count == 0
    )


@transaction.atomic
def photo_delete(*, photo: Photo) -> None:
    prop = _lock(photo.property)
    was_cover, name, storage = photo.is_cover, photo.image.name, photo.image.storage
    photo.delete()
    if was_cover:
        first = prop.photos.order_by("position", "pk").first()
        if first:
            first.is_cover = True
            first.save(update_fields=["is_cover"])
    transaction.on_commit(lambda: storage.delete(name))


@transaction.atomic
def photo_set_cover(*, photo: Photo) -> Photo:
    _lock(photo.property)
    Photo.objects.filter(property_id=photo.property_id, is_cover=True).update(is_cover=False)
    photo.is_cover = True
    photo.save(update_fields=["is_cover"])
    return photo


@transaction.atomic
def photos_reorder(*, prop: Property, photo_ids: list[int]) -> None:
    prop = _lock(prop)
    existing = set(prop.photos.values_list("pk", flat=True))
    if set(photo_ids) != existing or len(photo_ids) != len(existing):
        raise serializers.ValidationError(
            {"order": "List every photo of the property exactly once."}, code="invalid_order"
        )
    for position, photo_id in enumerate(photo_ids, start=1):
        Photo.objects.filter(pk=photo_id).update(position=position)


# --- calendar ------------------------------------------------------------------------------------


@transaction.atomic
def block_create(*, prop: Property, start: date, end: date, note: str = "") -> AvailabilityBlock:
    from bookings.models import Booking

    prop = _lock(prop)
    if Booking.objects.filter(property=prop).holding().overlapping(start, end).exists():
        raise DatesUnavailable("A booking holds some of these dates.")
    return AvailabilityBlock.objects.create(property=prop, start=start, end=end, note=note)


@transaction.atomic
def block_delete(*, block: AvailabilityBlock) -> None:
    _lock(block.property)
    block.delete()


@transaction.atomic
def rate_create(*, prop: Property, start: date, end: date, nightly_price: Decimal) -> SeasonalRate:
    prop = _lock(prop)
    if SeasonalRate.objects.filter(property=prop, start__lt=end, end__gt=start).exists():
        raise ConflictError("This range overlaps another seasonal rate.", code="rate_overlap")
    return SeasonalRate.objects.create(
        property=prop, start=start, end=end, nightly_price=nightly_price
    )


@transaction.atomic
def rate_delete(*, rate: SeasonalRate) -> None:
    _lock(rate.property)
    rate.delete()


# --- quotes --------------------------------------------------------------------------------------


def property_today(prop: Property, now: datetime | None = None) -> date:
    return (now or timezone.now()).astimezone(ZoneInfo(prop.timezone or "UTC")).date()


def quote_for_stay(
    *,
    property: Property,
    check_in: date,
    check_out: date,
    guests: int,
    stay_type: str,
    meals: dict | None = None,
    now: datetime | None = None,
) -> pricing.Quote:
    """Validate a stay against the listing's rules and price it. Availability is separate."""
    prop = property
    nights = (check_out - check_in).days
    today = property_today(prop, now)
    if nights < 1:
        raise QuoteError("Check-out must be after check-in.", code="invalid_dates")
    if check_in < today:
        raise QuoteError("Check-in cannot be in the past.", code="past_dates")
    if check_out > today + timedelta(days=settings.BOOKING_MAX_ADVANCE_DAYS):
        raise QuoteError("Dates can be at most two years ahead.", code="too_far_ahead")
    if check_in < today + timedelta(days=prop.advance_notice_days):
        raise QuoteError(
            f"This host needs {prop.advance_notice_days} days of notice.", code="advance_notice"
        )
    if guests > prop.max_guests:
        raise QuoteError(f"At most {prop.max_guests} guests.", code="too_many_guests")
    offered = {s.kind: s for s in prop.stay_types.all()}
    if stay_type not in offered:
        raise QuoteError("This stay type is not offered here.", code="stay_type_not_offered")
    min_nights = prop.min_nights
    if stay_type == StayKind.PAYING_GUEST:
        min_nights = max(min_nights, PAYING_GUEST_MIN_NIGHTS)
    if nights < min_nights:
        raise QuoteError(f"The minimum stay is {min_nights} nights.", code="min_nights")
    if nights > prop.max_nights:
        raise QuoteError(f"The maximum stay is {prop.max_nights} nights.", code="max_nights")
    chosen = tuple(meal for meal, wanted in (meals or {}).items() if wanted)
    spec = offered[stay_type]
    meal_prices = {
        "breakfast": spec.breakfast_price,
        "lunch": spec.lunch_price,
        "dinner": spec.dinner_price,
    }
    if chosen and stay_type != StayKind.WITH_MEALS:
        raise QuoteError("Meals come only with the with_meals stay type.", code="meals_not_offered")
    for meal in chosen:
        if meal not in meal_prices or meal_prices[meal] is None:
            raise QuoteError(f"{meal} is not offered here.", code="meals_not_offered")
    rates = tuple(
        pricing.Rate(r.start, r.end, r.nightly_price)
        for r in SeasonalRate.objects.filter(property=prop, start__lt=check_out, end__gt=check_in)
    )
    return pricing.quote(
        pricing.PriceInput(
            kind=stay_type,
            check_in=check_in,
            check_out=check_out,
            guests=guests,
            currency=prop.currency,
            nightly_price=spec.nightly_price,
            monthly_price=spec.monthly_price,
            rates=rates if stay_type != StayKind.PAYING_GUEST else (),
            meal_prices=meal_prices,
            meals=chosen,
            weekly_discount_percent=prop.weekly_discount_percent,
            monthly_discount_percent=prop.monthly_discount_percent,
            cleaning_fee=prop.cleaning_fee,
            service_fee_percent=settings.SERVICE_FEE_PERCENT,
        )
    )
