"""What an email says, worked out once for the text and HTML parts: the listing, the
dates with weekdays and times in the property's time zone, guests, money with its
currency, the cancellation policy in words, the hold's end in words, the other party's
first name, and links into the browser client's hash routes (notifications/links.py).

Everything comes from the notification's data (a snapshot taken when it was made), so
this module reads no booking or negotiation rows.
"""

from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from django.utils import timezone

from core.money import minor_digits
from notifications import unsubscribe
from notifications.links import links, site_url
from notifications.recipients import OPTIONAL_EMAILS

POLICY_WORDS = {
    "flexible": "Flexible: a full refund until 24 hours before check-in; after that, the "
    "nights not stayed are refunded.",
    "moderate": "Moderate: a full refund until 5 days before check-in; after that, 50 %.",
    "strict": "Strict: a full refund within 48 hours of booking if check-in is at least "
    "14 days away; 50 % until 7 days before check-in; no refund after that.",
}

STAY_TYPES = {
    "standard": "Standard",
    "with_meals": "With meals",
    "paying_guest": "Paying guest (monthly)",
}


def money(amount, currency: str | None) -> str:
    """``1,234.50 EUR`` (the currency's own minor digits); '' for no amount."""
    if amount in (None, ""):
        return ""
    try:
        value = Decimal(str(amount))
    except InvalidOperation:
        return str(amount)
    if not currency:
        return f"{value:,}"
    return f"{value:,.{minor_digits(currency)}f} {currency}"


def _zone(data: dict) -> ZoneInfo:
    try:
        return ZoneInfo(data.get("timezone") or "UTC")
    except (ValueError, KeyError):
        return ZoneInfo("UTC")


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return None


def _instant(value: str | None) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return None
    if parsed is not None and timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, ZoneInfo("UTC"))
    return parsed


def day_words(day: date) -> str:
    """``Tue 1 Jun 2027``."""
    return f"{day:%a} {day.day} {day:%b %Y}"


def duration_words(seconds: float) -> str:
    """``28 minutes``, ``3 hours``, ``2 days`` (rounded down, at least a minute)."""
    minutes = max(0, int(seconds // 60))
    if minutes < 1:
        return "less than a minute"
    if minutes < 120:
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} hours"
    return f"{hours // 24} days"


def deadline_words(at: datetime, zone: ZoneInfo, now: datetime) -> str:
    """``until 14:32, in 28 minutes`` (local time of the property; the day too when it is
    not today there)."""
    local = at.astimezone(zone)
    today = now.astimezone(zone).date()
    when = (
        f"{local:%H:%M}" if local.date() == today else f"{day_words(local.date())}, {local:%H:%M}"
    )
    if at <= now:
        return f"until {when} (that time has passed)"
    return f"until {when}, in {duration_words((at - now).total_seconds())}"


def _time(value: str | None, default: str) -> str:
    try:
        return time.fromisoformat(value).strftime("%H:%M") if value else default
    except ValueError:
        return default


def stay(data: dict) -> dict | None:
    """The stay in words, in the property's time zone."""
    check_in, check_out = _day(data.get("check_in")), _day(data.get("check_out"))
    if check_in is None or check_out is None:
        return None
    guests = data.get("guests")
    nights = (check_out - check_in).days
    return {
        "check_in": day_words(check_in),
        "check_out": day_words(check_out),
        "check_in_time": _time(data.get("check_in_time"), "15:00"),
        "check_out_time": _time(data.get("check_out_time"), "11:00"),
        "nights": f"{nights} night{'s' if nights != 1 else ''}",
        "guests": f"{guests} guest{'s' if guests != 1 else ''}" if guests else "",
        "stay_type": STAY_TYPES.get(data.get("stay_type") or "", ""),
        "zone": data.get("timezone") or "UTC",
    }


def recipient_role(user, data: dict) -> str | None:
    if data.get("host_id") is not None and user.pk == data.get("host_id"):
        return "host"
    if data.get("guest_id") is not None and user.pk == data.get("guest_id"):
        return "guest"
    return None


def email_context(notification, *, now: datetime | None = None) -> dict:
    """The template context of a notification's email."""
    now = now or timezone.now()
    data = notification.data or {}
    user = notification.user
    currency = data.get("currency")
    zone = _zone(data)
    role = recipient_role(user, data)
    other_name = {"guest": data.get("host_name"), "host": data.get("guest_name")}.get(role or "")
    refund = data.get("refund") if isinstance(data.get("refund"), dict) else None
    hold_end = _instant(data.get("hold_expires_at"))
    offer_end = _instant(data.get("expires_at"))
    context = {
        "user": user,
        "name": user.first_name or user.email,
        "kind": notification.kind,
        "data": data,
        "role": role,
        "by": data.get("by") or "",
        "other_name": other_name or "",
        "guest_name": data.get("guest_name") or "the guest",
        "host_name": data.get("host_name") or "the host",
        "title": data.get("title") or "",
        "stay": stay(data),
        "total": money(data.get("total"), currency),
        "list_total": money(data.get("list_total"), currency),
        "amount": money(data.get("amount"), currency),
        "line_items": [
            {"label": item.get("label", ""), "amount": money(item.get("amount"), currency)}
            for item in data.get("line_items") or []
        ],
        "refund": money(refund["amount"], currency) if refund else "",
        "policy": POLICY_WORDS.get(data.get("cancellation_policy") or "", ""),
        "hold_end": deadline_words(hold_end, zone, now) if hold_end else "",
        "offer_end": deadline_words(offer_end, zone, now) if offer_end else "",
        "links": links(data),
        "site_url": site_url(),
        "unsubscribe_url": "",
    }
    if notification.kind in OPTIONAL_EMAILS:
        context["unsubscribe_url"] = unsubscribe.url(user_id=user.pk, kind=notification.kind)
    return context
