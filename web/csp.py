"""Content-Security-Policy of the browser client.

Only the client's pages carry it (the Swagger UI and the admin have their own needs):
scripts and styles from this origin only (no inline code), API calls and WebSockets to
this host only, images from here or from the media CDN when Cloudinary is configured.
"""

from functools import wraps

from django.conf import settings


def policy_for(request) -> str:
    host = request.get_host()
    images = ["'self'", "data:", "blob:"]
    if settings.CLOUDINARY_URL:
        images.append("https://res.cloudinary.com")
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": images,
        "connect-src": ["'self'", f"ws://{host}", f"wss://{host}"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


def with_csp(view):
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response.headers["Content-Security-Policy"] = policy_for(request)
        return response

    return wrapped
