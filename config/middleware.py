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
"""


class SyncViewsMiddleware:
    sync_capable = True
    async_capable = False

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)
