"""The API docs pages (issue 20): Swagger UI and ReDoc come from this server's static
files (drf-spectacular-sidecar), never a CDN or Google Fonts, under a strict CSP of their
own. tests/e2e/test_api_docs.py renders both in Chromium with the network cut off."""

import re

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command

pytestmark = pytest.mark.django_db

PAGES = ["/api/docs/", "/api/redoc/"]


def _csp(response) -> dict[str, list[str]]:
    return {
        name: values.split()
        for name, _, values in (
            part.partition(" ") for part in response["Content-Security-Policy"].split("; ")
        )
    }


def _urls(body: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"]+)"', body)


@pytest.mark.parametrize("path", PAGES)
def test_docs_page_loads_only_its_own_files(client, path):
    response = client.get(path)
    assert response.status_code == 200
    body = response.content.decode()
    urls = _urls(body)
    assert urls and all(url.startswith("/") and not url.startswith("//") for url in urls), urls
    for url in urls:
        if url.startswith("/static/"):
            assert finders.find(url.removeprefix("/static/").split("?")[0]), url
    for foreign in ("http://", "https://", "googleapis", "gstatic", "jsdelivr", "unpkg"):
        assert foreign not in body


@pytest.mark.parametrize("path", PAGES)
def test_docs_page_has_no_inline_code_and_a_strict_csp(client, path):
    response = client.get(path)
    body = response.content.decode()
    for tag in re.findall(r"<script[^>]*>.*?</script>", body, flags=re.S):
        assert "src=" in tag and re.search(r">\s*</script>", tag), tag
    assert "<style" not in body and "style=" not in body
    csp = _csp(response)
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert "unsafe" not in response["Content-Security-Policy"]


def test_redoc_styles_are_allowed_by_a_fresh_nonce_only(client):
    first, second = client.get("/api/redoc/"), client.get("/api/redoc/")
    nonces = []
    for response in (first, second):
        (nonce,) = [v for v in _csp(response)["style-src"] if v.startswith("'nonce-")]
        assert _csp(response)["style-src"] == ["'self'", nonce]
        assert f'nonce="{nonce[7:-1]}"' in response.content.decode()
        nonces.append(nonce)
    assert nonces[0] != nonces[1]


def test_swagger_start_script_is_served_by_the_view(client):
    body = client.get("/api/docs/").content.decode()
    (script,) = [url for url in _urls(body) if url.startswith("/api/docs/")]
    response = client.get(script.replace("&amp;", "&"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle(" in response.content.decode()


def test_docs_pages_are_not_in_the_schema(client):
    paths = client.get("/api/schema/?format=json").json()["paths"]
    assert "/api/docs/" not in paths and "/api/redoc/" not in paths


def test_collectstatic_bundles_the_docs_assets(tmp_path, settings):
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    call_command("collectstatic", "--noinput", verbosity=0)
    for name in (
        "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js",
        "drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js",
        "api-docs/redoc-init.js",
        "api-docs/redoc-nonce.js",
        "api-docs/docs.css",
    ):
        assert (tmp_path / name).exists(), name
