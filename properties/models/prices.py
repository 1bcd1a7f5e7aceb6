"""What a listing offers: its stay types and their prices."""

from django.db import models
from django.db.models import Q

from properties.models.listing import Property


class StayKind(models.TextChoices):
    STANDARD = "standard", "Standard (nightly)"
    WITH_MEALS = "with_meals", "With meals"
    PAYING_GUEST = "paying_guest", "Paying guest (monthly)"


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


class PriceSummary(models.Model):
    """What search's price estimate needs of a listing's stay types and seasonal rates, one
    row per listing that has had any: the nightly price of each nightly stay type, the
    paying guest's monthly price, the lowest nightly price of any stay type (what a
    seasonal rate stands for: ``quotes.stay_type_rates``) and the span of its seasonal
    rates (from the first one's start to the last one's end).

    Kept by the database, not by the application: triggers on ``properties_staytype`` and
    ``properties_seasonalrate`` (migration 0012) refresh the row after every insert,
    update and delete, whoever writes (services, the admin, fixtures, bulk loads). Never
    written here. On SQLite a migration that rebuilds either table drops its triggers:
    such a migration must install them again (0012's ``install_triggers``)."""

    property = models.OneToOneField(
        Property, primary_key=True, on_delete=models.CASCADE, related_name="price_summary"
    )
    standard_nightly = models.DecimalField(max_digits=10, decimal_places=2, null=True)
    with_meals_nightly = models.DecimalField(max_digits=10, decimal_places=2, null=True)
    paying_guest_monthly = models.DecimalField(max_digits=12, decimal_places=2, null=True)
    lowest_nightly = models.DecimalField(max_digits=10, decimal_places=2, null=True)
    rates_start = models.DateField(null=True)
    rates_end = models.DateField(null=True)

    def __str__(self) -> str:
        return f"Price summary of {self.property_id}"
