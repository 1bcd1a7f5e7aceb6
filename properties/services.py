"""Property use-cases: the listing workflow, photos and the calendar.

One function per write, one transaction each. Every write locks the property row
first (``select_for_update``), exactly like booking writers, so a block can never
slip in beside a new booking and two edits of one listing never interleave. An
archived listing is read-only (``409 property_archived``); archiving it, which ends its
deals, is :func:`negotiation.lifecycle.property_archive`. The rules a listing keeps
(checked by every write of it) are :mod:`properties.listing_rules`.

``quote_for_stay`` (a read) lives in :mod:`properties.quotes`; it is re-exported
here because bookings and negotiations call it as ``properties.services.quote_for_stay``.
"""

from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from accounts.models import User
from accounts.permissions import EmailUnverified
from core import locks
from core.errors import ConflictError
from core.money import has_more_decimals, minor_digits
from properties import holds
from properties.errors import (
    CalendarDateError,
    CurrencyLocked,
    DatesUnavailable,
    PropertyArchived,
    RateOverlap,
    TooManyPhotos,
    field_errors,
)
from properties.listing_rules import check_listing, list_nightly_price, raise_if_incomplete
from properties.models import (
    Amenity,
    AvailabilityBlock,
    Photo,
    Property,
    SeasonalRate,
    StayType,
    _new_ical_token,
)
from properties.quotes import property_today, quote_for_stay
from properties.selectors import dates_taken

__all__ = [
    "block_create",
    "block_delete",
    "photo_add",
    "photo_delete",
    "photo_set_cover",
    "photos_reorder",
    "property_create",
    "property_publish",
    "property_rotate_ical_token",
    "property_unlist",
    "property_update",
    "quote_for_stay",
    "rate_create",
    "rate_delete",
]

# --- listing workflow --------------------------------------------------------------------------

SIMPLE_FIELDS = (
    "title", "description", "property_type", "address", "neighbourhood", "city", "country",
    "latitude", "longitude", "timezone", "max_guests", "bedrooms", "beds", "bathrooms",
    "house_rules",
    "check_in_time", "check_out_time", "min_nights", "max_nights", "advance_notice_days",
    "cancellation_policy", "instant_book", "currency", "cleaning_fee",
    "weekly_discount_percent", "monthly_discount_percent", "accepts_offers",
    "floor_nightly_price", "auto_accept_nightly_price",
)  # fmt: skip


def _lock(prop: Property) -> Property:
    return locks.lock_one(Property.objects.filter(pk=prop.pk))


def _lock_writable(prop: Property) -> Property:
    """Lock the row; refuse any change to an archived listing."""
    locked = _lock(prop)
    if locked.status == Property.Status.ARCHIVED:
        raise PropertyArchived()
    return locked


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


def _stay_type_specs(prop: Property, fields: dict) -> list[dict]:
    if "stay_types" in fields:
        return fields["stay_types"]
    if prop.pk is None:
        return []
    return list(prop.stay_types.values("kind", "nightly_price", "monthly_price"))


def _write(prop: Property, fields: dict) -> Property:
    _apply(prop, fields)
    stay_types = _stay_type_specs(prop, fields)
    check_listing(prop, stay_types)
    prop.base_nightly_price = list_nightly_price(stay_types)
    prop.save()
    if "stay_types" in fields:
        _replace_stay_types(prop, fields["stay_types"])
    if "amenities" in fields:
        prop.amenities.set(Amenity.objects.filter(code__in=fields["amenities"]))
    return prop


@transaction.atomic
def property_create(*, host: User, **fields) -> Property:
    """A draft with whatever was given; it is completed with PATCHes, then published."""
    return _write(Property(host=host), fields)


@transaction.atomic
def property_update(*, prop: Property, **fields) -> Property:
    """Any subset of fields. A published listing must stay complete (400 otherwise,
    listing what would be missing, and nothing is written). The currency cannot change
    while deals in the current one run (``409 currency_locked``)."""
    prop = _lock_writable(prop)
    if fields.get("currency") and fields["currency"].upper() != prop.currency:
        _refuse_if_currency_locked(prop)
    prop = _write(prop, fields)
    if prop.status == Property.Status.PUBLISHED:
        raise_if_incomplete(prop)
    return prop


def _refuse_if_currency_locked(prop: Property) -> None:
    """Deals priced in the current currency (open negotiations that have not lapsed,
    bookings that hold dates or are ahead: each counted by its app through
    :func:`properties.holds.running_deals`): while any runs, it stays. Caller holds the
    property lock."""
    running = holds.running_deals(prop=prop, now=timezone.now())
    if any(deals.count for deals in running):
        raise CurrencyLocked(
            "The currency cannot change while "
            + " and ".join(deals.phrase for deals in running)
            + ".",
            **{deals.key: deals.count for deals in running},
        )


