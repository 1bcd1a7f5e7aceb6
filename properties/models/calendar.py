"""A listing's calendar: blocked dates, seasonal rates, and the iCal feeds blocks come from."""

from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q

from properties.models.listing import Property


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
