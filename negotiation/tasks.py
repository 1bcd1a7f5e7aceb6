"""Periodic negotiation work: record expired negotiations (lazy expiry already holds), and
recompute Superhost status (its response rate counts negotiations: negotiation.reporting)."""

from celery import shared_task

from negotiation import reporting, services


@shared_task(acks_late=True)
def expire_due_negotiations() -> int:
    return services.negotiations_expire_due()


@shared_task(acks_late=True)
def recompute_superhosts() -> int:
    return reporting.superhosts_recompute()
