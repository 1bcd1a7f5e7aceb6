"""Review use-cases: write once per side within 14 days of completion, double-blind,
aggregates updated in the same transaction as publication."""

from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone

from accounts.models import User
from bookings.models import REVIEW_CATEGORIES, Booking, BookingStatus, Review
from core.errors import ApplicationError, ConflictError
from notifications.services import notify
from properties.models import Property

REVIEW_WINDOW = timedelta(days=14)


class ReviewNotAllowed(ConflictError):
    default_code = "review_not_allowed"
    default_detail = "This stay cannot be reviewed now."


class AlreadyReviewed(ConflictError):
    default_code = "already_reviewed"
    default_detail = "You already reviewed this stay."


class ReplyNotAllowed(ApplicationError):
    default_code = "reply_not_allowed"
    default_detail = "Only the host may reply, once, to a published review of the stay."


def review_window_closes(booking: Booking) -> datetime | None:
    return booking.completed_at + REVIEW_WINDOW if booking.completed_at else None


@transaction.atomic
def review_submit(
    *, booking_id: int, author: User, overall: int, text: str = "", now=None, **categories
) -> Review:
    now = now or timezone.now()
    booking = Booking.objects.select_for_update().select_related("property").get(pk=booking_id)
    host_id = booking.property.host_id
    if author.pk == booking.guest_id:
        side, subject_id = Review.Side.GUEST, host_id
    elif author.pk == host_id:
        side, subject_id = Review.Side.HOST, booking.guest_id
        categories = {}  # hosts rate the guest overall only
    else:
        raise Booking.DoesNotExist
    if booking.status != BookingStatus.COMPLETED or now > review_window_closes(booking):
        raise ReviewNotAllowed()
    if booking.reviews.filter(side=side).exists():
        raise AlreadyReviewed()
    review = Review.objects.create(
        booking=booking,
        property=booking.property,
        author=author,
        subject_id=subject_id,
        side=side,
        overall=overall,
        text=text,
        **{name: categories.get(name) for name in REVIEW_CATEGORIES},
    )
    reviews = list(booking.reviews.all())
    if len(reviews) == 2:
        _publish(reviews, now=now)
    return review


@transaction.atomic
def review_reply(*, review_id: int, host: User, text: str) -> Review:
    review = Review.objects.select_for_update().select_related("property").get(pk=review_id)
    if review.property.host_id != host.pk:  # only the listing's host may reply: others 404
        raise Review.DoesNotExist
    if review.side != Review.Side.GUEST or review.published_at is None or review.host_reply:
        raise ReplyNotAllowed()
    review.host_reply = text
    review.host_reply_at = timezone.now()
    review.save(update_fields=["host_reply", "host_reply_at"])
    return review


def reviews_publish_due(*, now=None, batch: int = 500) -> int:
    """Publish reviews whose window has closed (the other side never wrote)."""
    now = now or timezone.now()
    with transaction.atomic():
        due = list(
            Review.objects.select_for_update(skip_locked=True)
            .filter(published_at__isnull=True, booking__completed_at__lte=now - REVIEW_WINDOW)
            .select_related("property")[:batch]
        )
        if due:
            _publish(due, now=now)
    return len(due)


def _publish(reviews: list[Review], *, now) -> None:
    for review in reviews:
        review.published_at = now
        review.save(update_fields=["published_at"])
    for prop_id in {r.property_id for r in reviews if r.side == Review.Side.GUEST}:
        _refresh_property_aggregates(prop_id)
    for review in reviews:
        _refresh_user_aggregates(review.subject_id)
        notify(
            user_id=review.subject_id,
            kind="review.published",
            data={"review": review.pk, "booking": review.booking_id, "side": review.side},
        )


def _refresh_property_aggregates(property_id: int) -> None:
    published = Review.objects.filter(
        property_id=property_id, side=Review.Side.GUEST, published_at__isnull=False
    )
    stats = published.aggregate(
        total=Sum("overall"),
        count=Count("pk"),
        **{f"{n}_total": Sum(n) for n in REVIEW_CATEGORIES},
        **{f"{n}_count": Count(n) for n in REVIEW_CATEGORIES},
    )
    categories = {n: average(stats[f"{n}_total"], stats[f"{n}_count"]) for n in REVIEW_CATEGORIES}
    Property.objects.filter(pk=property_id).update(
        rating_avg=average(stats["total"], stats["count"]),
        review_count=stats["count"],
        rating_categories={n: str(value) for n, value in categories.items() if value},
    )


def _refresh_user_aggregates(user_id: int) -> None:
    published = Review.objects.filter(subject_id=user_id, published_at__isnull=False)
    stats = {"total": Sum("overall"), "n": Count("pk")}
    as_host = published.filter(side=Review.Side.GUEST).aggregate(**stats)
    as_guest = published.filter(side=Review.Side.HOST).aggregate(**stats)
    User.objects.filter(pk=user_id).update(
        host_rating_avg=average(as_host["total"], as_host["n"]),
        host_review_count=as_host["n"],
        guest_rating_avg=average(as_guest["total"], as_guest["n"]),
        guest_review_count=as_guest["n"],
    )


def average(total: int | None, count: int) -> Decimal | None:
    """``total / count`` of whole-star ratings, exact, rounded half up to 2 decimals
    (4.625 is 4.63; a float average rounded half-even gave 4.62). None without ratings."""
    if not count or total is None:
        return None
    return (Decimal(total) / Decimal(count)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
