"""Ending everything a person or a listing has running (issue 17, DESIGN.md section 3).

These use cases touch every app (accounts, properties, bookings, negotiation, the email
log of notifications), so they live in the top app layer, calling each app's own
services explicitly.

``property_archive`` ends a listing: refused while confirmed stays are ahead; otherwise
its open negotiations end and its payment holds are released, each guest told.

``user_deactivate`` is the one way a user becomes inactive (closing, the admin's save and
its action all call it): the account is deactivated and its sessions end
(:func:`accounts.services.user_deactivate`), and their open negotiations end, the other
party told.

``user_close`` is the owner's: without ``confirm`` it answers what closing would do (the
same plan, refunds computed by the same pure function as a cancellation); with it, it does
that in one transaction, then deactivates the account and erases its personal data. Rows
other people keep (bookings, negotiations, reviews, chat) stay, showing the anonymised
name. A host with confirmed stays ahead is refused (``409 has_upcoming_stays``) until they
cancel those stays themselves (a host cancellation: full refund, counted against the host),
as archiving a listing is.
"""

from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts import services as accounts_services
from accounts.models import User
from bookings.models import Booking, BookingStatus
from bookings.services import (
    booking_cancel,
    booking_refund_quote,
    bookings_release_for_guest,
    bookings_release_holds,
)
from core import locks
from core.errors import ConflictError
from negotiation.models import Negotiation, NegotiationStatus
from negotiation.services import negotiations_end_for_archive, negotiations_end_for_user
from notifications.services import email_log_readdress
from properties.errors import HasUpcomingStays
from properties.models import Property
from properties.quotes import property_today

#: The reason recorded on what each ending ends (negotiation events, booking history).
ACCOUNT_CLOSED = "account_closed"
ACCOUNT_DEACTIVATED = "account_deactivated"
LISTING_ARCHIVED = "listing_archived"


class HostHasUpcomingStays(ConflictError):
    default_code = "has_upcoming_stays"

    def __init__(self, booking_ids: list[int]):
        super().__init__(
            f"Your listings have {len(booking_ids)} confirmed stay(s) ahead "
            f"({', '.join(f'#{pk}' for pk in booking_ids)}). Cancel them first (the guests "
            "are refunded in full and told), then close the account.",
            bookings=booking_ids,
        )


class AccountInactive(ConflictError):
    default_code = "account_inactive"
    default_detail = "This account is already closed."


# --- a listing ------------------------------------------------------------------------------


@transaction.atomic
def property_archive(*, prop: Property, now=None) -> Property:
    """DELETE archives: the listing leaves search for good; bookings keep their property.

    Refused (``409 has_upcoming_stays``, with their ids) while confirmed stays are ahead.
    Otherwise, under the property lock that every writer of its dates and deals takes
    first: its open negotiations end (``unavailable``, reason ``listing_archived``) and its
    payment holds are released (requests declined, bookings awaiting payment cancelled,
    authorizations voided), each guest told in-app, live and by email (DESIGN.md 3).
    """
    now = now or timezone.now()
    prop = locks.lock_one(Property.objects.filter(pk=prop.pk))
    if prop.status == Property.Status.ARCHIVED:
        return prop
    ahead = list(
        Booking.objects.filter(
            property=prop,
            status=BookingStatus.CONFIRMED,
            check_out__gt=property_today(prop, now),
        )
        .order_by("check_in", "pk")
        .values_list("pk", flat=True)
    )
    if ahead:
        raise HasUpcomingStays(ahead)
    negotiations_end_for_archive(property_id=prop.pk, actor=prop.host, now=now)
    bookings_release_holds(property_id=prop.pk, actor=prop.host, reason=LISTING_ARCHIVED, now=now)
    prop.status = Property.Status.ARCHIVED
    prop.save(update_fields=["status", "updated_at"])
    return prop


# --- deactivation ---------------------------------------------------------------------------


@transaction.atomic
def user_deactivate(*, user: User, reason: str = ACCOUNT_DEACTIVATED, now=None) -> User:
    """Make the user inactive: sessions end (refresh tokens blacklisted; access tokens of
    an inactive user are refused) and socket tickets are revoked, the user row locked
    first; then open negotiations end (withdrawn as guest, unavailable as host; the other
    party told). Idempotent."""
    now = now or timezone.now()
    user = accounts_services.user_deactivate(user=user)
    negotiations_end_for_user(user=user, reason=reason, now=now)
    return user


# --- closing --------------------------------------------------------------------------------


