"""Periodic negotiation work: record expired negotiations (lazy expiry already holds)."""

from celery import shared_task

from negotiation import services


@shared_task(acks_late=True)
def expire_due_negotiations() -> int:
    return services.negotiations_expire_due()
