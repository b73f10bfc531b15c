"""The snippet in real Chromium (Playwright driving Debian's /usr/bin/chromium), against a real
server process with a real app token, on a single-page test site served from localhost."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.browser import wait_for
from tests.live_server import ROOT, LiveSite
from tests.services import required_service

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SNIPPET = ROOT / "static" / "client" / "dist" / "datalab.js"
CONFIG = {
    "funnel": {
        "order": "ordered",
        "window_seconds": 3600,
        "stages": [
            {"name": "Landing", "kind": "page", "match": "/"},
            {"name": "Product", "kind": "page", "match": "/products/{id}"},
            {"name": "Buy", "kind": "click", "match": "#buy"},
            {"name": "Signup", "kind": "event", "match": "signup"},
        ],
    },
    "campaigns": [{"name": "Spring", "utm_source": "newsletter"}],
    "elements": [{"name": "Pricing CTA", "selector": "#pricing .cta"}],
}
PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Test shop</title></head>
<body>
  <nav>
    <a id="to-product" href="/products/42">Product</a>
    <a id="to-home" href="/">Home</a>
  </nav>
  <div id="pricing"><button class="cta" style="padding:20px">Pricing</button></div>
  <button id="buy" style="padding:20px">Buy</button>
  <button id="other">Other</button>
  <script>
    // A tiny SPA router: links navigate with history.pushState, no page loads.
    document.addEventListener("click", function (event) {
      var link = event.target.closest("a");
      if (!link) return;
      event.preventDefault();
      history.pushState({}, "", link.getAttribute("href"));
      document.title = "Test shop " + location.pathname;
    });
  </script>
  <script async src="SNIPPET_URL" data-token="TOKEN"></script>
</body></html>
"""


class CustomerSite:
    """The customer's single-page site: every path answers its one page."""

    def __init__(self) -> None:
        self.html = b""
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(site.html)))
                self.end_headers()
                self.wfile.write(site.html)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture
def sites(tmp_path):
    """(datalab server, customer site): the app's origin is the customer site's."""
    if not SNIPPET.exists():
        required_service("DATALAB_TEST_SNIPPET_BUILT", "The built snippet (run `make frontend`)")
    customer = CustomerSite()
    server = LiveSite(tmp_path, origin=customer.origin, config=CONFIG)
    customer.html = (
        PAGE.replace("SNIPPET_URL", f"{server.url}/static/datalab.js")
        .replace("TOKEN", server.token)
        .encode()
    )
    server.start()
    yield server, customer
    customer.close()
    server.stop()


def stored(server: LiveSite) -> list[dict]:
    return server.stored_events(order_by="ts, event_id")


def paths_of(events: list[dict], kind: str) -> list[str]:
    return [e["path"] for e in events if e["type"] == kind]


def test_snippet_tracks_spa_navigation_clicks_hovers_and_custom_events(sites, browser):
    server, customer = sites
    page = browser.new_page()
    page.goto(f"{customer.origin}/?utm_source=newsletter")
    # The server's hello names the tracked selectors: wait until the landing view is stored.
    assert wait_for(lambda: paths_of(stored(server), "pageview") == ["/"])

    page.click("#to-product")  # pushState -> /products/42
    page.hover("#pricing .cta")
    page.wait_for_timeout(300)
    page.click("#pricing .cta")  # a tracked element: hover then click
    page.click("#buy")  # the click stage
    page.evaluate("window.datalab.track('signup', {plan: 'pro'})")
    page.go_back()  # popstate -> /?utm_source=newsletter
    page.go_forward()  # popstate -> /products/42

    def complete():
        events = stored(server)
        views = paths_of(events, "pageview")
        done = len(views) >= 4 and any(e["type"] == "event" for e in events)
        return events if done and any(e["type"] == "element" for e in events) else None

    events = wait_for(complete)
    assert events, f"stored so far: {stored(server)}"
    assert paths_of(events, "pageview") == ["/", "/products/42", "/", "/products/42"]
    by_type = {e["type"]: e for e in events}
    assert by_type["click"]["selector"] == "#buy" and by_type["click"]["stages"] == "2"
    assert by_type["event"]["name"] == "signup" and by_type["event"]["stages"] == "3"
    assert by_type["element"]["name"] == "Pricing CTA"
    assert by_type["element"]["action"] == "click" and by_type["element"]["duration_ms"] >= 200
    landing = next(e for e in events if e["type"] == "pageview")
    assert landing["stages"] == "0" and landing["campaign"] == "Spring"
    assert by_type["pageview"]["browser"].startswith("HeadlessChrome") or by_type["pageview"][
        "browser"
    ].startswith("Chrom")
    assert len({e["visitor_id"] for e in events}) == 1
    page.close()


def test_no_event_is_lost_or_doubled_when_the_server_dies_mid_session(sites, browser):
    server, customer = sites
    page = browser.new_page()
    page.goto(f"{customer.origin}/")
    # The server's hello names the tracked selectors: wait until the landing view is stored.
    assert wait_for(lambda: paths_of(stored(server), "pageview") == ["/"])
    for _ in range(3):
        page.click("#buy")
    assert wait_for(lambda: len(paths_of(stored(server), "click")) == 3), stored(server)

    server.kill()
    for _ in range(5):
        page.click("#buy")
        page.evaluate("window.datalab.track('signup')")
    page.wait_for_timeout(1500)
    server.start()
    for _ in range(2):
        page.click("#buy")

    def all_arrived():
        events = stored(server)
        return (
            events
            if len(paths_of(events, "click")) >= 10
            and sum(e["type"] == "event" for e in events) >= 5
            else None
        )

    events = wait_for(all_arrived, timeout=60)
    assert events, f"stored so far: {len(stored(server))}"
    page.wait_for_timeout(1500)  # re-sent duplicates, if any, would land by now
    events = stored(server)
    assert len(paths_of(events, "click")) == 10
    assert sum(e["type"] == "event" for e in events) == 5
    assert len({e["event_id"] for e in events}) == len(events)
    page.close()
