"""The browser books the price it showed (issue 17): the booking request carries the quote's
total and currency; when the host changed the price meanwhile, the page shows the new quote
and charges nothing, and booking again accepts it."""

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection

from bookings.models import Booking, Payment
from bookings.tests.factories import bookable_property, verified_guest
from properties.quotes import property_today
from properties.services import property_update
from tests.e2e.conftest import browser, login, new_page, usable_password

pytestmark = pytest.mark.django_db(transaction=True)


def _in_thread(fn):
    """ORM calls while Playwright's loop runs in this thread go through another thread."""

    def run():
        try:
            return fn()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result()


def test_a_price_raised_while_the_guest_looks_is_shown_and_not_charged(live_server_url, shots):
    prop = bookable_property(nightly="100.00", photos=3, instant_book=True, title="Quay flat")
    guest = usable_password(verified_guest())
    check_in = property_today(prop) + timedelta(days=30)
    check_out = check_in + timedelta(days=3)
    errors: list[str] = []

    with browser() as chromium:
        page = new_page(chromium, live_server_url, errors=errors)
        login(page, guest.email)
        page.goto(f"/#/?city=Lisbon&check_in={check_in}&check_out={check_out}&guests=2")
        page.locator(f'.result[data-property="{prop.pk}"] a').first.click()
        total = page.get_by_test_id("quote-total")
        total.wait_for()
        assert "363.00" in total.inner_text()  # 3 x 100 + 30 cleaning + 10 % service fee

        # the host raises the nightly price while the guest looks at 363.00
        _in_thread(
            lambda: property_update(
                prop=prop, stay_types=[{"kind": "standard", "nightly_price": Decimal("150.00")}]
            )
        )
        page.get_by_role("button", name="Book now").click()
        notice = page.get_by_test_id("price-changed")
        notice.wait_for()
        assert "528.00" in notice.inner_text()  # 450 + 30 + 48
        assert "528.00" in total.inner_text()
        page.screenshot(path=str(shots / "price-changed.png"), full_page=True)
        assert _in_thread(lambda: (Booking.objects.count(), Payment.objects.count())) == (0, 0)

        # booking again books the price now shown
        page.get_by_role("button", name="Book now").click()
        page.get_by_test_id("booking-total").wait_for()
        assert "528.00" in page.get_by_test_id("booking-total").inner_text()

    booking = Booking.objects.get()
    assert (booking.total, booking.status) == (Decimal("528.00"), "confirmed")
    assert [e for e in errors if not e.startswith("Failed to load resource")] == []
