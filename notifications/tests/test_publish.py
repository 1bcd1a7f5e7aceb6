"""Publishing to users' notification groups (notifications.events) on top of
core.publishing (whose own tests are core/tests/test_publishing.py)."""

from datetime import date

import pytest
from django.db import transaction

from core import publishing
from notifications.events import publish_to_users, user_group

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sent(monkeypatch):
    sends = []
    monkeypatch.setattr(publishing, "_send_batch", sends.extend)
    return sends


def test_each_user_gets_the_payload_once_after_commit(sent):
    with transaction.atomic():
        publish_to_users([3, 4, 3], {"type": "booking.confirmed", "booking": {"id": 9}})
        assert sent == []
    message = {"type": "notify", "payload": {"type": "booking.confirmed", "booking": {"id": 9}}}
    assert sent == [(user_group(3), message), (user_group(4), message)]


def test_an_unserialisable_payload_fails_where_it_is_made(sent):
    with pytest.raises(TypeError), transaction.atomic():
        publish_to_users([3], {"type": "oops", "when": date(2027, 5, 1)})
    assert sent == []
