"""What leaves a booking service is called by the service (issue 21): writing a status and
its history row sends nothing; the services send the event and tell the parties; a booking
that takes dates tells the listeners registered with bookings.dates_taken (negotiation's,
which ends the open negotiations over them) in its own transaction."""

import asyncio
from datetime import timedelta
from decimal import Decimal

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer
from django.db import transaction

from bookings import dates_taken, services, transitions
from bookings.models import BookingStatus, BookingStatusChange
from bookings.tests.factories import book, bookable_property, verified_guest
from negotiation import services as negotiation_services
from negotiation.models import Negotiation
from negotiation.services import negotiations_mark_unavailable
from notifications.events import user_group
from notifications.models import Notification
from properties.quotes import property_today

pytestmark = pytest.mark.django_db(transaction=True)


async def _received_while(user_id, action, timeout=2.0):
    """What the user's notification group receives while the sync ``action`` runs."""
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add(user_group(user_id), channel)
    await sync_to_async(action)()
    try:
        return await asyncio.wait_for(layer.receive(channel), timeout)
    except TimeoutError:
        return None
    finally:
        await layer.group_discard(user_group(user_id), channel)


def test_a_transition_writes_the_status_and_its_history_and_sends_nothing():
    prop = bookable_property(instant_book=False)
    guest = verified_guest()
    booking = book(prop, guest)
    notes = Notification.objects.count()

    def decline_quietly():
        with transaction.atomic():
            transitions.transition(
                transitions.lock_booking(booking.pk),
                BookingStatus.DECLINED,
                actor=prop.host,
                reason="quiet",
            )

    assert async_to_sync(_received_while)(guest.pk, decline_quietly, timeout=0.5) is None
    assert Notification.objects.count() == notes
    assert BookingStatusChange.objects.filter(booking=booking, to_status="declined").exists()


def test_the_service_sends_the_event_and_tells_the_guest():
    prop = bookable_property(instant_book=False)
    guest = verified_guest()
    booking = book(prop, guest)
    received = async_to_sync(_received_while)(
        guest.pk,
        lambda: services.booking_decline(booking_id=booking.pk, host=prop.host, reason="busy"),
    )
    assert received["payload"]["type"] == "booking.declined"
    assert received["payload"]["booking"]["reason"] == "busy"
    assert Notification.objects.filter(user=guest, kind="booking.declined").exists()


def test_negotiation_listens_for_dates_taken_and_its_open_negotiations_end():
    assert negotiations_mark_unavailable in dates_taken._listeners  # NegotiationConfig.ready
    prop = bookable_property(instant_book=True)
    check_in = property_today(prop) + timedelta(days=20)
    negotiation = negotiation_services.negotiation_open(
        guest=verified_guest(), property_id=prop.pk, check_in=check_in,
        check_out=check_in + timedelta(days=3), guests=2, stay_type="standard",
        amount=Decimal("250.00"),
    ).negotiation  # fmt: skip
    book(prop, verified_guest(), days=21)  # overlaps
    assert Negotiation.objects.get(pk=negotiation.pk).status == "unavailable"


def test_listeners_are_told_in_the_inserting_transaction(monkeypatch):
    told = []
    monkeypatch.setattr(dates_taken, "_listeners", [lambda **held: told.append(held)])
    prop = bookable_property(instant_book=True)
    guest = verified_guest()
    with pytest.raises(RuntimeError), transaction.atomic():
        booking = book(prop, guest, token="")
        assert told == [
            {
                "property_id": prop.pk,
                "start": booking.check_in,
                "end": booking.check_out,
                "except_id": None,
            }
        ]
        raise RuntimeError("roll back: the listener's writes would go with the booking")
    assert not prop.bookings.exists()
