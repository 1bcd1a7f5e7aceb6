"""Bookings: the dates a guest holds at a property, their price snapshot and history.

Holding states (``pending_host``, ``awaiting_payment``, ``confirmed``) keep the dates:
no two of them may overlap for one property. Writers lock the property row and
check before inserting; on PostgreSQL an exclusion constraint (migration 0002)
is the backstop. A hold is treated as expired from ``hold_expires_at`` onward by
every read and write, whether or not the periodic sweep has recorded it yet.
"""

import builtins

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone


class BookingStatus(models.TextChoices):
    PENDING_HOST = "pending_host", "Waiting for the host"
    AWAITING_PAYMENT = "awaiting_payment", "Waiting for payment"
    CONFIRMED = "confirmed", "Confirmed"
    DECLINED = "declined", "Declined"
    EXPIRED = "expired", "Expired"
    CANCELLED = "cancelled", "Cancelled"
    COMPLETED = "completed", "Completed"


HOLDING_STATUSES = (
    BookingStatus.PENDING_HOST,
    BookingStatus.AWAITING_PAYMENT,
    BookingStatus.CONFIRMED,
)


class BookingQuerySet(models.QuerySet):
    def holding(self, now=None):
        """Bookings that hold their dates right now (expired holds excluded lazily)."""
        now = now or timezone.now()
        return self.filter(status__in=HOLDING_STATUSES).filter(
            Q(hold_expires_at__isnull=True) | Q(hold_expires_at__gt=now)
        )

    def overlapping(self, start, end):
        """Half-open ranges: ``[check_in, check_out)`` meets ``[start, end)``."""
        return self.filter(check_in__lt=end, check_out__gt=start)


