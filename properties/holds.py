"""Who holds a property's dates, and which deals run in its currency: a port.

``properties`` sits below ``bookings`` and ``negotiation`` (DESIGN.md section 1), yet
some of its own answers depend on them: search and the quote need dates nobody holds,
the availability calendar and the iCal export show the held ones, a guest with a stay
may read a listing that is not published, and a listing's currency cannot change while
deals priced in it run. Rather than import the apps above it, ``properties`` asks the
providers they register here at start-up (in their ``AppConfig.ready()``):

- a **date holder** (:class:`DateHolder`) answers for the rows that hold dates:
  ``bookings`` (``bookings.availability``: pending, awaiting payment and confirmed
  bookings, lapsed holds excluded); later ``negotiation``'s live holds;
- a **deal source** (:class:`DealSource`) counts the deals running in the listing's
  currency: ``bookings`` (held or ahead) and ``negotiation`` (``negotiation.holds``:
  open negotiations).

Each question below asks every registered provider in turn, explicitly, and combines
their answers. With no date holder (or no deal source) registered, the question raises
:class:`~django.core.exceptions.ImproperlyConfigured`: dates are never treated as free,
nor a currency as unlocked, because a provider did not register.

The host's own blocks are ``properties``' data and are not asked here
(:mod:`properties.selectors` adds them: ``dates_taken``, ``free_for_dates``).
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Expression

from accounts.models import User
from properties.models import Property


@dataclass(frozen=True)
class HeldRange:
    """Dates ``[start, end)`` a row holds, as the calendar and the iCal export show them."""

    uid: str  # stable and unique across holders: the iCal event's UID ("parley-booking-7")
    start: date
    end: date
    status: str  # the holder's own state of the row ("confirmed", ...)
    changed_at: datetime  # the iCal event's DTSTAMP


@dataclass(frozen=True)
class RunningDeals:
    """How many deals of one kind run in a listing's currency."""

    key: str  # the count's name in the ``409 currency_locked`` error ("open_negotiations")
    count: int
    phrase: str  # for the error's detail: "2 negotiation(s) are open"


class DateHolder(Protocol):
    """Rows of an app above ``properties`` that hold a property's dates."""

    def free_condition(self, *, start, end, now) -> Expression:
        """A condition on ``Property`` rows: none of this holder's rows holding dates at
        ``now`` meets ``[start, end)``. Correlated with ``OuterRef("pk")`` and written as
        ``~Exists(...)`` (one ``NOT EXISTS`` probing a per-property index: see
        ``properties.selectors.free_for_dates``). The arguments may be values or
        expressions (search passes expressions)."""
        ...

    def is_held(self, *, property_id: int, start: date, end: date, now: datetime | None) -> bool:
        """Whether a row holding dates at ``now`` meets ``[start, end)``."""
        ...

    def held_ranges(
        self, *, property_id: int, start: date, end: date | None, now: datetime | None
    ) -> list[HeldRange]:
        """The rows holding dates at ``now`` that meet ``[start, end)`` (``end=None``: no
        upper bound), ordered by start."""
        ...

    def has_stay(self, *, user: User, property_id: int) -> bool:
        """Whether ``user`` stays or stayed at the property, in any state of the row (such
        a guest may read the listing even when it is not published)."""
        ...


class DealSource(Protocol):
    """Deals of an app above ``properties`` priced in a listing's currency."""

    def running_deals(self, *, prop: Property, now: datetime) -> RunningDeals:
        """How many of this source's deals run in ``prop``'s current currency at ``now``.
        The caller holds the property's row lock."""
        ...


_date_holders: dict[str, DateHolder] = {}
_deal_sources: dict[str, DealSource] = {}


def register_date_holder(name: str, holder: DateHolder) -> None:
    """Called from the ``ready()`` of the app that owns the rows; registering a name again
    replaces its holder."""
    _date_holders[name] = holder


def register_deal_source(name: str, source: DealSource) -> None:
    """Called from the ``ready()`` of the app that owns the deals; registering a name again
    replaces its source."""
    _deal_sources[name] = source


def date_holders() -> Iterable[DateHolder]:
    if not _date_holders:
        raise ImproperlyConfigured(
            "No date holder is registered with properties.holds: the dates bookings hold "
            "cannot be known (is 'bookings' in INSTALLED_APPS?)."
        )
    return list(_date_holders.values())


def deal_sources() -> Iterable[DealSource]:
    if not _deal_sources:
        raise ImproperlyConfigured(
            "No deal source is registered with properties.holds: the deals running in a "
            "listing's currency cannot be known (is 'bookings' in INSTALLED_APPS?)."
        )
    return list(_deal_sources.values())


# --- the questions properties asks ---------------------------------------------------------------


def free_conditions(start, end, now=None) -> list[Expression]:
    """One condition per date holder on ``Property`` rows: none of its rows meets
    ``[start, end)``."""
    return [holder.free_condition(start=start, end=end, now=now) for holder in date_holders()]


def dates_held(*, property_id: int, start: date, end: date, now: datetime | None = None) -> bool:
    """Whether any holder's row holds some of ``[start, end)`` at ``now`` (lapsed holds do
    not count, whether or not a sweep has recorded them yet)."""
    return any(
        holder.is_held(property_id=property_id, start=start, end=end, now=now)
        for holder in date_holders()
    )


def held_ranges(
    *, property_id: int, start: date, end: date | None = None, now: datetime | None = None
) -> list[HeldRange]:
    """Every holder's ranges meeting ``[start, end)``, by start (each holder's own order on
    equal starts)."""
    ranges = [
        held
        for holder in date_holders()
        for held in holder.held_ranges(property_id=property_id, start=start, end=end, now=now)
    ]
    return sorted(ranges, key=lambda held: held.start)


def has_stay(*, user: User, property_id: int) -> bool:
    return any(holder.has_stay(user=user, property_id=property_id) for holder in date_holders())


def running_deals(*, prop: Property, now: datetime) -> list[RunningDeals]:
    """Each source's count of deals running in ``prop``'s currency (zero counts included:
    the ``currency_locked`` error names every kind)."""
    return [source.running_deals(prop=prop, now=now) for source in deal_sources()]
