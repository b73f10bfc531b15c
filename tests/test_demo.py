"""`manage.py demo` (what `make demo` runs) and the demo shop at /demo/: one demo organization
however often it runs, a shop that embeds the real snippet, and every insight with something to
show on the generated traffic."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command

from accounts.models import User
from apps_registry.models import App
from demo.constants import DEMO_APP, DEMO_DOMAIN, DEMO_PASSWORD
from orgs.models import Organization

pytestmark = pytest.mark.django_db

PUBLIC_URL = "http://127.0.0.1:8000"


@pytest.fixture
def demo(event_store, capsys):
    call_command("demo", "--public-url", PUBLIC_URL, "--events", "12000", "--days", "14")
    app = App.objects.get(name=DEMO_APP)
    return app, capsys.readouterr().out


def test_demo_prints_how_to_sign_in_and_where_the_shop_is(demo):
    app, out = demo

    assert f"ada@demo.test (owner) or grace@demo.test (colleague), password {DEMO_PASSWORD}" in out
    assert f"{PUBLIC_URL}/demo/" in out and f"{PUBLIC_URL}/apps/{app.pk}/live" in out
    assert out.strip().splitlines()[-1].startswith("demo traffic: wrote ")


def test_demo_twice_leaves_one_organization_and_one_copy_of_the_traffic(demo, event_store, capsys):
    app, _ = demo
    stored = event_store.count_events(app.pk, app.epoch)

    call_command("demo", "--public-url", PUBLIC_URL, "--events", "12000", "--days", "14")

    assert "already set up" in capsys.readouterr().out
    assert Organization.objects.filter(domain=DEMO_DOMAIN).count() == 1
    assert User.objects.filter(email__endswith=f"@{DEMO_DOMAIN}").count() == 2
    assert App.objects.filter(name=DEMO_APP).count() == 1
    assert event_store.count_events(app.pk, app.epoch) == stored > 10_000


def test_the_demo_app_is_public_locked_and_tracks_a_funnel_a_campaign_and_two_elements(demo):
    app, _ = demo
    config = app.configuration.data

    assert app.is_public and app.locked and app.url == f"{PUBLIC_URL}/demo/"
    assert [stage["kind"] for stage in config["funnel"]["stages"]] == [
        "page",
        "page",
        "click",
        "event",
    ]
    assert len(config["campaigns"]) == 1 and len(config["elements"]) == 2


def signed_in(email: str):
    from rest_framework.test import APIClient

    api = APIClient()
    login = api.post("/api/v1/auth/login", {"email": email, "password": DEMO_PASSWORD})
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {login.json()['access']}")
    return api


def test_the_colleague_signs_in_and_sees_the_demo_app(demo):
    listed = signed_in("grace@demo.test").get("/api/v1/apps").json()
    assert [(row["name"], row["role"]) for row in listed] == [(DEMO_APP, "colleague")]


def _insight(api, app, name, **params):
    last = dt.date.today()
    query = {"from": (last - dt.timedelta(days=13)).isoformat(), "to": last.isoformat(), **params}
    response = api.get(f"/api/v1/apps/{app.pk}/insights/{name}", query)
    assert response.status_code == 200, response.content
    return response.json()


def test_every_insight_has_something_to_show_on_the_demo_traffic(demo):
    app, _ = demo
    api = signed_in("ada@demo.test")

    overview = _insight(api, app, "overview")
    assert overview["pageviews"] > 4000 and 0 < overview["bounce_rate"] < 1
    pages = _insight(api, app, "pages")["results"]
    assert len(pages) > 60 and pages[0]["path"] == "/demo/"
    technology = _insight(api, app, "technology")
    assert len(technology["browsers"]) >= 8 and len(technology["devices"]) == 3
    sources = _insight(api, app, "sources")
    assert len(sources["referrers"]) >= 8
    assert "Spring" in {row["name"] for row in sources["campaigns"]}
    stages = _insight(api, app, "funnel")["stages"]
    visitors = [stage["visitors"] for stage in stages]
    assert all(v > 0 for v in visitors) and all(d > 0 for d in [s["drop_off"] for s in stages[1:]])
    dropped = _insight(api, app, "funnel/dropoffs", stage="3")["visitors"]
    assert dropped and dropped[0]["last_page"]
    links = _insight(api, app, "journeys", start="/demo/")["links"]
    sources_of_links = [link["source"] for link in links]
    assert any(sources_of_links.count(node) >= 2 for node in sources_of_links)  # branches
    elements = _insight(api, app, "elements")["results"]
    assert {row["name"] for row in elements} == {"Pricing CTA", "Buy button"}
    assert all(row["hovers"] > row["clicks"] > 0 for row in elements)


# -- the shop ----------------------------------------------------------------------------------


def test_the_shop_pages_embed_the_snippet_with_the_demo_apps_token(demo, client):
    from tokens.services import current_token

    app, _ = demo
    token = current_token(app).token
    for path in ["/demo/", "/demo/products", "/demo/products/7", "/demo/cart?product=7",
                 "/demo/signup", "/demo/pricing", "/demo/blog/launch-week"]:  # fmt: skip
        page = client.get(path)
        assert page.status_code == 200, path
        assert f'src="/static/datalab.js" data-token="{token}"' in page.content.decode()
    assert 'id="buy"' in client.get("/demo/products/7").content.decode()
    assert 'id="pricing"' in client.get("/demo/").content.decode()


def test_the_shop_answers_404_for_pages_it_does_not_have(demo, client):
    for path in ["/demo/products/31", "/demo/nope", "/demo/blog/no-such-post"]:
        assert client.get(path).status_code == 404, path


def test_the_shop_says_how_to_set_the_demo_up_before_it_is(db, client):
    page = client.get("/demo/")

    assert page.status_code == 503
    assert "The demo is not set up: run <code>make demo</code>" in page.content.decode()
    assert "datalab.js" not in page.content.decode()
