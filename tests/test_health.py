"""Liveness and readiness probes: /healthz and /readyz."""

import pytest
from django.test import Client

CLOSED_PORT = "redis://127.0.0.1:1/0"  # nothing listens on port 1


@pytest.fixture
def client() -> Client:
    return Client(raise_request_exception=False)


def test_healthz_is_200_without_touching_any_backing_service(client):
    # no database access is allowed in this test: liveness must not depend on it
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_is_200_when_everything_is_up(client):
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "cache": "ok", "channel_layer": "ok"},
        "down": [],
    }


@pytest.mark.django_db
def test_readyz_is_503_naming_the_cache_and_channel_layer_when_redis_is_down(client, settings):
    # The settings fixture's setting_changed signal resets django.core.cache.caches and
    # channels.layers.channel_layers, so both are rebuilt from the broken settings.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CLOSED_PORT,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [CLOSED_PORT]},
        }
    }

    response = client.get("/readyz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert sorted(body["down"]) == ["cache", "channel_layer"]
    assert body["checks"]["database"] == "ok"


@pytest.mark.django_db
def test_readyz_is_503_naming_the_database_when_it_cannot_be_queried(client, django_db_blocker):
    # Outside the test's permission to use the database, every query fails.
    with django_db_blocker.block():
        response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["down"] == ["database"]
