"""Shared fixtures: users in every role, API clients, and the real services tests need."""

from __future__ import annotations

import itertools

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts import services as account_services
from accounts.models import User
from demo.shop import DEMO_CONFIG
from orgs.models import Membership, Organization

pytest_plugins = ["tests.browser"]  # the `browser` fixture (real Chromium)

PASSWORD = "correct-horse-battery-9"
_serial = itertools.count(1)


@pytest.fixture(autouse=True)
def _fast_and_isolated(settings):
    from ingest.limits import reset_limits

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()
    reset_limits()
    yield
    cache.clear()


@pytest.fixture
def make_user(db):
    """make_user("ann@acme.test", verified=True): a user in the org of the address's domain."""

    def make(email: str | None = None, *, verified: bool = True, **fields) -> User:
        email = email or f"user{next(_serial)}@acme.test"
        fields.setdefault("first_name", email.split("@")[0].title())
        user = User.objects.create_user(email, PASSWORD, **fields)
        domain = email.split("@")[1]
        organization, created = Organization.objects.get_or_create(
            domain=domain, defaults={"name": domain}
        )
        Membership.objects.create(
            user=user,
            organization=organization,
            is_founder=created,
            verified_at=organization.created_at if verified else None,
        )
        return user

    return make


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def client_for(db):
    """client_for(user): an API client authenticated with a real access token of a new login."""

    def make(user: User | None) -> APIClient:
        client = APIClient()
        if user is not None:
            pair = account_services.auth_login(email=user.email, password=PASSWORD)
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair.access}")
        return client

    return make


@pytest.fixture
def owner(make_user):
    return make_user("owner@acme.test", first_name="Olga")


@pytest.fixture
def member(make_user):
    return make_user("member@acme.test", first_name="Mia")


@pytest.fixture
def colleague(make_user):
    return make_user("colleague@acme.test", first_name="Carl")


@pytest.fixture
def unverified_colleague(make_user):
    return make_user("newbie@acme.test", verified=False, first_name="Nina")


@pytest.fixture
def stranger(make_user):
    """A verified user of another organization."""
    return make_user("eve@other.test", first_name="Eve")


# --- the event store and a tracked app ---------------------------------------------------------

TRACKED_CONFIG = DEMO_CONFIG
APP_ORIGIN = "https://shop.acme.test"


@pytest.fixture
def event_store(settings, tmp_path):
    """A fresh embedded event store (and writer) in a temporary file."""
    from eventstore import get_store, reset_store

    settings.EVENT_STORE = "sqlite"
    settings.EVENT_STORE_SQLITE_PATH = tmp_path / "events.sqlite3"
    reset_store()
    yield get_store()
    reset_store()


@pytest.fixture
def tracked_app(owner, event_store):
    """A locked app with a funnel, a campaign and a tracked element, and its token."""
    from apps_registry import services as app_services
    from funnels import services as funnel_services
    from tokens import services as token_services

    app = app_services.app_create(owner=owner, name="Shop", url=APP_ORIGIN, tags=["web"])
    funnel_services.config_update(app=app, actor=owner, data=TRACKED_CONFIG, version=1)
    issued = token_services.token_issue(app=app, actor=owner)
    app.refresh_from_db()
    app.token = issued.token
    return app
