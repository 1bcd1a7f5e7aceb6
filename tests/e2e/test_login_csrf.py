"""Login CSRF in a real browser (issue 18): a page on another origin auto-submits a form
to the login endpoint with the attacker's email and password while the victim is logged
in. The victim must stay logged in as themselves: before the fix the answer was 200 and
set the attacker's cookies in the victim's browser."""

import functools
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest

from accounts.tests.factories import UserFactory
from tests.e2e.conftest import PASSWORD, browser, login, new_page, usable_password

pytestmark = pytest.mark.django_db(transaction=True)

ATTACK_PAGE = """<!doctype html>
<html><body>
<form id="f" method="post" action="{action}" enctype="{enctype}">
  <input name="email" value="{email}">
  <input name="password" value="{password}">
</form>
<script>document.getElementById("f").submit();</script>
</body></html>
"""


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def _serve(folder):
    """A tiny static site on another 127.0.0.1 port: another origin than the server."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=folder))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


@pytest.mark.parametrize(
    "enctype", ["application/x-www-form-urlencoded", "multipart/form-data", "text/plain"]
)
def test_cross_site_login_form_leaves_the_victim_logged_in_as_themselves(
    live_server_url, tmp_path, enctype
):
    victim = usable_password(UserFactory(email=f"victim-{enctype[:4]}@example.com"))
    attacker = usable_password(UserFactory(email=f"attacker-{enctype[:4]}@example.com"))
    (tmp_path / "evil.html").write_text(
        ATTACK_PAGE.format(
            action=f"{live_server_url}/api/v1/auth/token/",
            enctype=enctype,
            email=attacker.email,
            password=PASSWORD,
        )
    )
    evil, evil_base = _serve(str(tmp_path))
    errors: list[str] = []
    try:
        with browser() as chromium:
            page = new_page(chromium, live_server_url, errors=errors)
            login(page, victim.email)
            assert page.request.get("/api/v1/auth/me/").json()["email"] == victim.email

            with page.expect_response(lambda r: r.url.endswith("/auth/token/")) as answer:
                page.goto(f"{evil_base}/evil.html")
            page.wait_for_load_state()
            status = answer.value.status
            cookies = {c["name"]: c["value"] for c in page.context.cookies(live_server_url)}

            page.goto("/#/")
            page.locator(f'#nav a[data-user="{victim.email}"]').wait_for()
            me = page.request.get("/api/v1/auth/me/").json()
    finally:
        evil.shutdown()
        evil.server_close()

    assert status in {403, 415}
    assert me["email"] == victim.email
    assert cookies.get("parley_access")  # the victim's own session is still there
