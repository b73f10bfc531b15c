"""Visitor identity without cookies, daily salts, sessions, referrers and first-party ids."""

import datetime as dt
import time
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from funnels.matching import CompiledConfig
from ingest import services
from ingest.enrichment import client_of, referrer_of, visitor_hash
from ingest.models import Salt
from tests.conftest import APP_ORIGIN, TRACKED_CONFIG

CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36"


def connection(**overrides) -> services.Connection:
    fields = {
        "app_id": 1,
        "epoch": 1,
        "app_host": "shop.acme.test",
        "compiled": CompiledConfig.from_dict(TRACKED_CONFIG),
        "client": client_of(CHROME),
        "visitor_id": "visitor-a",
        "allow_visitor_id": False,
        **overrides,
    }
    return services.Connection(**fields)


def pageview(ts, **extra):
    return {"id": str(uuid.uuid4()), "type": "pageview", "ts": ts, "url": f"{APP_ORIGIN}/",
            "referrer": "", "title": "", **extra}  # fmt: skip


@pytest.mark.django_db
def test_each_day_gets_its_own_salt_and_salts_older_than_48_hours_go():
    today = dt.date(2026, 11, 28)
    old = Salt.objects.create(day=today - dt.timedelta(days=3), value="x" * 64)
    yesterday = services.salt_for(today - dt.timedelta(days=1))

    salt = services.salt_for(today)

    assert salt != yesterday and len(salt) == 64
    assert services.salt_for(today) == salt
    assert not Salt.objects.filter(pk=old.pk).exists()
    assert Salt.objects.filter(day=today - dt.timedelta(days=1)).exists()


def test_visitor_hash_changes_with_the_salt_the_app_the_ip_and_the_browser():
    base = {"salt": "s1", "app_id": 1, "ip": "203.0.113.1", "user_agent": CHROME}
    one = visitor_hash(**base)

    assert visitor_hash(**base) == one
    assert visitor_hash(**{**base, "salt": "s2"}) != one
    assert visitor_hash(**{**base, "app_id": 2}) != one
    assert visitor_hash(**{**base, "ip": "203.0.113.2"}) != one
    assert visitor_hash(**{**base, "user_agent": "Firefox"}) != one
    assert "203.0.113.1" not in one


def test_a_gap_of_thirty_minutes_starts_a_new_session():
    conn = connection()
    t0 = int(time.time() * 1000) - 3_600_000
    events = [pageview(t0), pageview(t0 + 29 * 60_000), pageview(t0 + 59 * 60_000 + 1)]

    stored, _ = services.build_events(conn, events, now_ms=t0 + 3_600_000)

    sessions = [e.session_id for e in stored]
    assert sessions[0] == sessions[1] != sessions[2]


def test_a_session_continues_from_what_the_store_last_saw():
    t0 = int(time.time() * 1000) - 600_000
    conn = connection(sessions={"visitor-a": ("earlier-session", t0)})

    stored, _ = services.build_events(conn, [pageview(t0 + 60_000)], now_ms=t0 + 600_000)

    assert stored[0].session_id == "earlier-session"


def test_first_party_visitor_id_is_used_only_when_the_app_allows_it():
    now = int(time.time() * 1000)
    refused = connection()
    allowed = connection(allow_visitor_id=True)

    plain, _ = services.build_events(refused, [pageview(now, vid="user-12345")], now_ms=now)
    one, _ = services.build_events(allowed, [pageview(now, vid="user-12345")], now_ms=now)
    two, _ = services.build_events(allowed, [pageview(now, vid="user-12345")], now_ms=now)

    assert plain[0].visitor_id == "visitor-a"
    assert one[0].visitor_id == two[0].visitor_id != "visitor-a"
    assert "user-12345" not in one[0].visitor_id


def test_referrers_reduce_to_hosts_and_internal_paths():
    assert referrer_of("https://www.google.com/search?q=x", app_host="shop.test") == "google.com"
    assert referrer_of("https://shop.test/pricing?a=1", app_host="shop.test") == "/pricing"
    assert referrer_of("", app_host="shop.test") == ""
    assert referrer_of("not a url", app_host="shop.test") == ""


def test_device_classes_from_the_user_agent():
    iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148"
    ipad = "Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) AppleWebKit/605.1.15"
    bot = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"

    assert client_of(CHROME).device == "desktop"
    assert client_of(iphone).device == "mobile"
    assert client_of(ipad).device == "tablet"
    assert client_of(bot).is_bot and client_of("").is_bot


# -- any message a client may send -------------------------------------------------------------

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)
_FIELDS = st.fixed_dictionaries(
    {},
    optional={
        "id": st.one_of(st.uuids().map(str), st.text(max_size=40), _JSON),
        "type": st.sampled_from(["pageview", "click", "element", "event", "leave", "x"]) | _JSON,
        "ts": st.integers(min_value=-(2**70), max_value=2**70) | st.floats() | _JSON,
        "url": st.sampled_from([f"{APP_ORIGIN}/p", "javascript:alert(1)", "", "//x"]) | _JSON,
        "referrer": st.text(max_size=3000) | _JSON,
        "title": st.text(max_size=400) | _JSON,
        "selector": st.sampled_from(["#buy", ""]) | _JSON,
        "name": st.sampled_from(["signup", "Pricing CTA", "a" * 70]) | _JSON,
        "action": st.sampled_from(["click", "leave", "hover"]) | _JSON,
        "duration": st.integers() | _JSON,
        "props": st.dictionaries(st.text(max_size=70), _JSON, max_size=25) | _JSON,
        "screen": st.integers() | _JSON,
        "vid": st.text(max_size=70) | _JSON,
    },
)


@given(st.lists(st.one_of(_FIELDS, _JSON), max_size=8))
@settings(max_examples=300, deadline=2_000)
def test_any_batch_is_stored_or_rejected_with_a_reason_and_nothing_raises(raw_events):
    conn = connection(allow_visitor_id=True)
    now_ms = 1_800_000_000_000

    stored, rejected = services.build_events(conn, raw_events, now_ms=now_ms)

    reasons = {item["error"] for item in rejected}
    assert all(isinstance(reason, str) and reason for reason in reasons)
    assert len(stored) + len(rejected) <= len(raw_events)
    for event in stored:
        assert event.type in ("pageview", "click", "element", "event", "leave")
        assert now_ms - 86_400_000 <= event.ts <= now_ms + 300_000
