"""Listings: a host's property, its stay types and prices, amenities, photos and calendar."""

import posixpath
import secrets
import unicodedata
import uuid
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Cast, Floor, Length, Upper
from django.db.models.lookups import Exact, Lookup


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


class StayKind(models.TextChoices):
    STANDARD = "standard", "Standard (nightly)"
    WITH_MEALS = "with_meals", "With meals"
    PAYING_GUEST = "paying_guest", "Paying guest (monthly)"


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


GEO_CELLS_PER_DEGREE = 40  # a 0.025 degree grid: cells about 2.8 km high
GEO_CELL_ROW = 16_000  # more than the 14,400 cells of one row of longitude


class GeoCellField(models.BigIntegerField):
    """The type of :func:`geo_cell`: a ``bigint`` with an ``any_of`` lookup."""


class GeoCellsField(models.Field):
    """A list of cells as one query parameter (not a model field): an array literal
    (``{1,2,3}``, cast to ``bigint[]`` in the SQL) on PostgreSQL, a JSON array elsewhere.
    Text either way: psycopg quotes a string five times faster than it writes a list
    of a few hundred integers as an array."""

    def get_db_prep_value(self, value, connection, prepared=False):
        cells = ",".join(str(int(cell)) for cell in value)
        return f"{{{cells}}}" if connection.vendor == "postgresql" else f"[{cells}]"


@GeoCellField.register_lookup
class AnyOf(Lookup):
    """``cell = ANY(%s::bigint[])`` on PostgreSQL: one array parameter instead of an
    ``IN`` list of hundreds (their quoting cost a search about 2 ms of Python); the
    planner estimates both alike. Elsewhere ``IN`` the elements of a JSON array, so the
    SQL does not depend on how many cells there are either."""

    lookup_name = "any_of"
    prepare_rhs = False

    def get_prep_lookup(self):
        if hasattr(self.rhs, "resolve_expression"):
            return self.rhs
        return models.Value(list(self.rhs), output_field=GeoCellsField())

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        params = (*lhs_params, *rhs_params)
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY({rhs}::bigint[])", params
        # lhs and rhs are compiled SQL with placeholders; the cells are parameters
        return f"{lhs} IN (SELECT value FROM json_each({rhs}))", params  # noqa: S608


def geo_cell() -> models.Expression:
    """The grid cell of a listing's coordinates as one integer:
    ``floor(latitude * 40) * 16000 + floor(longitude * 40)``.

    Indexed (``prop_geo_cell``), so that PostgreSQL keeps statistics of how listings
    cluster: it estimates the two ranges of a bounding box as if latitude and longitude
    were independent, and in a city's box it expected 288 listings where there were
    8,570, then picked the wrong plan (docs/benchmarks.md). Radius search filters on
    the cells the circle touches instead.
    """

    def cell(field: str) -> models.Expression:
        return Cast(Floor(F(field) * GEO_CELLS_PER_DEGREE), models.BigIntegerField())

    return models.ExpressionWrapper(
        cell("latitude") * GEO_CELL_ROW + cell("longitude"), output_field=GeoCellField()
    )


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