@transaction.atomic
def property_publish(*, prop: Property) -> Property:
    """Draft or unlisted -> published, once complete (400 lists each missing item)."""
    prop = _lock(prop)
    if prop.status == Property.Status.ARCHIVED:
        raise ConflictError("An archived listing cannot be published.", code="invalid_transition")
    if not prop.host.is_email_verified:
        raise EmailUnverified("Verify your email address before publishing a listing.")
    raise_if_incomplete(prop)
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
def property_rotate_ical_token(*, prop: Property) -> Property:
    prop = _lock_writable(prop)
    prop.ical_token = _new_ical_token()
    prop.save(update_fields=["ical_token", "updated_at"])
    return prop


# --- photos ---------------------------------------------------------------------------------------


@transaction.atomic
def photo_add(*, prop: Property, image, caption: str = "") -> Photo:
    """Append a photo (the first one becomes the cover). The file is already validated."""
    prop = _lock_writable(prop)
    count = prop.photos.count()
    if count >= settings.PHOTO_MAX_PER_PROPERTY:
        raise TooManyPhotos(
            f"A property can have at most {settings.PHOTO_MAX_PER_PROPERTY} photos."
        )
    position = (prop.photos.aggregate(m=Max("position"))["m"] or 0) + 1
    photo = Photo(property=prop, caption=caption, position=position, is_cover=count == 0)
    photo.image.save(image.name, image, save=False)
    try:
        with transaction.atomic():
            photo.save(force_insert=True)
    except Exception:
        photo.image.storage.delete(photo.image.name)  # no orphan file without its row
        raise
    return photo


@transaction.atomic
def photo_delete(*, photo: Photo) -> None:
    """Delete a photo (the file goes after commit); the next one becomes the cover."""
    prop = _lock_writable(photo.property)
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
    _lock_writable(photo.property)
    Photo.objects.filter(property_id=photo.property_id, is_cover=True).update(is_cover=False)
    photo.is_cover = True
    photo.save(update_fields=["is_cover"])
    return photo


@transaction.atomic
def photos_reorder(*, prop: Property, photo_ids: list[int]) -> None:
    """``photo_ids`` must list every photo of the property exactly once."""
    prop = _lock_writable(prop)
    existing = set(prop.photos.values_list("pk", flat=True))
    if set(photo_ids) != existing or len(photo_ids) != len(existing):
        raise field_errors({"order": "List every photo of the property exactly once."})
    for position, photo_id in enumerate(photo_ids, start=1):
        Photo.objects.filter(pk=photo_id).update(position=position)


# --- calendar ------------------------------------------------------------------------------------


def _check_calendar_range(prop: Property, start: date, end: date) -> None:
    """Half-open ``[start, end)``: not entirely past, not beyond the booking horizon."""
    today = property_today(prop)
    if end <= today:
        raise CalendarDateError("These dates are in the past.", code="past_dates")
    if end > today + timedelta(days=settings.BOOKING_MAX_ADVANCE_DAYS):
        raise CalendarDateError("Dates can be at most two years ahead.", code="too_far_ahead")


@transaction.atomic
def block_create(
    *, prop: Property, start: date, end: date, note: str = "", note_public: bool = False
) -> AvailabilityBlock:
    """Close ``[start, end)``; refused (409 dates_unavailable) over a holding booking.

    The note stays private (the iCal export says "Not available") unless ``note_public``."""
    prop = _lock_writable(prop)
    _check_calendar_range(prop, start, end)
    if dates_taken(property_id=prop.pk, start=start, end=end, include_blocks=False):
        raise DatesUnavailable("A booking holds some of these dates.")
    return AvailabilityBlock.objects.create(
        property=prop, start=start, end=end, note=note, note_public=note_public
    )


@transaction.atomic
def block_delete(*, block: AvailabilityBlock) -> None:
    _lock_writable(block.property)
    block.delete()


@transaction.atomic
def rate_create(*, prop: Property, start: date, end: date, nightly_price: Decimal) -> SeasonalRate:
    """A nightly price for ``[start, end)``; refused (409 rate_overlap) over another rate."""
    prop = _lock_writable(prop)
    _check_calendar_range(prop, start, end)
    if has_more_decimals(nightly_price, prop.currency):
        digits = minor_digits(prop.currency)
        raise field_errors(
            {"nightly_price": f"{prop.currency} amounts have at most {digits} decimals."}
        )
    if SeasonalRate.objects.filter(property=prop, start__lt=end, end__gt=start).exists():
        raise RateOverlap()
    _mark_price_changed(prop)
    return SeasonalRate.objects.create(
        property=prop, start=start, end=end, nightly_price=nightly_price
    )


@transaction.atomic
def rate_delete(*, rate: SeasonalRate) -> None:
    _mark_price_changed(_lock_writable(rate.property))
    rate.delete()


def _mark_price_changed(prop: Property) -> None:
    """A new listing version (``updated_at``) for a price change outside the row: a quote
    made from the previous version is made again (``bookings.services.create``). Every
    other price input is a field of the row or a stay type, written with it."""
    prop.save(update_fields=["updated_at"])
