"""A host's listing: the property, its type and policy choices, amenities, and the folded
text search compares."""

import secrets
import unicodedata
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Length, Upper
from django.db.models.lookups import Exact

from properties.models.geo import geo_cell


class PropertyType(models.TextChoices):
    APARTMENT = "apartment", "Apartment"
    HOUSE = "house", "House"
    ROOM = "room", "Private room"
    GUESTHOUSE = "guesthouse", "Guesthouse"
    VILLA = "villa", "Villa"
    CABIN = "cabin", "Cabin"
    HOSTEL = "hostel", "Hostel"


class CancellationPolicy(models.TextChoices):
    FLEXIBLE = "flexible", "Flexible"
    MODERATE = "moderate", "Moderate"
    STRICT = "strict", "Strict"


def fold_text(text: str) -> str:
    """``text`` as search compares it: without accents (combining marks dropped after
    compatibility decomposition) and case-folded, so "SÃO Paulo" and "sao paulo" are
    the same and "ÓTIMA" contains "ótima". Stored in the ``*_folded`` columns and
    applied to a search's input, the same on every database."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    stripped = "".join(char for char in decomposed if not unicodedata.combining(char))
    return unicodedata.normalize("NFKC", stripped.casefold())


#: Searchable columns and the folded copy search reads (``Property.save()`` keeps them).
FOLDED_COLUMNS = {
    "title": "title_folded",
    "city": "city_folded",
    "description": "description_folded",
}


def _new_ical_token() -> str:
    return secrets.token_urlsafe(24)


class Amenity(models.Model):
    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=80)
    standout = models.BooleanField(default=False)

    class Meta:
        ordering = ["-standout", "name"]
        verbose_name_plural = "amenities"

    def __str__(self) -> str:
        return self.name


class Property(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"
        UNLISTED = "unlisted", "Unlisted"
        ARCHIVED = "archived", "Archived"

    host = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="properties"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    title = models.CharField(max_length=120, blank=True)
    description = models.TextField(max_length=10_000, blank=True)
    property_type = models.CharField(
        max_length=16, choices=PropertyType.choices, default=PropertyType.APARTMENT
    )
    address = models.CharField(max_length=255, blank=True)
    # Shown to everyone; the address and exact point only to the host and booked guests.
    neighbourhood = models.CharField(max_length=100, blank=True)
    city = models.CharField(max_length=100, blank=True)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166-1 alpha-2")
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    timezone = models.CharField(max_length=64, default="UTC")
    max_guests = models.PositiveSmallIntegerField(default=1)
    bedrooms = models.PositiveSmallIntegerField(default=0)
    beds = models.PositiveSmallIntegerField(default=1)
    bathrooms = models.DecimalField(max_digits=3, decimal_places=1, default=Decimal(1))
    house_rules = models.TextField(max_length=5000, blank=True)
    check_in_time = models.TimeField(default="15:00")
    check_out_time = models.TimeField(default="11:00")
    min_nights = models.PositiveSmallIntegerField(default=1)
    max_nights = models.PositiveSmallIntegerField(default=365)
    advance_notice_days = models.PositiveSmallIntegerField(default=0)
    cancellation_policy = models.CharField(
        max_length=10, choices=CancellationPolicy.choices, default=CancellationPolicy.MODERATE
    )
    instant_book = models.BooleanField(default=False)
    currency = models.CharField(max_length=3, default="EUR")
    cleaning_fee = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal(0))
    weekly_discount_percent = models.DecimalField(
        max_digits=5, decimal_places=2, default=Decimal(0)
    )
    monthly_discount_percent = models.DecimalField(
        max_digits=5, decimal_places=2, default=Decimal(0)
    )
    amenities = models.ManyToManyField(Amenity, blank=True, related_name="properties")

    # Negotiation settings. The floor is private: never shown to guests.
    accepts_offers = models.BooleanField(default=True)
    floor_nightly_price = models.DecimalField(
        max_digits=10, decimal_places=2, null=True, blank=True
    )
    auto_accept_nightly_price = models.DecimalField(
        max_digits=10, decimal_places=2, null=True, blank=True
    )

    # Denormalised for search: the nightly price of the cheapest stay type and reviews.
    base_nightly_price = models.DecimalField(max_digits=10, decimal_places=2, null=True)
    rating_avg = models.DecimalField(max_digits=3, decimal_places=2, null=True, blank=True)
    review_count = models.PositiveIntegerField(default=0)
    rating_categories = models.JSONField(default=dict, blank=True)

    # fold_text() of title, city and description, for search (set by save()).
    title_folded = models.CharField(max_length=120, blank=True, default="", editable=False)
    city_folded = models.CharField(max_length=100, blank=True, default="", editable=False)
    description_folded = models.TextField(blank=True, default="", editable=False)

    ical_token = models.CharField(max_length=64, default=_new_ical_token, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "properties"
        indexes = [
            models.Index(fields=["status", "city", "base_nightly_price"], name="prop_city_price"),
            models.Index(fields=["status", "country"], name="prop_country"),
            models.Index(fields=["status", "latitude", "longitude"], name="prop_geo"),
            # Not partial: PostgreSQL ignores the statistics of a partial index.
            models.Index(geo_cell().expression, name="prop_geo_cell"),
            # Newest first: prop_created_cover (migration 0008) on PostgreSQL, an index
            # that also holds the columns a search checks and shows.
            models.Index(fields=["host", "status"], name="prop_host"),
            # search's city filter: city_folded = fold_text(input), by price or newest
            # first (the commonest search: a city, dates, newest first; migration 0011)
            models.Index(
                fields=["city_folded", "base_nightly_price"],
                name="prop_city_folded_published",
                condition=Q(status="published"),
            ),
            models.Index(
                fields=["city_folded", "-created_at", "-id"],
                name="prop_city_folded_created_pub",
                condition=Q(status="published"),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["draft", "published", "unlisted", "archived"]),
                name="prop_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(min_nights__gte=1) & Q(min_nights__lte=F("max_nights")),
                name="prop_min_le_max_nights",
            ),
            models.CheckConstraint(condition=Q(max_guests__gte=1), name="prop_guests_positive"),
            models.CheckConstraint(condition=Q(cleaning_fee__gte=0), name="prop_cleaning_fee_ge0"),
            models.CheckConstraint(
                condition=Q(weekly_discount_percent__gte=0, weekly_discount_percent__lt=100)
                & Q(monthly_discount_percent__gte=0, monthly_discount_percent__lt=100),
                name="prop_discount_percent_range",
            ),
            models.CheckConstraint(
                condition=Q(latitude__isnull=True) | Q(latitude__gte=-90, latitude__lte=90),
                name="prop_latitude_range",
            ),
            models.CheckConstraint(
                condition=Q(longitude__isnull=True) | Q(longitude__gte=-180, longitude__lte=180),
                name="prop_longitude_range",
            ),
            models.CheckConstraint(
                condition=Q(floor_nightly_price__isnull=True) | Q(floor_nightly_price__gt=0),
                name="prop_floor_positive",
            ),
            models.CheckConstraint(
                condition=Q(floor_nightly_price__isnull=True)
                | Q(auto_accept_nightly_price__isnull=True)
                | Q(floor_nightly_price__lt=F("auto_accept_nightly_price")),
                name="prop_floor_below_auto_accept",
            ),
            models.CheckConstraint(
                condition=Q(auto_accept_nightly_price__isnull=True)
                | Q(auto_accept_nightly_price__gt=0),
                name="prop_auto_accept_positive",
            ),
            models.CheckConstraint(
                condition=Q(base_nightly_price__isnull=True) | Q(base_nightly_price__gt=0),
                name="prop_base_price_positive",
            ),
            models.CheckConstraint(
                condition=Q(rating_avg__isnull=True) | Q(rating_avg__gte=0, rating_avg__lte=5),
                name="prop_rating_range",
            ),
            models.CheckConstraint(
                condition=Q(property_type__in=PropertyType.values), name="prop_type_valid"
            ),
            models.CheckConstraint(
                condition=Q(cancellation_policy__in=CancellationPolicy.values),
                name="prop_policy_valid",
            ),
            models.CheckConstraint(
                condition=Q(advance_notice_days__lte=365), name="prop_advance_notice_range"
            ),
            models.CheckConstraint(
                condition=Q(Exact(Length("currency"), 3), currency=Upper("currency")),
                name="prop_currency_code",
            ),
            models.CheckConstraint(
                condition=Q(country="") | Q(Exact(Length("country"), 2), country=Upper("country")),
                name="prop_country_code",
            ),
        ]

    def __str__(self) -> str:
        return self.title or f"Draft {self.pk}"

    def save(self, *args, **kwargs):
        for column, folded in FOLDED_COLUMNS.items():
            setattr(self, folded, fold_text(getattr(self, column)))
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            touched = [FOLDED_COLUMNS[c] for c in FOLDED_COLUMNS if c in update_fields]
            kwargs["update_fields"] = [*update_fields, *touched]
        super().save(*args, **kwargs)
