"""The demo shop in real Chromium against a real server set up by `manage.py demo`: a visit
clicked through /demo/ shows up in the live view and the funnel at once."""

from __future__ import annotations

import datetime as dt
import json
import urllib.request

import pytest

from demo.constants import DEMO_PASSWORD
from tests.browser import Hellos, wait_for
from tests.live_server import ROOT, LiveSite
from tests.services import required_service

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SNIPPET = ROOT / "static" / "client" / "dist" / "datalab.js"


@pytest.fixture
def demo_server(tmp_path):
    if not SNIPPET.exists():
        required_service("DATALAB_TEST_SNIPPET_BUILT", "The built snippet (run `make frontend`)")
    server = LiveSite(tmp_path)
    server.manage("demo", "--events", "3000", "--days", "3", "--jobs", "1")
    server.manage("collectstatic", "--noinput", "-v", "0")
    server.start()
    yield server
    server.stop()


def _api(server: LiveSite, path: str, *, token: str | None = None, body: dict | None = None):
    request = urllib.request.Request(
        f"{server.url}/api/v1/{path}",
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json"}
        | ({"Authorization": f"Bearer {token}"} if token else {}),
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_a_visit_to_the_demo_shop_shows_up_in_the_live_view_and_the_funnel(demo_server, browser):
    token = _api(
        demo_server, "auth/login", body={"email": "ada@demo.test", "password": DEMO_PASSWORD}
    )["access"]
    (app,) = _api(demo_server, "apps", token=token)
    today = dt.date.today().isoformat()
    funnel = f"apps/{app['id']}/insights/funnel?from={today}&to={today}"
    buyers_before = _api(demo_server, funnel, token=token)["stages"][2]["visitors"]

    page = browser.new_page()
    hellos = Hellos(page)
    page.goto(f"{demo_server.url}/demo/")
    with hellos.loading():  # the product page's snippet tracks clicks on #buy from its hello
        page.get_by_role("link", name="Product 2").click()
    page.get_by_role("link", name="Buy").click()
    page.get_by_role("link", name="Create an account to check out").click()
    page.get_by_label("E-mail").fill("someone@example.com")
    page.get_by_role("button", name="Sign up").click()
    assert page.get_by_role("status").is_visible()

    seen = []

    def live_shows_the_visit():
        live = _api(demo_server, f"apps/{app['id']}/insights/live", token=token)
        seen[:] = [(event["ts"], event["path"], event["stages"]) for event in live["events"]]
        paths = {event["path"] for event in live["events"]}
        stages = {stage for event in live["events"] for stage in event["stages"]}
        pages = {"/demo/", "/demo/products/2", "/demo/cart", "/demo/signup"}
        return pages <= paths and {"Landing", "Product", "Buy", "Signup"} <= stages and live

    live = wait_for(live_shows_the_visit, timeout=20)
    assert live, f"the visit did not reach the live view, which showed {seen}"
    assert live["visitors"] >= 1
    buyers_after = _api(demo_server, funnel, token=token)["stages"][2]["visitors"]
    assert buyers_after == buyers_before + 1
