"""Under ASGI the middleware chain and the views run in one thread: one hop from the event
loop per request instead of one per middleware method (core.middleware)."""

import inspect

import pytest
from asgiref.sync import SyncToAsync, iscoroutinefunction
from django.conf import settings
from django.core.handlers.asgi import ASGIHandler
from django.test import AsyncClient

from core.middleware import SyncViewsMiddleware
from core.request_id import RequestIdMiddleware


def test_asgi_handler_hops_into_a_thread_once_for_the_whole_chain():
    assert settings.MIDDLEWARE[-1] == "core.middleware.SyncViewsMiddleware"
    chain = ASGIHandler()._middleware_chain
    assert isinstance(chain, SyncToAsync)  # the one hop
    middleware = inspect.unwrap(chain.func)  # each sits in convert_exception_to_response
    assert isinstance(middleware, RequestIdMiddleware)  # outermost, in sync mode
    seen = []
    while not isinstance(middleware, SyncViewsMiddleware):
        seen.append(type(middleware).__name__)
        assert not iscoroutinefunction(middleware)
        assert not isinstance(middleware.get_response, SyncToAsync)  # no hop inside
        middleware = inspect.unwrap(middleware.get_response)
    assert len(seen) == len(settings.MIDDLEWARE) - 1


@pytest.mark.django_db
async def test_requests_through_the_async_handler_still_work():
    response = await AsyncClient().get("/api/v1/properties/")
    assert response.status_code == 200
    assert response["X-Request-ID"] and response["X-Frame-Options"] == "DENY"
