"""Refunds on cancellation: one pure function of the policy (DESIGN.md section 3).

- ``flexible``: full refund until 24 h before check-in; after that the first
  night (or every night already begun, once the stay has started) is kept and
  the nights not stayed are refunded.
- ``moderate``: full refund until 5 days before check-in, then 50 %.
- ``strict``: full refund within 48 h of booking if check-in is 14+ days away
  at cancellation; 50 % until 7 days before check-in; nothing after.
- A host cancellation always refunds everything.

The refundable fraction applies to the stay subtotal and, by the same rule, to
the service fee. The cleaning fee is refunded in full when the guest cancels
before check-in (nothing was cleaned) and not after.

The amounts are the booking's own line items: for a booking from a negotiation,
the list quote scaled to the agreed total (``properties.pricing.agreed_price``),
so a refund is a share of what was agreed, never of the list price. And a refund
never exceeds ``refundable`` (what was captured minus what was already refunded):
the excess comes off the stay, then the service fee, then the cleaning fee
(rule suffixed ``_capped``). ``bookings.charges.refund_after_commit`` refuses anything more.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from core.money import quantize

FULL = Decimal(1)
HALF = Decimal("0.5")
NONE = Decimal(0)


@dataclass(frozen=True)
class RefundInput:
    policy: str  # flexible | moderate | strict
    booked_at: datetime
    cancelled_at: datetime
    check_in_at: datetime  # check-in date at the property's check-in time, aware
    nights: int
    stay_subtotal: Decimal  # nights (+ meals) after discounts
    cleaning_fee: Decimal
    service_fee: Decimal
    currency: str
    by_host: bool = False
    refundable: Decimal | None = None  # captured minus already refunded; None: no cap


@dataclass(frozen=True)
class Refund:
    amount: Decimal
    stay: Decimal
    cleaning_fee: Decimal
    service_fee: Decimal
    rule: str  # a short machine-readable name of the rule that applied

    def as_dict(self) -> dict:
        return {
            "amount": str(self.amount),
            "stay": str(self.stay),
            "cleaning_fee": str(self.cleaning_fee),
            "service_fee": str(self.service_fee),
            "rule": self.rule,
        }


def _nights_begun(data: RefundInput) -> int:
    if data.cancelled_at < data.check_in_at:
        return 0
    elapsed = data.cancelled_at - data.check_in_at
    return min(data.nights, elapsed // timedelta(days=1) + 1)


def _stay_fraction(data: RefundInput) -> tuple[Decimal, str]:
    before_check_in = data.check_in_at - data.cancelled_at
    if data.policy == "flexible":
        if before_check_in >= timedelta(hours=24):
            return FULL, "flexible_full"
        kept = max(1, _nights_begun(data))
        return Decimal(data.nights - kept) / Decimal(data.nights), "flexible_nights_not_stayed"
    if data.policy == "moderate":
        if before_check_in >= timedelta(days=5):
            return FULL, "moderate_full"
        return HALF, "moderate_half"
    if data.policy == "strict":
        grace = data.cancelled_at - data.booked_at <= timedelta(hours=48)
        if grace and before_check_in >= timedelta(days=14):
            return FULL, "strict_grace_full"
        if before_check_in >= timedelta(days=7):
            return HALF, "strict_half"
        return NONE, "strict_none"
    raise ValueError(f"unknown cancellation policy {data.policy!r}")


def compute_refund(data: RefundInput) -> Refund:
    if data.by_host:
        fraction, rule = FULL, "host_cancelled"
        cleaning = data.cleaning_fee
    else:
        fraction, rule = _stay_fraction(data)
        cleaning = data.cleaning_fee if data.cancelled_at < data.check_in_at else NONE
    stay = quantize(data.stay_subtotal * fraction, data.currency)
    service = quantize(data.service_fee * fraction, data.currency)
    cleaning = quantize(cleaning, data.currency)
    if data.refundable is not None:
        excess = stay + cleaning + service - max(data.refundable, NONE)
        if excess > 0:
            rule = f"{rule}_capped"
            parts = [stay, service, cleaning]
            for index, part in enumerate(parts):
                taken = min(excess, part)
                parts[index] = part - taken
                excess -= taken
            stay, service, cleaning = parts
    return Refund(
        amount=stay + cleaning + service,
        stay=stay,
        cleaning_fee=cleaning,
        service_fee=service,
        rule=rule,
    )
