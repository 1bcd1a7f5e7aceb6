"""Periodic booking work. Thin: each task calls one idempotent, bounded service."""

from celery import shared_task

from bookings import charges, reminders, reviews, sweeps


@shared_task(acks_late=True)
def expire_lapsed_holds() -> int:
    """Record holds past ``hold_expires_at`` (they already count as expired everywhere)."""
    return sweeps.bookings_expire_lapsed()


@shared_task(acks_late=True)
def reconcile_payments() -> int:
    """Finish the payment steps a crash or a failed gateway call left (``bookings.charges``)."""
    return charges.payments_reconcile()


@shared_task(acks_late=True)
def complete_finished_stays() -> int:
    return sweeps.bookings_complete_finished()


@shared_task(acks_late=True)
def publish_due_reviews() -> int:
    return reviews.reviews_publish_due()


@shared_task(acks_late=True)
def remind_expiring_requests() -> int:
    return reminders.remind_expiring_requests()


@shared_task(acks_late=True)
def remind_check_ins() -> int:
    return reminders.remind_check_ins()
