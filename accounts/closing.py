"""The end of an account: its owner closing it, or an admin deactivating it (issue 17).

``user_deactivate`` is the one way a user becomes inactive (closing, the admin's save and
its action all call it): their open negotiations end and the other party is told, every
refresh token is blacklisted and every socket ticket revoked.

``user_close`` is the owner's: without ``confirm`` it answers what closing would do (the
same plan, refunds computed by the same pure function as a cancellation); with it, it does
that in one transaction, then deactivates the account and erases its personal data. Rows
other people keep (bookings, negotiations, reviews, chat) stay, showing the anonymised
name. A host with confirmed stays ahead is refused (``409 has_upcoming_stays``) until they
cancel those stays themselves (a host cancellation: full refund, counted against the host),
as archiving a listing is.
"""

import secrets
from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import IdentityDocument, User
from accounts.services import _blacklist_all_refresh_tokens, check_password_of
from accounts.tokens import revoke_ws_tickets
from core.errors import ConflictError

ACCOUNT_CLOSED = "account_closed"
ACCOUNT_DEACTIVATED = "account_deactivated"
CLOSED_NAME = "Closed account"
CLOSED_EMAIL_DOMAIN = "closed.invalid"  # RFC 2606: never delivered


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


# --- deactivation ---------------------------------------------------------------------------


@transaction.atomic
def user_deactivate(*, user: User, reason: str = ACCOUNT_DEACTIVATED, now=None) -> User:
    """Make the user inactive: open negotiations end (withdrawn as guest, unavailable as
    host; the other party told), sessions end (refresh tokens blacklisted; access tokens
    of an inactive user are refused) and socket tickets are revoked. Idempotent."""
    from negotiation.services import negotiations_end_for_user

    now = now or timezone.now()
    user = User.objects.select_for_update().get(pk=user.pk)
    negotiations_end_for_user(user=user, reason=reason, now=now)
    if user.is_active:
        user.is_active = False
        user.save(update_fields=["is_active"])
    _blacklist_all_refresh_tokens(user)
    revoke_ws_tickets(user_id=user.pk)
    user_id = user.pk
    transaction.on_commit(lambda: revoke_ws_tickets(user_id=user_id))  # issued meanwhile
    return user


# --- closing --------------------------------------------------------------------------------


def _stays_ahead(bookings, now: datetime) -> list:
    """Confirmed bookings whose stay is not over in the property's own time zone."""
    from properties.quotes import property_today

    return [b for b in bookings if b.check_out > property_today(b.property, now)]


def _host_stays_ahead(user: User, now: datetime) -> list[int]:
    from bookings.models import Booking, BookingStatus

    confirmed = (
        Booking.objects.select_related("property")
        .filter(property__host=user, status=BookingStatus.CONFIRMED)
        .order_by("check_in", "pk")
    )
    return [b.pk for b in _stays_ahead(confirmed, now)]


def _plan(user: User, now: datetime) -> dict:
    """What closing the account at ``now`` does, as the API shows it."""
    from bookings.models import Booking, BookingStatus
    from bookings.services import booking_refund_quote
    from negotiation.models import Negotiation, NegotiationStatus
    from properties.models import Property

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
    account is deactivated and its personal data erased. Returns what was done."""
    from bookings.services import booking_cancel, bookings_release_for_guest
    from properties.models import Property
    from properties.services import property_archive

    now = now or timezone.now()
    check_password_of(user, password)
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
        _erase_personal_data(user)
    return {"closed": True, **plan}


def _erase_personal_data(user: User) -> None:
    """Name, address, phone, profile, avatar and identity documents go; the row stays, so
    the other party's bookings, negotiations and reviews keep their counterpart, shown as
    "Closed account". The address becomes a unique placeholder that is never delivered;
    the old one may register again. Files are deleted once the transaction commits."""
    from notifications.models import EmailLog

    old_email = user.email
    files = [(user.avatar.storage, user.avatar.name)] if user.avatar else []
    documents = IdentityDocument.objects.filter(user=user)
    files += [(d.image.storage, d.image.name) for d in documents if d.image]
    documents.delete()
    user.email = f"closed-{user.pk}-{secrets.token_hex(6)}@{CLOSED_EMAIL_DOMAIN}"
    user.pending_email = ""
    user.first_name = CLOSED_NAME
    user.last_name = ""
    user.phone = ""
    user.bio = ""
    user.languages = []
    user.avatar = ""
    user.email_verified_at = None
    user.is_superhost = False
    user.set_unusable_password()
    user.save(
        update_fields=[
            "email", "pending_email", "first_name", "last_name", "phone", "bio", "languages",
            "avatar", "email_verified_at", "is_superhost", "password",
        ]
    )  # fmt: skip
    EmailLog.objects.filter(to__iexact=old_email).update(to=user.email)

    def delete_files():
        for storage, name in files:
            storage.delete(name)

    transaction.on_commit(delete_files, robust=True)