class Booking(models.Model):
    property = models.ForeignKey(
        "properties.Property", on_delete=models.PROTECT, related_name="bookings"
    )
    guest = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="bookings"
    )
    check_in = models.DateField()
    check_out = models.DateField()
    guests = models.PositiveSmallIntegerField()
    stay_type = models.CharField(max_length=16)
    meals = models.JSONField(default=dict, blank=True)
    price = models.JSONField(default=dict, help_text="Quote snapshot with line items.")
    total = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=20, choices=BookingStatus.choices)
    hold_expires_at = models.DateTimeField(null=True, blank=True)
    cancellation_policy = models.CharField(max_length=16)
    idempotency_key = models.CharField(max_length=255, blank=True)
    request_fingerprint = models.CharField(max_length=64, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = BookingQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["property", "check_in", "check_out"], name="booking_property_dates"
            ),
            models.Index(fields=["guest", "status"], name="booking_guest_status"),
            # Search's "free for these dates" (properties.selectors.free_for_dates) probes
            # a listing's holding bookings: every column it reads is in the index, so the
            # probe never visits the table (docs/benchmarks.md, search item 10).
            models.Index(
                fields=["property", "check_in", "check_out", "hold_expires_at"],
                condition=Q(status__in=HOLDING_STATUSES),
                name="booking_holding_dates",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(check_out__gt=models.F("check_in")),
                name="booking_checkout_after_checkin",
            ),
            models.CheckConstraint(condition=Q(guests__gt=0), name="booking_guests_positive"),
            models.CheckConstraint(condition=Q(total__gt=0), name="booking_total_positive"),
            models.CheckConstraint(
                condition=Q(status__in=BookingStatus.values), name="booking_status_valid"
            ),
            models.UniqueConstraint(
                fields=["guest", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="booking_idempotency_key_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"Booking {self.pk} {self.check_in}..{self.check_out} ({self.status})"

    @builtins.property  # the ``property`` field shadows the builtin inside this class
    def nights(self) -> int:
        return (self.check_out - self.check_in).days


class BookingStatusChange(models.Model):
    """One row per transition: who moved the booking from what to what, and why."""

    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="history")
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(max_length=255, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.booking_id}: {self.from_status or '-'} -> {self.to_status}"


class Payment(models.Model):
    """One call to the payment gateway: written ``pending`` before the call, settled
    (``succeeded`` / ``failed``) after it, so a crash in between leaves a row the sweep
    can finish (``bookings.charges``, docs/money.md "Payment steps").

    An authorization is made before the booking's lock is taken, so it has no booking
    until the booking takes it (``claim``); one nobody took is voided. ``parent`` is the
    row a later step acts on: the authorization a capture or void uses, the capture a
    refund returns.
    """

    class Kind(models.TextChoices):
        AUTHORIZE = "authorize"
        CAPTURE = "capture"
        VOID = "void"
        REFUND = "refund"

    class Status(models.TextChoices):
        PENDING = "pending"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    booking = models.ForeignKey(
        Booking, null=True, blank=True, on_delete=models.PROTECT, related_name="payments"
    )
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="followups"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=10, choices=Status.choices)
    gateway = models.CharField(max_length=32)
    gateway_reference = models.CharField(max_length=128, blank=True)
    idempotency_key = models.CharField(max_length=128)  # unique: Meta.constraints
    created_at = models.DateTimeField(auto_now_add=True)
    settled_at = models.DateTimeField(null=True, blank=True)
    # The stay an authorization made before its booking is for: while it is pending, a
    # request for overlapping dates waits for it rather than authorizing a card that
    # would lose the race (bookings.services.dates.wait_for_rival_authorizations).
    # No foreign key constraint: its check would take a share lock on the listing's row,
    # so an authorization would wait behind the property lock it must come before.
    # Listings are archived, never deleted.
    property = models.ForeignKey(
        "properties.Property",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        db_index=False,  # only the partial index below reads it
    )
    check_in = models.DateField(null=True, blank=True)
    check_out = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=Q(status="pending"),
                name="payment_pending",
            ),
            models.Index(  # a few rows at a time: authorizations under way
                fields=["property", "check_in"],
                condition=Q(kind="authorize", status="pending", property__isnull=False),
                name="payment_authorizing_stay",
            ),
            models.Index(
                fields=["created_at"],
                condition=Q(kind="authorize", booking__isnull=True),
                name="payment_unclaimed_auth",
            ),
        ]
        constraints = [
            # A constraint rather than unique=True: on PostgreSQL that would add a second
            # index (varchar_pattern_ops, for LIKE) that every insert and update pays for
            # and no query uses.
            models.UniqueConstraint(fields=["idempotency_key"], name="payment_idempotency_key"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="payment_amount_not_negative"),
            models.CheckConstraint(
                condition=~Q(status="succeeded") | ~Q(gateway_reference=""),
                name="payment_succeeded_has_reference",
            ),
            models.CheckConstraint(  # only an authorization (and its void) precedes a booking
                condition=Q(booking__isnull=False) | Q(kind__in=("authorize", "void")),
                name="payment_booking_unless_authorization",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount} {self.currency} ({self.status})"


class BuiltinGatewayCall(models.Model):
    """What the built-in gateway (``bookings.payments.DatabaseGateway``) remembers, as a
    provider does: each call it carried out, by idempotency key. A repeated key returns
    the first result, and ``lookup`` answers "did this call happen?" after a crash.
    Not our record of payments (that is :class:`Payment`)."""

    idempotency_key = models.CharField(max_length=128)  # unique: Meta.constraints
    operation = models.CharField(max_length=10)
    reference = models.CharField(max_length=128)
    amount = models.DecimalField(max_digits=12, decimal_places=2, null=True)
    currency = models.CharField(max_length=3, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [  # not unique=True: see Payment
            models.UniqueConstraint(fields=["idempotency_key"], name="gateway_call_idempotency_key")
        ]

    def __str__(self) -> str:
        return f"{self.operation} {self.idempotency_key}"


# The state machine: from-status -> statuses it may move to (DESIGN.md section 3).
TRANSITIONS: dict[str, frozenset[str]] = {
    BookingStatus.PENDING_HOST: frozenset(
        {
            BookingStatus.CONFIRMED,
            BookingStatus.DECLINED,
            BookingStatus.EXPIRED,
            BookingStatus.CANCELLED,
        }
    ),
    BookingStatus.AWAITING_PAYMENT: frozenset(
        {BookingStatus.CONFIRMED, BookingStatus.EXPIRED, BookingStatus.CANCELLED}
    ),
    BookingStatus.CONFIRMED: frozenset({BookingStatus.CANCELLED, BookingStatus.COMPLETED}),
    BookingStatus.DECLINED: frozenset(),
    BookingStatus.EXPIRED: frozenset(),
    BookingStatus.CANCELLED: frozenset(),
    BookingStatus.COMPLETED: frozenset(),
}


REVIEW_CATEGORIES = ("cleanliness", "accuracy", "communication", "location", "check_in", "value")


def _rating_field(**kwargs):
    return models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(5)], **kwargs
    )


class Review(models.Model):
    """One review per side of a completed stay. Double-blind: ``published_at`` stays
    empty until both sides have written or the 14-day window has closed."""

    class Side(models.TextChoices):
        GUEST = "guest", "Guest reviews the stay"
        HOST = "host", "Host reviews the guest"

    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="reviews")
    property = models.ForeignKey(
        "properties.Property", on_delete=models.CASCADE, related_name="reviews"
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reviews_received"
    )
    side = models.CharField(max_length=5, choices=Side.choices)
    overall = _rating_field()
    cleanliness = _rating_field(null=True, blank=True)
    accuracy = _rating_field(null=True, blank=True)
    communication = _rating_field(null=True, blank=True)
    location = _rating_field(null=True, blank=True)
    check_in = _rating_field(null=True, blank=True)
    value = _rating_field(null=True, blank=True)
    text = models.TextField(max_length=5000, blank=True)
    host_reply = models.TextField(max_length=2000, blank=True)
    host_reply_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-published_at", "-pk"]
        indexes = [models.Index(fields=["property", "side", "published_at"], name="review_prop")]
        constraints = [
            models.UniqueConstraint(fields=["booking", "side"], name="review_one_per_side"),
            models.CheckConstraint(
                condition=Q(overall__gte=1, overall__lte=5), name="review_overall_1_5"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.side} review of booking {self.booking_id}: {self.overall}"
