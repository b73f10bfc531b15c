"""The dashboard is served at every client route (history mode); the server's own paths keep
their answers, and an unknown API path stays a JSON 404."""

import pytest
from django.conf import settings

from tests.services import required_service

pytestmark = pytest.mark.django_db

CLIENT_ROUTES = [
    "/", "/login", "/register", "/verify?token=abc", "/apps", "/apps/new", "/apps/3",
    "/apps/3/pages", "/apps/3/sources", "/apps/3/technology", "/apps/3/funnel",
    "/apps/3/journeys", "/apps/3/elements", "/apps/3/live", "/apps/3/configuration",
    "/apps/3/install", "/apps/3/team", "/invites", "/notifications", "/account",
    "/apps/3?from=2026-11-01&to=2026-11-30&browser=Firefox&path=/pricing", "/no/such/screen",
]  # fmt: skip


@pytest.fixture
def built_dashboard():
    """The dashboard's built index.html (`make frontend`; skipped without, failed under CI)."""
    index = settings.BASE_DIR / "static" / "dist" / "index.html"
    if not index.is_file():
        required_service("DATALAB_TEST_DASHBOARD_BUILT", "The built dashboard (make frontend)")
    return index.read_text()


@pytest.mark.parametrize("route", CLIENT_ROUTES)
def test_every_client_route_answers_the_dashboard(client, built_dashboard, route):
    response = client.get(route)

    assert response.status_code == 200
    assert response.content.decode() == built_dashboard
    assert response["Content-Type"].startswith("text/html")


def test_an_unknown_api_path_is_still_a_json_404(client):
    for path in ["/api/v1/nope", "/api/v1/apps/3/nope", "/api/nope"]:
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "not_found"


def test_the_servers_own_paths_keep_their_answers(client):
    assert client.get("/healthz").json()["status"] == "ok"
    assert client.get("/admin/").status_code == 302  # to the admin's login
    assert client.get("/api/schema/").status_code == 200
    assert client.get("/demo/").status_code == 503  # the demo shop, not set up here
    assert client.get("/static/nope.js").status_code == 404
    assert client.get("/healthzz").status_code == 200  # not the health check: a client route
