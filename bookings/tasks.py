"""Periodic booking work. Thin: each task calls one idempotent, bounded service."""

from celery import shared_task

from bookings import services


@shared_task(acks_late=True)
def expire_lapsed_holds() -> int:
    """Record holds past ``hold_expires_at`` (they already count as expired everywhere)."""
    return services.bookings_expire_lapsed()


@shared_task(acks_late=True)
def complete_finished_stays() -> int:
    return services.bookings_complete_finished()
