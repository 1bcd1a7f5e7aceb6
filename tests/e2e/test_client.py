"""The browser client against a real server, in headless Chromium: two people (two browser
contexts, each with its own cookies) negotiate to a confirmed booking and see each step live;
a dropped connection catches up without gaps or duplicates; refused actions show words;
a host creates and publishes a listing."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from bookings.models import Booking
from bookings.tests.factories import bookable_property, verified_guest
from negotiation import services as negotiation_services
from negotiation.models import Negotiation
from properties.models import Property
from properties.tests.factories import HostFactory, png_bytes
from tests.e2e.conftest import browser, login, new_page, usable_password

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}


def _stay():
    today = timezone.now().date()
    return today + timedelta(days=30), today + timedelta(days=33)


def _seqs(page) -> list[int]:
    return [int(s) for s in page.locator(".thread [data-seq]").evaluate_all(
        "els => els.map(e => e.dataset.seq)"
    )]  # fmt: skip


def _assert_thread_complete(page, last_seq: int) -> None:
    """Every seq from 1 to last_seq shown exactly once, in order."""
    assert _seqs(page) == list(range(1, last_seq + 1))


def _offer_card(page, amount: str):
    return page.locator(f'.offer-card.current[data-amount="{amount}"]')


def _counter(page, amount: str) -> None:
    page.get_by_label(re.compile("Your counter-offer")).fill(amount)
    page.get_by_role("button", name="Counter").click()


def _no_console_errors(errors: list[str]) -> None:
    """No script error and no CSP violation ("Refused to ..."); refused API calls (4xx)
    are expected and Chromium logs each as a failed resource load."""
    assert [e for e in errors if not e.startswith("Failed to load resource")] == []


def test_offer_counter_counter_accept_pay_seen_live_by_both(live_server_url, shots):
    prop = bookable_property(nightly="100.00", photos=3, title="Harbour loft")
    host = usable_password(prop.host)
    guest = usable_password(verified_guest())
    check_in, check_out = _stay()
    errors: list[str] = []

    with browser() as chromium:
        host_page = new_page(chromium, live_server_url, errors=errors)
        guest_page = new_page(chromium, live_server_url, errors=errors)
        login(host_page, host.email)
        login(guest_page, guest.email)
        host_page.goto("/#/reservations")
        host_page.get_by_role("heading", name="Reservations").wait_for()

        # Guest: search, open the listing, see the live quote, make an offer.
        guest_page.goto(f"/#/?city=Lisbon&check_in={check_in}&check_out={check_out}&guests=2")
        guest_page.locator(f'.result[data-property="{prop.pk}"]').wait_for()
        guest_page.screenshot(path=str(shots / "01-search.png"))
        guest_page.locator(f'.result[data-property="{prop.pk}"] a').first.click()
        total = guest_page.get_by_test_id("quote-total")
        total.wait_for()
        assert "363.00" in total.inner_text()  # 3 x 100 + 30 cleaning + 10 % service fee
        guest_page.screenshot(path=str(shots / "02-property.png"), full_page=True)
        guest_page.get_by_label(re.compile("Your offer")).fill("280")
        guest_page.get_by_label(re.compile("Message to the host")).fill("Three quiet nights?")
        guest_page.get_by_role("button", name="Make an offer").click()
        guest_page.wait_for_url(re.compile(r"#/n/\d+$"))
        _offer_card(guest_page, "280.00").wait_for()

        # Host: the new conversation appears in the open reservations page, no reload.
        row = host_page.locator("[data-negotiation] a").first
        row.wait_for()
        host_page.screenshot(path=str(shots / "03-host-reservations.png"))
        row.click()
        _offer_card(host_page, "280.00").wait_for()
        host_page.get_by_text("Your turn.").wait_for()
        assert host_page.get_by_role("button", name="Withdraw").count() == 0  # guests only
        _counter(host_page, "340")

        # Guest sees the counter live, with its countdown; a too-low offer is refused in words.
        _offer_card(guest_page, "340.00").wait_for()
        assert re.search(r"\d+h \d+m left", guest_page.locator(".offer-card.current").inner_text())
        guest_page.get_by_text("Your turn.").wait_for()
        _counter(guest_page, "270")
        error = guest_page.get_by_test_id("room-error")
        error.wait_for()
        assert "{" not in error.inner_text() and len(error.inner_text()) > 10
        guest_page.screenshot(path=str(shots / "04-offer-too-low.png"))
        _counter(guest_page, "310")

        # Host sees it live and accepts; the guest gets the banner with "Pay now".
        _offer_card(host_page, "310.00").wait_for()
        host_page.get_by_role("button", name="Accept").click()
        banner = guest_page.get_by_test_id("banner")
        banner.get_by_role("link", name="Pay now").wait_for()
        assert "Offer accepted" in banner.inner_text()
        guest_page.screenshot(path=str(shots / "05-accepted-guest.png"))
        banner.get_by_role("link", name="Pay now").click()
        guest_page.get_by_test_id("booking-total").wait_for()
        assert "310.00" in guest_page.get_by_test_id("booking-total").inner_text()
        guest_page.get_by_role("button", name="Pay now").click()
        guest_page.locator('main [data-status="confirmed"]').wait_for()
        guest_page.screenshot(path=str(shots / "06-paid.png"))

        # The host's room updates by itself: the booking is confirmed.
        host_page.get_by_test_id("banner").locator('[data-status="confirmed"]').wait_for()
        host_page.screenshot(path=str(shots / "07-host-room-confirmed.png"), full_page=True)
        nid = int(host_page.url.rsplit("/", 1)[1])

        # Both lists show it; the bell has the host's notifications.
        guest_page.goto("/#/trips")
        guest_page.locator('[data-booking] [data-status="confirmed"]').wait_for()
        host_page.goto("/#/reservations")
        host_page.locator('[data-booking] [data-status="confirmed"]').wait_for()
        assert int(host_page.locator("#bell-count").inner_text()) >= 3
        host_page.locator("#bell").click()
        host_page.screenshot(path=str(shots / "08-host-bell.png"))
        _no_console_errors(errors)

    negotiation = Negotiation.objects.get(pk=nid)
    assert negotiation.status == "accepted"
    booking = Booking.objects.get(pk=negotiation.booking_id)
    assert booking.status == "confirmed" and booking.total == Decimal("310.00")


def test_dropped_connection_catches_up_without_duplicates(live_server_url, shots):
    prop = bookable_property(nightly="100.00", photos=3)
    host = usable_password(prop.host)
    guest = usable_password(verified_guest())
    check_in, check_out = _stay()
    negotiation = negotiation_services.negotiation_open(
        guest=guest, property_id=prop.pk, check_in=check_in, check_out=check_out, guests=2,
        stay_type="standard", amount=Decimal("280.00"), message="Hello!",
    ).negotiation  # fmt: skip
    errors: list[str] = []

    with browser() as chromium:
        host_page = new_page(chromium, live_server_url, errors=errors)
        guest_page = new_page(chromium, live_server_url, errors=errors, viewport=PHONE)
        login(host_page, host.email)
        login(guest_page, guest.email)
        for page in (host_page, guest_page):
            page.goto(f"/#/n/{negotiation.pk}")
            page.locator('[data-testid="room-conn"][data-state="open"]').wait_for()
        start = negotiation.last_seq
        _assert_thread_complete(guest_page, start)
        # Presence: the host joined first and sees the guest arrive, and vice versa.
        host_page.get_by_text("Guest is online").wait_for()
        guest_page.get_by_text("Host is online").wait_for()  # told by the host on joining

        # Typing indicator and read receipts.
        guest_page.get_by_label("Message", exact=True).press_sequentially("hi")
        host_page.get_by_test_id("typing").get_by_text("Guest is typing").wait_for()
        guest_page.get_by_label("Message", exact=True).fill("")

        # The guest's network goes away. Chromium's offline emulation does not close open
        # WebSockets, but it fires "offline", on which the client closes them itself.
        guest_page.context.set_offline(True)
        guest_page.locator('[data-testid="room-conn"][data-state="offline"]').wait_for()
        assert guest_page.evaluate("P.room.socket.ws === null")

        # Meanwhile the host counters and writes.
        _counter(host_page, "340")
        host_page.get_by_label("Message", exact=True).fill("Best I can do.")
        host_page.get_by_role("button", name="Send").click()
        host_page.locator('.thread [data-event="message.created"]').last.get_by_text(
            "Best I can do."
        ).wait_for()
        guest_page.wait_for_timeout(300)
        assert _offer_card(guest_page, "340.00").count() == 0  # really cut off
        guest_page.screenshot(path=str(shots / "09-guest-offline-phone.png"))

        # Back online: reconnect with after=<last seq>; the missed events arrive once each.
        guest_page.context.set_offline(False)
        _offer_card(guest_page, "340.00").wait_for()
        guest_page.locator(".thread").get_by_text("Best I can do.").wait_for()
        _assert_thread_complete(guest_page, start + 2)

        # Read receipts: the host's message shows "Seen" once the guest has it.
        host_page.locator(".thread .item.mine .receipt", has_text="Seen").last.wait_for()

        # Drop the socket once more (server side gone: close it from the page) and act.
        guest_page.evaluate("P.room.socket.ws.close()")
        host_page.get_by_label("Message", exact=True).fill("Still there?")
        host_page.get_by_role("button", name="Send").click()
        guest_page.locator(".thread").get_by_text("Still there?").wait_for()
        _assert_thread_complete(guest_page, start + 3)
        guest_page.screenshot(path=str(shots / "10-guest-room-phone.png"), full_page=True)
        _assert_thread_complete(host_page, start + 3)
        _no_console_errors(errors)


def test_host_creates_and_publishes_a_listing_with_errors_in_words(
    live_server_url, shots, tmp_path
):
    host = usable_password(HostFactory())
    photos = []
    for n, color in enumerate([(200, 80, 40), (40, 120, 200), (60, 160, 90)]):
        path = tmp_path / f"photo{n}.png"
        path.write_bytes(png_bytes(size=(320, 240), color=color))
        photos.append(str(path))
    start = timezone.now().date() + timedelta(days=10)
    errors: list[str] = []

    with browser() as chromium:
        page = new_page(chromium, live_server_url, errors=errors, viewport=PHONE)
        login(page, host.email)
        page.goto("/#/host/new")
        page.get_by_label("Title").fill("Cabin by the lake")
        page.get_by_role("button", name="Create draft").click()
        page.wait_for_url(re.compile(r"#/host/\d+$"))
        pid = int(page.url.rsplit("/", 1)[1])

        # Publishing too early: each missing item in words beside its field.
        page.get_by_role("button", name="Publish").click()
        photo_error = page.locator('[data-error-for="photos"]')
        photo_error.wait_for()
        assert "at least 3 photos" in photo_error.inner_text()
        assert page.locator('[data-error-for="description"]').inner_text().startswith("Add")
        page.screenshot(path=str(shots / "11-publish-errors-phone.png"), full_page=True)

        page.get_by_label("Description").fill("A quiet wooden cabin with a jetty and a sauna.")
        page.get_by_label("Address").fill("2 Lake Road")
        page.get_by_label("City").fill("Tampere")
        page.get_by_label("Country").fill("FI")
        page.get_by_label("Latitude").fill("61.4978")
        page.get_by_label("Longitude").fill("23.7610")
        page.get_by_label("Time zone").fill("Europe/Helsinki")
        page.get_by_label("Nightly price").fill("-5")
        page.get_by_role("button", name="Save").click()
        price_error = page.locator('[data-error-for="nightly_price"]')
        price_error.wait_for()
        assert "{" not in price_error.inner_text()
        page.get_by_label("Nightly price").fill("120")
        page.get_by_label("Add photos").set_input_files(photos)
        page.locator(".photos li").nth(2).wait_for()
        page.get_by_role("button", name="Publish").click()
        page.get_by_test_id("listing-status").get_by_text("published").wait_for()

        page.get_by_label("From").fill(start.isoformat())
        page.get_by_label("Until (exclusive)").fill((start + timedelta(days=3)).isoformat())
        page.get_by_label("Note").fill("Family visit")
        page.get_by_role("button", name="Block these dates").click()
        page.locator("[data-block]").wait_for()
        page.screenshot(path=str(shots / "12-host-editor-phone.png"), full_page=True)

        # The public page shows the blocked nights in its calendar.
        page.goto(f"/#/p/{pid}")
        page.locator(f'.calendar button[data-date="{start.isoformat()}"].blocked').wait_for()
        _no_console_errors(errors)

    prop = Property.objects.get(pk=pid)
    assert prop.status == "published" and prop.photos.count() == 3
    assert prop.blocks.count() == 1


def test_forgotten_password_reset_through_the_emailed_link(live_server_url, shots):
    from accounts.tokens import password_reset_link_parts

    guest = usable_password(verified_guest())
    uid, token = password_reset_link_parts(guest)  # what the emailed link carries
    new_password = "a-brand-new-passphrase"
    errors: list[str] = []

    with browser() as chromium:
        page = new_page(chromium, live_server_url, errors=errors, viewport=PHONE)
        page.goto("/#/login")
        page.get_by_role("link", name="Forgot your password?").click()
        page.get_by_label("Email").fill(guest.email)
        page.get_by_role("button", name="Send me a link").click()
        page.get_by_role("heading", name="Check your email").wait_for()

        page.goto(f"/reset-password?uid={uid}&token={token}")
        page.get_by_role("heading", name="Choose a new password").wait_for()
        page.get_by_label("New password", exact=True).fill("short")  # refused in words, not JSON
        page.get_by_role("button", name="Save the new password").click()
        refusal = page.locator('[data-error-for="new_password"]')
        refusal.wait_for()
        assert "short" in refusal.inner_text().lower() and "{" not in refusal.inner_text()
        page.get_by_label("New password", exact=True).fill(new_password)
        page.get_by_role("button", name="Save the new password").click()
        page.wait_for_url(re.compile(r"#/login$"))
        page.screenshot(path=str(shots / "13-password-reset-phone.png"), full_page=True)
        login(page, guest.email, new_password)

        # The link works once.
        again = new_page(chromium, live_server_url, errors=errors)
        again.goto(f"/reset-password?uid={uid}&token={token}")
        again.get_by_label("New password", exact=True).fill("yet-another-passphrase")
        again.get_by_role("button", name="Save the new password").click()
        again.locator('[data-error-for=""]').wait_for()
        assert "link" in again.locator('[data-error-for=""]').inner_text().lower()
    _no_console_errors(errors)
