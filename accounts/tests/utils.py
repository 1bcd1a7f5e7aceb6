"""Helpers shared by API tests: logging in, the CSRF header, the documented error shape."""

import json

from rest_framework.test import APIClient

from accounts.tests.factories import PASSWORD


def login(client: APIClient, email: str, password: str = PASSWORD):
    response = client.post("/api/v1/auth/token/", {"email": email, "password": password})
    assert response.status_code == 200, response.content
    return response


def csrf_header(client: APIClient) -> dict:
    return {"HTTP_X_CSRFTOKEN": client.cookies["csrftoken"].value}


def assert_error(response, status: int, code: str, attr: str | None = None) -> dict:
    """The documented error shape, with ``code`` (and ``attr``) among its errors."""
    assert response.status_code == status, response.content
    body = json.loads(response.content)
    assert set(body) == {"type", "errors"}
    assert body["type"] in {"validation_error", "client_error", "server_error"}
    assert all(set(error) == {"code", "detail", "attr"} for error in body["errors"])
    assert (code, attr) in [(error["code"], error["attr"]) for error in body["errors"]], body
    return body