def _stays_ahead(bookings, now: datetime) -> list:
    """Confirmed bookings whose stay is not over in the property's own time zone."""
    return [b for b in bookings if b.check_out > property_today(b.property, now)]


def _host_stays_ahead(user: User, now: datetime) -> list[int]:
    confirmed = (
        Booking.objects.select_related("property")
        .filter(property__host=user, status=BookingStatus.CONFIRMED)
        .order_by("check_in", "pk")
    )
    return [b.pk for b in _stays_ahead(confirmed, now)]


def _plan(user: User, now: datetime) -> dict:
    """What closing the account at ``now`` does, as the API shows it."""
    mine = Q(guest=user) | Q(host=user)
    negotiations = [
        {
            "id": n.pk,
            "property": n.property_id,
            "title": n.property.title,
            "role": "guest" if n.guest_id == user.pk else "host",
            "becomes": "withdrawn" if n.guest_id == user.pk else "unavailable",
        }
        for n in Negotiation.objects.select_related("property")
        .filter(mine, status=NegotiationStatus.OPEN, expires_at__gt=now)
        .order_by("pk")
    ]
    held = (
        Booking.objects.select_related("property")
        .filter(Q(guest=user) | Q(property__host=user))
        .filter(
            status__in=(BookingStatus.PENDING_HOST, BookingStatus.AWAITING_PAYMENT),
            hold_expires_at__gt=now,
        )
        .order_by("pk")
    )
    stays = _stays_ahead(
        Booking.objects.select_related("property")
        .filter(guest=user, status=BookingStatus.CONFIRMED)
        .order_by("check_in", "pk"),
        now,
    )
    listings = Property.objects.filter(host=user).exclude(status=Property.Status.ARCHIVED)
    return {
        "negotiations": negotiations,
        "held_bookings": [
            {
                **_booking_summary(b),
                "role": "guest" if b.guest_id == user.pk else "host",
                "becomes": "cancelled"
                if b.guest_id == user.pk or b.status == BookingStatus.AWAITING_PAYMENT
                else "declined",
            }
            for b in held
        ],
        "upcoming_stays": [
            {
                **_booking_summary(b),
                "cancellation_policy": b.cancellation_policy,
                "refund": booking_refund_quote(booking=b, by_host=False, now=now).as_dict(),
            }
            for b in stays
        ],
        "listings": [
            {"id": p.pk, "title": p.title, "status": p.status} for p in listings.order_by("pk")
        ],
    }


def _booking_summary(booking) -> dict:
    return {
        "id": booking.pk,
        "property": booking.property_id,
        "title": booking.property.title,
        "status": booking.status,
        "check_in": booking.check_in.isoformat(),
        "check_out": booking.check_out.isoformat(),
        "total": str(booking.total),
        "currency": booking.currency,
    }


def user_close(*, user: User, password: str, confirm: bool = False, now=None) -> dict:
    """Close the owner's account. Without ``confirm``: what would happen (``closed:
    false``), nothing changed. With it, in one transaction: the user's listings are
    archived (their negotiations end, their holds are released, each guest told), the
    user's own open negotiations are withdrawn, their held bookings released and their
    upcoming stays cancelled under each booking's policy (refunds as shown), then the
    account is deactivated and its personal data erased (the email log forgets the old
    address too). Returns what was done."""
    now = now or timezone.now()
    accounts_services.check_password_of(user, password)
    if not confirm:
        if stays := _host_stays_ahead(user, now):
            raise HostHasUpcomingStays(stays)
        return {"closed": False, **_plan(user, now)}
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        if not user.is_active:
            raise AccountInactive()
        if stays := _host_stays_ahead(user, now):
            raise HostHasUpcomingStays(stays)
        plan = _plan(user, now)
        for listing in (
            Property.objects.filter(host=user)
            .exclude(status=Property.Status.ARCHIVED)
            .order_by("pk")
        ):
            property_archive(prop=listing, now=now)
        bookings_release_for_guest(guest=user, reason=ACCOUNT_CLOSED, now=now)
        for stay in plan["upcoming_stays"]:
            _, refund = booking_cancel(
                booking_id=stay["id"], user=user, reason=ACCOUNT_CLOSED, now=now
            )
            stay["refund"] = refund.as_dict() if refund else None
        user = user_deactivate(user=user, reason=ACCOUNT_CLOSED, now=now)
        old_email = user.email
        user = accounts_services.user_erase_personal_data(user=user)
        email_log_readdress(old=old_email, new=user.email)
    return {"closed": True, **plan}