class StayType(models.Model):
    property = models.ForeignKey(Property, on_delete=models.CASCADE, related_name="stay_types")
    kind = models.CharField(max_length=16, choices=StayKind.choices)
    nightly_price = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    monthly_price = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    breakfast_price = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    lunch_price = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    dinner_price = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)

    class Meta:
        ordering = ["property", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["property", "kind"], name="staytype_unique_kind"),
            models.CheckConstraint(
                condition=Q(kind__in=StayKind.values), name="staytype_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(nightly_price__isnull=True) | Q(nightly_price__gt=0),
                name="staytype_nightly_positive",
            ),
            models.CheckConstraint(
                condition=Q(monthly_price__isnull=True) | Q(monthly_price__gt=0),
                name="staytype_monthly_positive",
            ),
            models.CheckConstraint(
                condition=(Q(breakfast_price__isnull=True) | Q(breakfast_price__gte=0))
                & (Q(lunch_price__isnull=True) | Q(lunch_price__gte=0))
                & (Q(dinner_price__isnull=True) | Q(dinner_price__gte=0)),
                name="staytype_meal_prices_ge0",
            ),
            models.CheckConstraint(
                condition=~Q(kind="paying_guest") | Q(monthly_price__isnull=False),
                name="staytype_paying_guest_has_monthly",
            ),
            models.CheckConstraint(
                condition=Q(kind="paying_guest") | Q(nightly_price__isnull=False),
                name="staytype_nightly_kinds_have_nightly",
            ),
            models.CheckConstraint(
                condition=~Q(kind="with_meals")
                | Q(breakfast_price__isnull=False)
                | Q(lunch_price__isnull=False)
                | Q(dinner_price__isnull=False),
                name="staytype_with_meals_has_a_meal",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} of {self.property_id}"


PHOTO_EXTENSIONS = (".jpg", ".png", ".webp")


def photo_upload_to(instance: "Photo", filename: str) -> str:
    """A random name; the extension only if it is one of ours (set from the content)."""
    extension = posixpath.splitext(filename)[1].lower()
    suffix = extension if extension in PHOTO_EXTENSIONS else ""
    return f"properties/{instance.property_id}/{uuid.uuid4().hex}{suffix}"


class Photo(models.Model):
    property = models.ForeignKey(Property, on_delete=models.CASCADE, related_name="photos")
    image = models.ImageField(upload_to=photo_upload_to)
    caption = models.CharField(max_length=200, blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    is_cover = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["property", "-is_cover", "position", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["property"], condition=Q(is_cover=True), name="photo_one_cover"
            ),
        ]

    def __str__(self) -> str:
        return f"Photo {self.pk} of {self.property_id}"


class AvailabilityBlock(models.Model):
    """Dates a host closed, ``[start, end)``; manual or imported from an iCal feed."""

    property = models.ForeignKey(Property, on_delete=models.CASCADE, related_name="blocks")
    start = models.DateField()
    end = models.DateField()
    note = models.CharField(max_length=200, blank=True)
    # A manual block's note is private (the iCal export says "Not available") unless the
    # host marks it public; an imported block's note is never exported.
    note_public = models.BooleanField(default=False)
    source = models.ForeignKey(
        "properties.CalendarFeed",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="blocks",
    )
    external_uid = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["property", "start"]
        indexes = [models.Index(fields=["property", "start", "end"], name="block_property_dates")]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="block_end_after_start"),
            models.UniqueConstraint(
                fields=["source", "external_uid"],
                condition=Q(source__isnull=False),
                name="block_unique_external_uid",
            ),
        ]

    def __str__(self) -> str:
        return f"Block {self.start}..{self.end} of {self.property_id}"


class SeasonalRate(models.Model):
    property = models.ForeignKey(Property, on_delete=models.CASCADE, related_name="rates")
    start = models.DateField()
    end = models.DateField()
    nightly_price = models.DecimalField(
        max_digits=10, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )

    class Meta:
        ordering = ["property", "start"]
        indexes = [models.Index(fields=["property", "start", "end"], name="rate_property_dates")]
        # No two rates of a property overlap: checked under the property lock; on
        # PostgreSQL an exclusion constraint (migration 0004) is the backstop.
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="rate_end_after_start"),
            models.CheckConstraint(condition=Q(nightly_price__gt=0), name="rate_price_positive"),
        ]

    def __str__(self) -> str:
        return f"Rate {self.start}..{self.end}: {self.nightly_price}"


class CalendarFeed(models.Model):
    """An external iCal feed whose events become blocks of the property."""

    property = models.ForeignKey(Property, on_delete=models.CASCADE, related_name="feeds")
    url = models.URLField(max_length=1000)
    name = models.CharField(max_length=100, blank=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["property", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["property", "url"], name="feed_unique_url"),
        ]

    def __str__(self) -> str:
        return self.name or self.url
