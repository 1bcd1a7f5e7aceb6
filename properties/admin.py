"""Back office for listings. Staff read and moderate here; hosts use the API.

Prices, stay types and the calendar are edited through the API (its services keep
the denormalised search price and lock the property row), so they are read-only
inlines here.
"""

from django.contrib import admin

from properties.models import (
    Amenity,
    AvailabilityBlock,
    CalendarFeed,
    Photo,
    Property,
    SeasonalRate,
    StayType,
)


@admin.register(Amenity)
class AmenityAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "standout")
    list_filter = ("standout",)
    search_fields = ("code", "name")


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class StayTypeInline(_ReadOnlyInline):
    model = StayType
    fields = ("kind", "nightly_price", "monthly_price", "breakfast_price", "lunch_price")


class PhotoInline(_ReadOnlyInline):
    model = Photo
    fields = ("image", "caption", "position", "is_cover")


class BlockInline(_ReadOnlyInline):
    model = AvailabilityBlock
    fields = ("start", "end", "note", "source", "external_uid")


class RateInline(_ReadOnlyInline):
    model = SeasonalRate
    fields = ("start", "end", "nightly_price")


@admin.register(Property)
class PropertyAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "title",
        "host",
        "status",
        "city",
        "country",
        "base_nightly_price",
        "currency",
        "rating_avg",
        "created_at",
    )
    list_filter = ("status", "property_type", "instant_book", "country")
    search_fields = ("title", "city", "host__email")
    list_select_related = ("host",)
    raw_id_fields = ("host",)
    filter_horizontal = ("amenities",)
    readonly_fields = (
        "base_nightly_price",
        "rating_avg",
        "review_count",
        "rating_categories",
        "ical_token",
        "created_at",
        "updated_at",
        "published_at",
    )
    inlines = (StayTypeInline, PhotoInline, RateInline, BlockInline)


@admin.register(CalendarFeed)
class CalendarFeedAdmin(admin.ModelAdmin):
    list_display = ("property", "name", "url", "last_synced_at")
    raw_id_fields = ("property",)
