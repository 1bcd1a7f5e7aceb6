"""Booking reads, with the party check: only the guest and the property's host see one."""

from django.db.models import DecimalField, F, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from accounts.models import User
from bookings.models import Booking, BookingStatus, Payment, Review


def bookings_for_user(
    *, user: User, role: str = "", when: str = "", status: str = ""
) -> QuerySet[Booking]:
    queryset = Booking.objects.select_related("property", "guest", "property__host")
    if role == "guest":
        queryset = queryset.filter(guest=user)
    elif role == "host":
        queryset = queryset.filter(property__host=user)
    else:
        queryset = queryset.filter(Q(guest=user) | Q(property__host=user))
    today = timezone.now().date()
    if when == "upcoming":
        queryset = queryset.filter(check_out__gt=today).order_by("check_in", "pk")
    elif when == "past":
        queryset = queryset.filter(check_out__lte=today).order_by("-check_in", "-pk")
    else:
        queryset = queryset.order_by("-created_at", "-pk")
    if status:
        queryset = queryset.filter(_seen_as(status, timezone.now()))
    return queryset


_LAPSING = (BookingStatus.PENDING_HOST, BookingStatus.AWAITING_PAYMENT)


def _seen_as(status: str, now) -> Q:
    """Bookings a reader sees in ``status`` (see :func:`effective_status`): a lapsed hold
    reads ``expired`` before the sweep records it."""
    if status in _LAPSING:
        return Q(status=status) & (Q(hold_expires_at__isnull=True) | Q(hold_expires_at__gt=now))
    if status == BookingStatus.EXPIRED:
        return Q(status=status) | Q(status__in=_LAPSING, hold_expires_at__lte=now)
    return Q(status=status)


def booking_get_for_party(*, user: User, booking_id: int) -> Booking:
    booking = (
        Booking.objects.select_related("property", "guest", "property__host")
        .filter(pk=booking_id)
        .filter(Q(guest=user) | Q(property__host=user))
        .first()
    )
    if booking is None:
        raise Http404
    return booking


def payments_out_of_balance() -> list[int]:
    """Reconciliation: ids of bookings whose succeeded refunds exceed their succeeded
    captures (``bookings.charges.refund_after_commit`` makes this impossible; this is the check that
    it stays so, also against rows written by anything else)."""
    zero = Value(0, output_field=DecimalField(max_digits=12, decimal_places=2))
    succeeded = Q(payments__status=Payment.Status.SUCCEEDED)

    def total(kind: str):
        return Coalesce(Sum("payments__amount", filter=succeeded & Q(payments__kind=kind)), zero)

    return list(
        Booking.objects.annotate(
            captured=total(Payment.Kind.CAPTURE), refunded=total(Payment.Kind.REFUND)
        )
        .filter(refunded__gt=F("captured"))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def effective_status(booking: Booking, now=None) -> str:
    """The status a reader sees: a lapsed hold is expired even before the sweep records it."""
    now = now or timezone.now()
    holding = (BookingStatus.PENDING_HOST, BookingStatus.AWAITING_PAYMENT)
    if booking.status in holding and booking.hold_expires_at and booking.hold_expires_at <= now:
        return BookingStatus.EXPIRED
    return booking.status


#: A booking in these states is the guest asking for the host's listing: the host reads
#: the guest's reviews by hosts on it (docs/analytics.md "Reviews of a guest").
GUEST_REVIEWS_SHOWN = {
    BookingStatus.PENDING_HOST,
    BookingStatus.AWAITING_PAYMENT,
    BookingStatus.CONFIRMED,
}
GUEST_REVIEWS_LIMIT = 20


def reviews_of_guest(*, guest_id: int, limit: int | None = GUEST_REVIEWS_LIMIT) -> list:
    """The published reviews hosts wrote of ``guest_id``, newest first."""
    reviews = (
        Review.objects.filter(subject_id=guest_id, side=Review.Side.HOST)
        .exclude(published_at=None)
        .select_related("author")
        .order_by("-published_at", "-pk")
    )
    return list(reviews[:limit] if limit else reviews)


def guest_reviews_for_host(*, booking: Booking, viewer: User) -> list | None:
    """The guest's reviews by hosts, for the listing's host while the booking asks for or
    holds the stay (a request, waiting for payment, confirmed); None for anyone else."""
    if viewer.pk != booking.property.host_id or effective_status(booking) not in (
        GUEST_REVIEWS_SHOWN
    ):
        return None
    return reviews_of_guest(guest_id=booking.guest_id)
