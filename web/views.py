"""The browser client's single page. Routing happens in the browser (hash routes); the
paths that emails link to (``/verify-email``, ``/reset-password``) serve the same page."""

from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_safe

from web.csp import with_csp


@require_safe
@with_csp
@ensure_csrf_cookie  # the client echoes the csrftoken cookie in X-CSRFToken
def index(request):
    response = render(request, "web/index.html")
    response.headers["Cache-Control"] = "no-cache"
    return response
