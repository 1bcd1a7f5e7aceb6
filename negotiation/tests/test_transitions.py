"""The negotiation's transition table (negotiation.models.TRANSITIONS): every pair of
statuses through the one helper that changes status, and every action of a party on a
negotiation in every status."""

import itertools
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from bookings.tests.factories import bookable_property, verified_guest
from core.errors import ApplicationError, InvalidTransition
from negotiation import services, transitions
from negotiation.models import TRANSITIONS, Negotiation, NegotiationStatus

pytestmark = pytest.mark.django_db
ALL = list(NegotiationStatus.values)


def _negotiation(status: str) -> tuple[Negotiation, object, object]:
    """A negotiation the guest opened with an offer (the host's turn), stored as ``status``."""
    prop = bookable_property(nightly="100.00")
    guest = verified_guest()
    check_in = timezone.now().date() + timedelta(days=20)
    negotiation = services.negotiation_open(
        guest=guest, property_id=prop.pk, check_in=check_in,
        check_out=check_in + timedelta(days=3), guests=1, stay_type="standard",
        amount=Decimal("250.00"),
    ).negotiation  # fmt: skip
    if status != NegotiationStatus.OPEN:
        Negotiation.objects.filter(pk=negotiation.pk).update(
            status=status, closed_at=timezone.now()
        )
    negotiation.refresh_from_db()
    return negotiation, guest, prop.host


def test_the_table_names_every_status():
    assert set(TRANSITIONS) == set(ALL)
    assert all(targets <= set(ALL) for targets in TRANSITIONS.values())


@pytest.mark.parametrize(("source", "target"), list(itertools.product(ALL, ALL)))
def test_transition_table(source, target):
    negotiation, _guest, _host = _negotiation(source)
    now = timezone.now()
    if target in TRANSITIONS[source]:
        with transaction.atomic():
            transitions.close(negotiation, target, now)
        stored = Negotiation.objects.get(pk=negotiation.pk)
        assert (stored.status, stored.closed_at) == (target, now)
    else:
        with pytest.raises(InvalidTransition), transaction.atomic():
            transitions.close(negotiation, target, now)
        assert Negotiation.objects.get(pk=negotiation.pk).status == source


# Each action by the party who may take it on an open negotiation the guest opened with an
# offer: the host counters, accepts or declines; the guest withdraws or writes.
ACTIONS = {
    "offer": ("host", lambda n, u: services.negotiation_offer(
        negotiation_id=n.pk, user=u, amount=Decimal("280.00"))),
    "accept": ("host", lambda n, u: services.negotiation_accept(negotiation_id=n.pk, user=u)),
    "decline": ("host", lambda n, u: services.negotiation_decline(negotiation_id=n.pk, user=u)),
    "withdraw": ("guest", lambda n, u: services.negotiation_withdraw(
        negotiation_id=n.pk, user=u)),
    "message": ("guest", lambda n, u: services.negotiation_message(
        negotiation_id=n.pk, user=u, body="Still there?")),
}  # fmt: skip
# The status an applied action leaves (open: it stays open).
APPLIED = {
    "offer": NegotiationStatus.OPEN,
    "accept": NegotiationStatus.ACCEPTED,
    "decline": NegotiationStatus.DECLINED,
    "withdraw": NegotiationStatus.WITHDRAWN,
}


def _expected(status: str, action: str) -> str:
    """``applied`` or the error code a party gets."""
    if status == NegotiationStatus.OPEN or action == "message":  # chat: 14 days after the end
        return "applied"
    if status == NegotiationStatus.UNAVAILABLE:
        return "dates_unavailable"
    return "negotiation_closed"


@pytest.mark.parametrize(("status", "action"), list(itertools.product(ALL, ACTIONS)))
def test_every_action_in_every_status(status, action):
    negotiation, guest, host = _negotiation(status)
    side, act = ACTIONS[action]
    expected = _expected(status, action)
    try:
        outcome = act(negotiation, guest if side == "guest" else host)
    except ApplicationError as exc:
        assert exc.code == expected, exc.detail
        stored = Negotiation.objects.get(pk=negotiation.pk)
        assert (stored.status, stored.last_seq) == (status, negotiation.last_seq)
        return
    assert expected == "applied"
    stored = Negotiation.objects.get(pk=negotiation.pk)
    assert outcome.seq == stored.last_seq > negotiation.last_seq
    assert stored.status == APPLIED.get(action, status)
