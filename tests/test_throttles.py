"""The general API throttles (core.api.throttles): a sliding window counter, refused
requests not counted, Retry-After telling when the next request fits."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from accounts.tests.utils import assert_error
from core.api.throttles import seconds_until_allowed

pytestmark = pytest.mark.django_db

URL = "/api/v1/properties/"
WINDOW_START = datetime(2026, 11, 21, 12, 0, 0, tzinfo=UTC)  # a minute boundary


@pytest.fixture
def three_a_minute(rates):
    rates(anon="3/min", user="1000/min")


def _get_at(seconds: float):
    with time_machine.travel(WINDOW_START + timedelta(seconds=seconds), tick=False):
        return APIClient().get(URL)


def test_the_previous_window_weighs_by_how_much_of_it_is_still_in_the_period(three_a_minute):
    assert [_get_at(50).status_code for _ in range(3)] == [200, 200, 200]
    refused = _get_at(55)
    assert_error(refused, 429, "throttled")
    assert int(refused["Retry-After"]) == 25  # 20 s into the next window: 3 x 2/3 + 1 = 3

    # 10 s into the next minute the three still weigh 2.5: no burst at the boundary
    assert _get_at(70).status_code == 429
    assert _get_at(80).status_code == 200  # 3 x 2/3 + 1 <= 3
    assert _get_at(81).status_code == 429  # 3 x 0.65 + 2 > 3


def test_refused_requests_do_not_count(three_a_minute):
    for _ in range(3):
        _get_at(1)
    assert all(_get_at(2 + i).status_code == 429 for i in range(20))
    assert _get_at(61).status_code == 429  # the previous three still weigh 2.95
    assert [_get_at(121).status_code for _ in range(3)] == [200, 200, 200]


@pytest.mark.parametrize(
    ("previous", "current", "limit", "elapsed", "expected"),
    [
        (0, 2, 3, 10, 0.0),  # fits now
        (3, 0, 3, 0, 20.0),  # previous weight must fall from 3 to 2: a third of the window
        (3, 1, 3, 30, 10.0),  # 3 x (1 - 40/60) + 1 + 1 = 3 at 40 s
        (0, 3, 3, 45, 35.0),  # next window, 20 s in: 3 x 2/3 + 1 = 3
        (0, 1, 1, 59, 61.0),  # a limit of one: this window's request must age out fully
    ],
)
def test_seconds_until_allowed(previous, current, limit, elapsed, expected):
    assert seconds_until_allowed(previous, current, limit, elapsed, 60) == pytest.approx(expected)


def test_the_user_rate_counts_signed_in_users_and_leaves_anonymous_clients_to_theirs(rates):
    rates(anon="1000/min", user="2/min")
    signed_in = APIClient()
    signed_in.force_authenticate(UserFactory())

    assert [signed_in.get(URL).status_code for _ in range(3)] == [200, 200, 429]
    assert [APIClient().get(URL).status_code for _ in range(3)] == [200, 200, 200]
