"""Negotiation threads: offers, chat, read state and the gap-free event log.

Every change appends an :class:`Event` with the next ``seq`` of its negotiation
(1, 2, 3 ... no gaps) in the same transaction, under the negotiation's row lock;
``(negotiation, seq)`` is unique. Clients replay from their last ``seq``.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q


class NegotiationStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    WITHDRAWN = "withdrawn", "Withdrawn"
    EXPIRED = "expired", "Expired"
    UNAVAILABLE = "unavailable", "Unavailable"


#: The statuses each status may become (DESIGN.md section 3): an open negotiation ends
#: once, in one of five ways; an ended one never changes again.
TRANSITIONS: dict[str, frozenset[str]] = {
    NegotiationStatus.OPEN: frozenset(
        {
            NegotiationStatus.ACCEPTED,
            NegotiationStatus.DECLINED,
            NegotiationStatus.WITHDRAWN,
            NegotiationStatus.EXPIRED,
            NegotiationStatus.UNAVAILABLE,
        }
    ),
    NegotiationStatus.ACCEPTED: frozenset(),
    NegotiationStatus.DECLINED: frozenset(),
    NegotiationStatus.WITHDRAWN: frozenset(),
    NegotiationStatus.EXPIRED: frozenset(),
    NegotiationStatus.UNAVAILABLE: frozenset(),
}


class Side(models.TextChoices):
    GUEST = "guest", "Guest"
    HOST = "host", "Host"


class Negotiation(models.Model):
    property = models.ForeignKey(
        "properties.Property", on_delete=models.PROTECT, related_name="negotiations"
    )
    guest = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="negotiations_as_guest"
    )
    host = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="negotiations_as_host"
    )
    check_in = models.DateField()
    check_out = models.DateField()
    guests = models.PositiveSmallIntegerField()
    stay_type = models.CharField(max_length=16)
    meals = models.JSONField(default=dict, blank=True)
    list_price = models.JSONField(help_text="Quote snapshot at list price.")
    list_total = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    # The terms are fixed when it opens (currency, policy, guests, stay type, meals): an
    # acceptance books them whatever the listing says by then (DESIGN.md section 3).
    cancellation_policy = models.CharField(max_length=16)
    status = models.CharField(
        max_length=12, choices=NegotiationStatus.choices, default=NegotiationStatus.OPEN
    )
    turn = models.CharField(max_length=5, choices=Side.choices)
    guest_rounds = models.PositiveSmallIntegerField(default=0)
    host_rounds = models.PositiveSmallIntegerField(default=0)
    expires_at = models.DateTimeField()
    booking = models.OneToOneField(
        "bookings.Booking",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="negotiation",
    )
    last_seq = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-updated_at", "-pk"]
        indexes = [
            models.Index(fields=["property", "status", "check_in"], name="nego_property_status"),
            models.Index(fields=["status", "expires_at"], name="nego_status_expires"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(check_out__gt=models.F("check_in")), name="nego_checkout_after_checkin"
            ),
            models.CheckConstraint(condition=Q(guests__gt=0), name="nego_guests_positive"),
            models.CheckConstraint(condition=Q(list_total__gt=0), name="nego_list_total_positive"),
            models.CheckConstraint(
                condition=Q(status__in=NegotiationStatus.values), name="nego_status_valid"
            ),
            models.CheckConstraint(condition=Q(turn__in=Side.values), name="nego_turn_valid"),
        ]

    def __str__(self) -> str:
        return f"Negotiation {self.pk} ({self.status})"

    def side_of(self, user_id: int) -> str | None:
        if user_id == self.guest_id:
            return Side.GUEST
        if user_id == self.host_id:
            return Side.HOST
        return None


class Offer(models.Model):
    """Append-only: an offer is never edited; the latest one is the one on the table."""

    negotiation = models.ForeignKey(Negotiation, on_delete=models.CASCADE, related_name="offers")
    side = models.CharField(max_length=5, choices=Side.choices)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    message = models.CharField(max_length=2000, blank=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    # Set when a guest offer under the host's floor is declined at once (reason
    # ``automatic``): it counts as a round, is never on the table, and the turn is back
    # with the guest (DESIGN.md section 3).
    declined_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="offer_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.side} offer {self.amount}"


class ChatMessage(models.Model):
    negotiation = models.ForeignKey(Negotiation, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.CharField(max_length=2000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return self.body[:40]


class ReadState(models.Model):
    negotiation = models.ForeignKey(
        Negotiation, on_delete=models.CASCADE, related_name="read_states"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    last_read_seq = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["negotiation", "user"], name="read_state_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} read {self.negotiation_id} up to {self.last_read_seq}"


class Event(models.Model):
    negotiation = models.ForeignKey(Negotiation, on_delete=models.CASCADE, related_name="events")
    seq = models.PositiveIntegerField()
    type = models.CharField(max_length=40)
    data = models.JSONField(default=dict)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["negotiation", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["negotiation", "seq"], name="event_seq_unique"),
            models.CheckConstraint(condition=Q(seq__gt=0), name="event_seq_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.negotiation_id}#{self.seq} {self.type}"

    def as_frame(self) -> dict:
        return {
            "type": "event",
            "seq": self.seq,
            "event": self.type,
            "data": self.data,
            "at": self.created_at.isoformat(),
        }


class ActionReceipt(models.Model):
    """An applied action of a party, by the id its client gave it (a socket frame's
    ``client_id`` or a REST ``Idempotency-Key``): a repeat is answered with the first
    acknowledgement (``seq``) and changes nothing (DESIGN.md section 5). Refused actions
    leave no receipt, so their resend is tried afresh."""

    negotiation = models.ForeignKey(Negotiation, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    client_id = models.CharField(max_length=64)
    seq = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["negotiation", "user", "client_id"], name="action_receipt_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.client_id} -> {self.negotiation_id}#{self.seq}"
