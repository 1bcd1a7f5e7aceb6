"""Opening a negotiation: the guest asks for a stay on a listing that takes offers, with
an offer, a message, or both; the list quote is the snapshot every later amount is
measured against."""

import contextlib
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction

from accounts.models import User
from bookings import services as booking_services
from core import locks
from core.money import format_amount
from negotiation.errors import NegotiationExists, OffersNotAccepted, TooManyNegotiations
from negotiation.events import append_event, publish_event, tell_event
from negotiation.models import Negotiation, NegotiationStatus, Side
from negotiation.services.common import Outcome, _expire_if_due, _now, _ttl, notice_of
from negotiation.services.messages import _post_message
from negotiation.services.offers import _AcceptFailed, _make_offer
from properties.models import Property
from properties.quotes import quote_for_stay


def negotiation_open(
    *,
    guest: User,
    property_id: int,
    check_in: date,
    check_out: date,
    guests: int,
    stay_type: str,
    meals: dict | None = None,
    amount: Decimal | None = None,
    message: str = "",
    now: datetime | None = None,
) -> Outcome:
    meals = meals or {}
    with transaction.atomic():
        prop = booking_services.lock_property(property_id, published_only=True)
        now = _now(now)
        if prop.host_id == guest.pk:
            raise booking_services.OwnProperty()
        if not prop.accepts_offers:
            raise OffersNotAccepted()
        quote = quote_for_stay(
            property=prop, check_in=check_in, check_out=check_out, guests=guests,
            stay_type=stay_type, meals=meals, now=now,
        )  # fmt: skip
        booking_services.ensure_dates_free(
            property_id=prop.pk, start=check_in, end=check_out, now=now
        )
        overlapping = Negotiation.objects.filter(
            guest=guest,
            property=prop,
            status=NegotiationStatus.OPEN,
            check_in__lt=check_out,
            check_out__gt=check_in,
        )
        for existing in locks.lock_rows(overlapping, timeout_already_set=True):
            if not _expire_if_due(existing, now):
                raise NegotiationExists(existing.pk)
        _check_opens_per_day(guest, prop, now)
        negotiation = Negotiation.objects.create(
            property=prop,
            guest=guest,
            host_id=prop.host_id,
            check_in=check_in,
            check_out=check_out,
            guests=guests,
            stay_type=stay_type,
            meals=meals,
            list_price=quote.as_dict(),
            list_total=quote.total,
            currency=prop.currency,
            cancellation_policy=prop.cancellation_policy,
            turn=Side.HOST,
            expires_at=now + _ttl(),
        )
        opened = append_event(
            negotiation,
            "negotiation.opened",
            {
                "property": prop.pk,
                "check_in": check_in.isoformat(),
                "check_out": check_out.isoformat(),
                "guests": guests,
                "stay_type": stay_type,
                "list_total": format_amount(quote.total, prop.currency),
                "currency": prop.currency,
                "cancellation_policy": prop.cancellation_policy,
            },
            actor=guest,
        )
        publish_event(negotiation, opened)
        if amount is None:
            tell_event(negotiation, opened)  # the host, in-app and by email
        # (opened with an amount, the offer's notice tells the host of both: one email)
        seq = opened.seq
        if message:
            seq = _post_message(negotiation, guest, message)
        if amount is not None:
            with contextlib.suppress(_AcceptFailed):  # recorded as unavailable
                seq = _make_offer(negotiation, Side.GUEST, amount, "", guest, now, opening=True)
            if negotiation.offers.filter(declined_at__isnull=False).exists():
                tell_event(negotiation, opened)  # the offer was never the host's to answer
        return Outcome(negotiation, seq, notice_of(negotiation, seq))


def _check_opens_per_day(guest: User, prop: Property, now: datetime) -> None:
    """At most ``NEGOTIATION_OPENS_PER_DAY`` negotiations per guest and listing in any 24 h,
    whatever became of the earlier ones (withdrawn, declined, expired)."""
    limit = settings.NEGOTIATION_OPENS_PER_DAY
    recent = Negotiation.objects.filter(
        guest=guest, property=prop, created_at__gt=now - timedelta(hours=24)
    )
    if recent.count() >= limit:
        raise TooManyNegotiations(
            f"You can open at most {limit} negotiation{'s' if limit != 1 else ''} for this "
            "listing in 24 hours. Continue an open one, book at the list price, or try "
            "again tomorrow.",
            limit=limit,
        )
