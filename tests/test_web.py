"""The browser client's page (issue 7): served at / with its static files and a strict
Content-Security-Policy; the API, health and admin routes are untouched."""

import re
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.test import override_settings

pytestmark = pytest.mark.django_db

SCRIPTS = [
    "api.js",
    "ui.js",
    "live.js",
    "accounts.js",
    "search.js",
    "property.js",
    "bookings.js",
    "host.js",
    "room_thread.js",
    "room_outbox.js",
    "room.js",
    "app.js",
]


def test_index_serves_the_client_page(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    body = response.content.decode()
    for name in [*SCRIPTS, "style.css"]:
        assert f"/static/web/{name}" in body
    assert 'id="main"' in body and "<title>Parley</title>" in body


def test_index_sets_the_csrf_cookie_the_client_echoes(client):
    response = client.get("/")
    assert "csrftoken" in response.cookies


def test_index_has_no_inline_script(client):
    body = client.get("/").content.decode()
    for tag in re.findall(r"<script[^>]*>.*?</script>", body, flags=re.S):
        assert "src=" in tag and re.search(r">\s*</script>", tag)
    assert "onclick=" not in body and "style=" not in body


def test_csp_header_allows_only_this_origin(client):
    response = client.get("/", HTTP_HOST="127.0.0.1:8000")
    csp = dict(part.partition(" ")[::2] for part in response["Content-Security-Policy"].split("; "))
    assert csp["script-src"] == "'self'"
    assert csp["style-src"] == "'self'"
    assert csp["default-src"] == "'self'"
    assert csp["object-src"] == "'none'"
    assert csp["frame-ancestors"] == "'none'"
    assert csp["connect-src"].split() == ["'self'", "ws://127.0.0.1:8000", "wss://127.0.0.1:8000"]
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert "unsafe-eval" not in response["Content-Security-Policy"]


@override_settings(CLOUDINARY_URL="cloudinary://key:secret@cloud")
def test_csp_allows_the_media_cdn_when_photos_are_on_cloudinary(client):
    assert "https://res.cloudinary.com" in client.get("/")["Content-Security-Policy"]


@pytest.mark.parametrize("path", ["/verify-email?token=abc", "/reset-password?uid=1&token=x"])
def test_email_link_paths_serve_the_client(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert "Content-Security-Policy" in response


def test_index_refuses_unsafe_methods(client):
    assert client.post("/").status_code == 405


@pytest.mark.parametrize("name", [*SCRIPTS, "style.css"])
def test_static_files_are_present(name):
    path = finders.find(f"web/{name}")
    assert path, f"web/{name} is missing"
    text = Path(path).read_text(encoding="utf-8")
    assert len(text) > 200
    # no third-party origin: everything is served locally
    assert not re.search(r"https?://(?!127\.0\.0\.1)[a-z]", text.replace("http://www.w3.org", ""))


def test_client_does_not_shadow_api_health_or_admin(client):
    assert client.get("/healthz").status_code == 200
    assert client.get("/api/v1/nothing-here/").json()["errors"][0]["code"] == "not_found"
    assert client.get("/admin/login/").status_code == 200
    assert client.get("/api/v1/properties/").status_code == 200
    assert "Content-Security-Policy" not in client.get("/healthz")
