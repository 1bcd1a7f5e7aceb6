"""The API docs work offline (issue 20): Swagger UI at /api/docs/ and ReDoc at
/api/redoc/ load everything from the server itself. Chromium is cut off from every other
host, and the pages must still render the operations, with no CSP violation."""

from urllib.parse import urlsplit

import pytest

from tests.e2e.conftest import browser, new_page

pytestmark = pytest.mark.django_db(transaction=True)


def _offline_page(chromium, base, *, errors, foreign):
    page = new_page(chromium, base, errors=errors)
    own = urlsplit(base).netloc

    def route(route):
        url = urlsplit(route.request.url)
        if url.scheme in {"http", "https", "ws", "wss"} and url.netloc != own:
            foreign.append(route.request.url)
            route.abort("internetdisconnected")
        else:
            route.continue_()

    page.route("**/*", route)
    return page


@pytest.mark.parametrize(
    ("path", "heading", "operation"),
    [
        ("/api/docs/", ".opblock-summary-operation-id", ".opblock"),
        ("/api/redoc/", "h2", "li[data-item-id]"),
    ],
)
def test_api_docs_render_operations_with_the_network_cut_off(
    live_server_url, path, heading, operation
):
    errors: list[str] = []
    foreign: list[str] = []
    with browser() as chromium:
        page = _offline_page(chromium, live_server_url, errors=errors, foreign=foreign)
        violations: list[str] = []
        page.on(
            "console",
            lambda m: "Content Security Policy" in m.text and violations.append(m.text),
        )
        response = page.goto(path)
        assert response.status == 200
        csp = response.headers["content-security-policy"]
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        for name in ("amenities_list", "properties_search", "bookings_create"):
            page.locator(heading, has_text=name).first.wait_for(timeout=20_000)
        assert page.locator(operation).count() > 20
        page.wait_for_timeout(300)  # late requests (fonts, workers) are recorded too
        html = page.content()
    assert foreign == []
    assert violations == []
    assert errors == []
    assert "googleapis" not in html and "jsdelivr" not in html
