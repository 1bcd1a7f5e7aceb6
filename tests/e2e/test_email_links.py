"""Every kind of link in a delivered email opens the right page of the browser client
(issue 20: links pointed at /trips/1/pay, /trips/1 and /negotiations/2, Django 404s).

The emails are made by the services with ``FRONTEND_URL`` set to the live server, taken
from the locmem outbox, and each ``<a href>`` of their HTML is followed in Chromium by
the person it was sent to."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail

from bookings import services as booking_services
from bookings.tests.factories import bookable_property, verified_guest
from negotiation import services as negotiation_services
from properties.quotes import property_today
from tests.e2e.conftest import browser, login, new_page, usable_password

pytestmark = pytest.mark.django_db(transaction=True)


def _links(message) -> list[str]:
    return re.findall(r'<a href="([^"]+)"', message.alternatives[0][0])


def test_each_kind_of_email_link_opens_its_page(live_server_url, settings, shots):
    settings.FRONTEND_URL = live_server_url
    prop = bookable_property(instant_book=False, title="Quay loft")
    host, guest = usable_password(prop.host), usable_password(verified_guest())
    start = property_today(prop) + timedelta(days=30)
    negotiation = negotiation_services.negotiation_open(
        guest=guest, property_id=prop.pk, check_in=start, check_out=start + timedelta(days=3),
        guests=2, stay_type="standard", amount=Decimal("250.00"),
    ).negotiation  # fmt: skip
    negotiation_services.negotiation_accept(negotiation_id=negotiation.pk, user=host)
    later = start + timedelta(days=10)
    request, _ = booking_services.booking_create(
        guest=guest, property_id=prop.pk, check_in=later, check_out=later + timedelta(days=2),
        guests=1, stay_type="standard", payment_token="tok_ok",
    )  # fmt: skip
    by_subject = {m.subject: m for m in mail.outbox}
    offer = next(m for s, m in by_subject.items() if s.startswith("A new negotiation"))
    pay = next(m for s, m in by_subject.items() if s.startswith("Pay for booking"))
    asked = next(m for s, m in by_subject.items() if s.startswith("New request"))
    assert offer.to == [host.email] and pay.to == [guest.email] and asked.to == [host.email]

    visits = [  # (who, link, what the page must show)
        (host, f"/#/n/{negotiation.pk}", _links(offer), "Quay loft"),
        (guest, "/#/b/", _links(pay), "Pay now"),
        (guest, f"/#/p/{prop.pk}", _links(pay), "Quay loft"),
        (host, f"/#/b/{request.pk}", _links(asked), "Approve"),
    ]
    errors: list[str] = []
    with browser() as chromium:
        for n, (user, route, links, expected) in enumerate(visits):
            (link,) = [x for x in dict.fromkeys(links) if route in x]
            assert link.startswith(live_server_url + "/#/"), link
            page = new_page(chromium, live_server_url, errors=errors)
            login(page, user.email)
            page.locator(f'#nav a[data-user="{user.email}"]').wait_for()
            page.goto(link)
            page.get_by_text(expected).first.wait_for()
            assert "Not found" not in page.locator("#main").inner_text()
            page.screenshot(path=str(shots / f"email-link-{n}.png"), full_page=True)
            page.context.close()
