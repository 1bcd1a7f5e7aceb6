"""``SyncViewsMiddleware``: run the middleware chain and the views in one thread.

Under ASGI, Django runs each middleware in the mode of the handler inside it: every
middleware that can run async does so as long as everything inside it can, and
``MiddlewareMixin`` (all of Django's) then calls its ``process_request`` and
``process_response`` through ``sync_to_async``, a hop to a thread and back for each.
Parley's views are synchronous (DRF), so a request used to hop about a dozen times
between the event loop and its thread (Django's docs put a switch at around a
millisecond); measured on the search benchmark's plain JSON view in an A/B run, 3.6-4.6 ms
of server CPU per request with the hops and 2.4-2.7 ms without (docs/benchmarks.md).

Listed last in ``MIDDLEWARE``, this synchronous-only middleware makes every middleware
outside it run synchronously too: the ASGI handler makes one hop into a thread and the
whole chain and the view run there. It does nothing else.

``PrivateResponsesMiddleware``: personal API answers are never stored by a cache.
"""

from django.conf import settings
from django.utils.cache import patch_vary_headers
from django.utils.functional import SimpleLazyObject, empty


class SyncViewsMiddleware:
    sync_capable = True
    async_capable = False

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)


class PrivateResponsesMiddleware:
    """``Cache-Control: private, no-store`` on personal API answers, ``Vary`` on all of them.

    An answer is personal when the request carried credentials (a Bearer header, the
    access or refresh cookie), when it was authenticated, or when it sets or clears
    cookies (the token, refresh and logout answers). Any API answer may differ by user
    (a listing shows its owner more), so every one varies on ``Authorization`` and
    ``Cookie``: a shared cache never hands one person's answer to another.
    """

    sync_capable = True
    async_capable = False

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not request.path_info.startswith("/api/"):
            return response
        patch_vary_headers(response, ("Authorization", "Cookie"))
        if _is_personal(request, response):
            response["Cache-Control"] = "private, no-store"
            del response["Expires"]
        return response


def _is_personal(request, response) -> bool:
    if request.META.get("HTTP_AUTHORIZATION") or response.cookies:
        return True
    cookies = request.COOKIES
    if settings.JWT_ACCESS_COOKIE in cookies or settings.JWT_REFRESH_COOKIE in cookies:
        return True
    # The user DRF authenticated (it replaces the request's lazy user); a lazy session
    # user is only looked at if something already evaluated it.
    user = request.__dict__.get("user")
    if isinstance(user, SimpleLazyObject):
        user = None if user._wrapped is empty else user._wrapped
    return bool(user is not None and user.is_authenticated)
