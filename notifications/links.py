"""Where emails send people: the site's address and links into the browser client's hash
routes (web/static/web/app.js: ``#/b/<booking>``, ``#/n/<negotiation>``, ``#/p/<listing>``,
``#/trips``, ...), worked out from a notification's data."""

from django.conf import settings


def site_url() -> str:
    return settings.FRONTEND_URL.rstrip("/")


def links(data: dict) -> dict:
    """Links into the browser client (hash routes: the server serves one page)."""
    base = site_url()
    found = {
        "home": f"{base}/",
        "trips": f"{base}/#/trips",
        "reservations": f"{base}/#/reservations",
    }
    if data.get("id") is not None:
        found["booking"] = f"{base}/#/b/{data['id']}"
    if data.get("booking") is not None and not isinstance(data.get("booking"), dict):
        found.setdefault("booking", f"{base}/#/b/{data['booking']}")
    if data.get("negotiation") is not None:
        found["negotiation"] = f"{base}/#/n/{data['negotiation']}"
    if data.get("property") is not None:
        found["listing"] = f"{base}/#/p/{data['property']}"
    return found
