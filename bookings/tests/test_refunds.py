"""The refund rules of DESIGN.md section 3, as a table."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from bookings.refunds import RefundInput, compute_refund

CHECK_IN = datetime(2027, 6, 20, 15, 0, tzinfo=UTC)
D = Decimal


def _input(policy, *, booked_before, cancelled_before, nights=4, by_host=False, currency="EUR"):
    return RefundInput(
        policy=policy,
        booked_at=CHECK_IN - booked_before,
        cancelled_at=CHECK_IN - cancelled_before,
        check_in_at=CHECK_IN,
        nights=nights,
        stay_subtotal=D("400.00"),
        cleaning_fee=D("50.00"),
        service_fee=D("40.00"),
        currency=currency,
        by_host=by_host,
    )


days, hours = (lambda n: timedelta(days=n)), (lambda n: timedelta(hours=n))

# policy, booked before check-in, cancelled before check-in, nights, by host,
# expected (stay, cleaning, service, rule)
TABLE = [
    ("flexible", days(30), days(2), 4, False, ("400.00", "50.00", "40.00", "flexible_full")),
    ("flexible", days(30), hours(24), 4, False, ("400.00", "50.00", "40.00", "flexible_full")),
    (
        "flexible",
        days(30),
        hours(23),
        4,
        False,
        ("300.00", "50.00", "30.00", "flexible_nights_not_stayed"),
    ),
    (
        "flexible",
        days(30),
        -hours(1),
        4,
        False,
        ("300.00", "0.00", "30.00", "flexible_nights_not_stayed"),
    ),
    (
        "flexible",
        days(30),
        -days(2) - hours(1),
        4,
        False,
        ("100.00", "0.00", "10.00", "flexible_nights_not_stayed"),
    ),
    (
        "flexible",
        days(30),
        -days(10),
        4,
        False,
        ("0.00", "0.00", "0.00", "flexible_nights_not_stayed"),
    ),
    (
        "flexible",
        days(30),
        hours(2),
        1,
        False,
        ("0.00", "50.00", "0.00", "flexible_nights_not_stayed"),
    ),
    ("moderate", days(30), days(6), 4, False, ("400.00", "50.00", "40.00", "moderate_full")),
    ("moderate", days(30), days(5), 4, False, ("400.00", "50.00", "40.00", "moderate_full")),
    (
        "moderate",
        days(30),
        days(5) - timedelta(seconds=1),
        4,
        False,
        ("200.00", "50.00", "20.00", "moderate_half"),
    ),
    ("moderate", days(30), -days(1), 4, False, ("200.00", "0.00", "20.00", "moderate_half")),
    ("strict", days(20), days(19), 4, False, ("400.00", "50.00", "40.00", "strict_grace_full")),
    (
        "strict",
        days(20),
        days(18) + hours(1),
        4,
        False,
        ("400.00", "50.00", "40.00", "strict_grace_full"),
    ),
    ("strict", days(20), days(17), 4, False, ("200.00", "50.00", "20.00", "strict_half")),
    ("strict", days(15), days(13), 4, False, ("200.00", "50.00", "20.00", "strict_half")),
    ("strict", days(30), days(7), 4, False, ("200.00", "50.00", "20.00", "strict_half")),
    ("strict", days(30), days(6), 4, False, ("0.00", "50.00", "0.00", "strict_none")),
    ("strict", days(30), -days(1), 4, False, ("0.00", "0.00", "0.00", "strict_none")),
    ("strict", days(30), hours(1), 4, True, ("400.00", "50.00", "40.00", "host_cancelled")),
    ("moderate", days(30), -days(1), 4, True, ("400.00", "50.00", "40.00", "host_cancelled")),
]


@pytest.mark.parametrize(("policy", "booked", "cancelled", "nights", "by_host", "expected"), TABLE)
def test_refund_table(policy, booked, cancelled, nights, by_host, expected):
    refund = compute_refund(
        _input(
            policy, booked_before=booked, cancelled_before=cancelled, nights=nights, by_host=by_host
        )
    )
    stay, cleaning, service, rule = expected
    assert (refund.stay, refund.cleaning_fee, refund.service_fee, refund.rule) == (
        D(stay),
        D(cleaning),
        D(service),
        rule,
    )
    assert refund.amount == D(stay) + D(cleaning) + D(service)


def test_refund_is_quantized_to_the_currency_minor_unit():
    data = _input("moderate", booked_before=days(30), cancelled_before=days(1), currency="JPY")
    data = RefundInput(**{**data.__dict__, "stay_subtotal": D("333"), "service_fee": D("33")})
    refund = compute_refund(data)
    assert refund.stay == D("167") and refund.service_fee == D("17")


def test_unknown_policy_is_refused():
    with pytest.raises(ValueError):
        compute_refund(_input("lenient", booked_before=days(3), cancelled_before=days(2)))
