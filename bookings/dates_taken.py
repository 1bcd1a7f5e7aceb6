"""Who is told when a booking takes a property's dates: a listener point owned by bookings.

Apps above bookings react to dates becoming held without bookings importing them
(DESIGN.md section 1: imports point one way). A listener registers once, at start-up
(``negotiation`` in ``NegotiationConfig.ready()``: the open negotiations over those
dates end as ``unavailable``); the booking services call :func:`announce` in the
transaction that inserts the booking, after the insert, so a listener's writes commit or
roll back with it.

A listener is called with keyword arguments only: ``property_id``, ``start`` and ``end``
(the half-open range ``[start, end)`` now held) and ``except_id``, the negotiation
whose acceptance took the dates (None for a booking made at the list price), which is
not to be ended with the others.
"""

from collections.abc import Callable
from datetime import date

Listener = Callable[..., object]

_listeners: list[Listener] = []


def listen(listener: Listener) -> None:
    """Register ``listener`` (once; registering it again changes nothing)."""
    if listener not in _listeners:
        _listeners.append(listener)


def announce(*, property_id: int, start: date, end: date, except_id: int | None = None) -> None:
    """Tell every listener that ``[start, end)`` at the property is now held."""
    for listener in _listeners:
        listener(property_id=property_id, start=start, end=end, except_id=except_id)
