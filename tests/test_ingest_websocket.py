"""The ingest websocket: handshake refusals, hello, acks after commit, rejections, limits,
idempotency, bots, and no IP stored anywhere."""

import time
import uuid

import orjson
import pytest
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator

from apps_registry import services as app_services
from datalab.routing import websocket_urlpatterns
from ingest import constants as c
from ingest.limits import get_limits
from ingest.models import DroppedEvents
from tests.conftest import APP_ORIGIN, TRACKED_CONFIG
from tokens import services as token_services

pytestmark = [pytest.mark.django_db(transaction=True)]

CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36"
)
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
VISITOR_IP = "203.0.113.77"


def now_ms() -> int:
    return int(time.time() * 1000)


def pageview(path="/", **extra):
    return {
        "id": str(uuid.uuid4()),
        "type": "pageview",
        "ts": now_ms(),
        "url": f"{APP_ORIGIN}{path}",
        "referrer": "https://www.google.com/search?q=shop",
        "title": "Shop",
        "screen": 1280,
        "lang": "de-DE",
        **extra,
    }


def communicator(token, *, origin=APP_ORIGIN, ua=CHROME, ip=VISITOR_IP):
    path = "/ws/ingest" + (f"?token={token}" if token is not None else "")
    headers = [(b"user-agent", ua.encode())]
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    comm = WebsocketCommunicator(URLRouter(websocket_urlpatterns), path, headers=headers)
    comm.scope["client"] = (ip, 40000)
    return comm


async def connected(token, **kwargs):
    comm = communicator(token, **kwargs)
    ok, _ = await comm.connect()
    assert ok
    hello = await comm.receive_json_from()
    assert hello["type"] == "hello"
    return comm, hello


async def send_batch(comm, events):
    await comm.send_to(text_data=orjson.dumps({"type": "batch", "events": events}).decode())
    return await comm.receive_json_from(timeout=5)


async def closed_with(comm) -> int:
    message = await comm.receive_output(timeout=5)
    while message["type"] != "websocket.close":
        message = await comm.receive_output(timeout=5)
    return message["code"]


async def refused(token, **kwargs) -> int:
    comm = communicator(token, **kwargs)
    await comm.connect()
    code = await closed_with(comm)
    await comm.disconnect()
    return code


# --- handshake --------------------------------------------------------------------------------


async def test_missing_and_forged_tokens_are_refused(tracked_app):
    assert await refused(None) == c.BAD_TOKEN
    assert await refused("not-a-token") == c.BAD_TOKEN
    assert await refused(tracked_app.token[:-4] + "AAAA") == c.BAD_TOKEN


async def test_origin_must_be_the_apps_origin(tracked_app):
    assert await refused(tracked_app.token, origin="https://evil.test") == c.BAD_ORIGIN
    assert await refused(tracked_app.token, origin="http://shop.acme.test") == c.BAD_ORIGIN
    assert await refused(tracked_app.token, origin="https://shop.acme.test:8443") == c.BAD_ORIGIN
    assert await refused(tracked_app.token, origin=None) == c.BAD_ORIGIN


async def test_revoked_token_is_refused(tracked_app, owner):
    from channels.db import database_sync_to_async

    await database_sync_to_async(token_services.token_revoke)(app=tracked_app, actor=owner)

    assert await refused(tracked_app.token) == c.BAD_TOKEN


async def test_unlocked_app_token_is_refused(tracked_app, owner):
    from channels.db import database_sync_to_async

    await database_sync_to_async(app_services.app_unlock)(app=tracked_app, actor=owner)

    assert await refused(tracked_app.token) == c.BAD_TOKEN


async def test_deleted_app_token_is_refused(tracked_app, owner):
    from channels.db import database_sync_to_async

    await database_sync_to_async(app_services.app_delete)(app=tracked_app, actor=owner)

    assert await refused(tracked_app.token) == c.BAD_TOKEN


async def test_rotated_out_token_is_refused_after_the_grace_period(tracked_app, owner):
    from datetime import timedelta

    from channels.db import database_sync_to_async

    rotate = database_sync_to_async(token_services.token_rotate)
    await rotate(app=tracked_app, actor=owner, grace=timedelta(seconds=-1))

    assert await refused(tracked_app.token) == c.BAD_TOKEN


async def test_hello_names_click_selectors_tracked_elements_and_limits(tracked_app):
    comm, hello = await connected(tracked_app.token)

    config = hello["config"]
    assert set(config["clicks"]) == {"#buy", "#pricing a.cta"}
    assert config["elements"] == TRACKED_CONFIG["elements"]
    assert config["max_batch"] == 100 and config["flush_ms"] == 1000
    assert config["max_frame_bytes"] == 65536
    await comm.disconnect()


# --- batches and acks -------------------------------------------------------------------------


async def test_events_are_acked_only_once_committed(tracked_app, event_store):
    comm, _ = await connected(tracked_app.token)
    events = [pageview("/"), pageview("/products/42?utm_source=newsletter&utm_campaign=spring")]

    ack = await send_batch(comm, events)

    assert ack == {"type": "ack", "ids": [e["id"] for e in events], "rejected": []}
    stored = {e.event_id: e for e in event_store.events(tracked_app.pk, 1)}
    assert set(stored) == {e["id"] for e in events}
    landing, product = stored[events[0]["id"]], stored[events[1]["id"]]
    assert (landing.path, landing.stages, landing.referrer) == ("/", (0,), "google.com")
    assert (product.path, product.stages, product.campaign) == ("/products/42", (1,), "Spring")
    assert product.utm == {"utm_source": "newsletter", "utm_campaign": "spring"}
    assert (landing.browser, landing.os, landing.device) == ("Chrome", "Linux", "desktop")
    assert landing.visitor_id == product.visitor_id and landing.session_id == product.session_id
    assert (landing.screen, landing.lang) == (1280, "de-DE")
    await comm.disconnect()


async def test_every_event_type_is_stored_with_its_stage(tracked_app, event_store):
    comm, _ = await connected(tracked_app.token)
    ts = now_ms()
    base = {"ts": ts, "url": f"{APP_ORIGIN}/pricing"}
    events = [
        {"id": str(uuid.uuid4()), "type": "click", "selector": "#buy", **base},
        {"id": str(uuid.uuid4()), "type": "element", "name": "Pricing CTA", "action": "click",
         "duration": 1500, "ts": ts},
        {"id": str(uuid.uuid4()), "type": "event", "name": "signup", "props": {"plan": "pro"},
         "ts": ts},
        {"id": str(uuid.uuid4()), "type": "leave", "duration": 42000, **base},
    ]  # fmt: skip

    ack = await send_batch(comm, events)

    assert len(ack["ids"]) == 4 and ack["rejected"] == []
    stored = {e.type: e for e in event_store.events(tracked_app.pk, 1)}
    assert stored["click"].stages == (2,) and stored["click"].selector == "#buy"
    assert (stored["element"].name, stored["element"].action) == ("Pricing CTA", "click")
    assert stored["element"].duration_ms == 1500
    assert stored["event"].stages == (3,) and stored["event"].props == {"plan": "pro"}
    assert stored["leave"].duration_ms == 42000 and stored["leave"].path == "/pricing"
    await comm.disconnect()


async def test_invalid_events_are_rejected_alone_with_reasons(tracked_app, event_store):
    comm, _ = await connected(tracked_app.token)
    good = pageview("/")
    bad = [
        {**pageview(), "id": "not-a-uuid"},
        {**pageview(), "type": "teleport"},
        {**pageview(), "url": "javascript:alert(1)"},
        {**pageview(), "ts": now_ms() + 3600_000},
        {**pageview(), "ts": now_ms() - 3 * 86400_000},
        {"id": str(uuid.uuid4()), "type": "element", "name": "Nope", "action": "click",
         "duration": 5, "ts": now_ms()},
        {"id": str(uuid.uuid4()), "type": "event", "name": "x", "props": {"a": {"b": 1}},
         "ts": now_ms()},
    ]  # fmt: skip

    ack = await send_batch(comm, [bad[0], good, *bad[1:]])

    assert ack["ids"] == [good["id"]]
    reasons = [r["error"] for r in ack["rejected"]]
    assert reasons == [
        "id_invalid",
        "type_unknown",
        "url_invalid",
        "ts_out_of_range",
        "ts_out_of_range",
        "element_unknown",
        "props_invalid",
    ]
    assert [e.event_id for e in event_store.events(tracked_app.pk, 1)] == [good["id"]]
    await comm.disconnect()


async def test_a_resent_batch_is_stored_once_and_acked_again(tracked_app, event_store):
    events = [pageview("/"), pageview("/products/1")]
    first, _ = await connected(tracked_app.token)
    await send_batch(first, events)
    await first.disconnect()

    second, _ = await connected(tracked_app.token)
    ack = await send_batch(second, [*events, events[0]])

    assert ack["ids"] == [e["id"] for e in events]
    assert event_store.count_events(tracked_app.pk, 1) == 2
    assert len(event_store.stage_visitors(tracked_app.pk, 1, 0)) == 1
    await second.disconnect()


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("{not json", c.BAD_MESSAGE),
        ('["a list"]', c.BAD_MESSAGE),
        ('{"type": "batch"}', c.BAD_MESSAGE),
        ('{"type": "shout", "events": []}', c.BAD_MESSAGE),
        ("x" * (64 * 1024 + 1), c.TOO_LARGE),
    ],
    ids=["unparseable", "not-an-object", "no-events", "unknown-type", "oversized"],
)
async def test_bad_frames_close_the_socket_with_a_code(tracked_app, frame, code):
    comm, _ = await connected(tracked_app.token)

    await comm.send_to(text_data=frame)

    assert await closed_with(comm) == code
    await comm.disconnect()


async def test_more_than_a_hundred_events_close_the_socket(tracked_app, event_store):
    comm, _ = await connected(tracked_app.token)

    await comm.send_to(
        text_data=orjson.dumps(
            {"type": "batch", "events": [pageview() for _ in range(101)]}
        ).decode()
    )

    assert await closed_with(comm) == c.BAD_MESSAGE
    assert event_store.count_events(tracked_app.pk, 1) == 0
    await comm.disconnect()


async def test_a_flood_past_the_rate_limit_closes_the_socket(tracked_app, settings):
    settings.INGEST_RATE = 1
    settings.INGEST_BURST = 150
    comm, _ = await connected(tracked_app.token)

    first = await send_batch(comm, [pageview() for _ in range(100)])
    await comm.send_to(
        text_data=orjson.dumps(
            {"type": "batch", "events": [pageview() for _ in range(100)]}
        ).decode()
    )

    assert len(first["ids"]) == 100
    assert await closed_with(comm) == c.RATE_LIMITED
    await comm.disconnect()


@pytest.mark.parametrize(
    "frame",
    [b"\xff\xfe{not utf-8", ("[" * 5000 + "]" * 5000).encode(), b'{"type": "batch", "events": 7}'],
    ids=["invalid-utf8", "deeply-nested", "wrong-type"],
)
async def test_a_bad_frame_closes_the_socket_and_keeps_what_was_acked(
    tracked_app, event_store, frame
):
    comm, _ = await connected(tracked_app.token)
    acked = await send_batch(comm, [pageview(), pageview("/pricing")])

    await comm.send_to(bytes_data=frame)

    assert await closed_with(comm) == c.BAD_MESSAGE
    assert len(acked["ids"]) == 2 and event_store.count_events(tracked_app.pk, 1) == 2
    await comm.disconnect()


async def test_a_binary_frame_carries_a_batch_like_a_text_frame(tracked_app, event_store):
    comm, _ = await connected(tracked_app.token)

    await comm.send_to(bytes_data=orjson.dumps({"type": "batch", "events": [pageview()]}))

    assert len((await comm.receive_json_from(timeout=5))["ids"]) == 1
    await comm.disconnect()


async def test_a_flood_of_tiny_frames_closes_the_socket_and_keeps_what_was_acked(
    tracked_app, event_store
):
    comm, _ = await connected(tracked_app.token)
    acked = await send_batch(comm, [pageview()])

    for _ in range(300):  # pings: tiny, and no events to count
        await comm.send_to(text_data='{"type":"ping"}')

    assert await closed_with(comm) == c.RATE_LIMITED
    assert len(acked["ids"]) == 1 and event_store.count_events(tracked_app.pk, 1) == 1
    await comm.disconnect()


async def test_the_frame_rate_is_a_setting(tracked_app, event_store, settings):
    settings.INGEST_FRAME_RATE = 1000
    comm, _ = await connected(tracked_app.token)

    for _ in range(300):  # what the default (20 a second, bursts of 100) cuts, above
        await comm.send_to(text_data='{"type":"ping"}')
        assert await comm.receive_json_from(timeout=5) == {"type": "pong"}

    await comm.disconnect()


async def test_an_address_may_hold_only_so_many_connections(tracked_app, settings):
    settings.INGEST_CONNECTIONS_PER_ADDRESS = 2
    first, _ = await connected(tracked_app.token)
    second, _ = await connected(tracked_app.token)

    assert await refused(tracked_app.token) == c.RATE_LIMITED
    other, _ = await connected(tracked_app.token, ip="198.51.100.9")  # another address: fine
    await first.disconnect()
    third, _ = await connected(tracked_app.token)  # a place came free
    for comm in (second, other, third):
        await comm.disconnect()


async def test_an_address_shares_one_event_rate_across_its_connections(
    tracked_app, event_store, settings
):
    settings.INGEST_ADDRESS_RATE = 30  # events/s, 150 at once
    flood = [(await connected(tracked_app.token))[0] for _ in range(3)]
    calm, _ = await connected(tracked_app.token, ip="198.51.100.9")

    codes = []
    for comm in flood:
        await comm.send_to(
            text_data=orjson.dumps(
                {"type": "batch", "events": [pageview() for _ in range(60)]}
            ).decode()
        )
        message = await comm.receive_output(timeout=5)
        codes.append("ack" if message["type"] == "websocket.send" else message["code"])

    assert codes == ["ack", "ack", c.RATE_LIMITED]  # 120 of 150, then 60 more is too many
    assert len((await send_batch(calm, [pageview()]))["ids"]) == 1  # others are not held up
    for comm in [*flood, calm]:
        await comm.disconnect()


async def test_idle_connection_is_closed_as_too_slow(tracked_app, settings):
    settings.INGEST_IDLE_SECONDS = 1
    comm, _ = await connected(tracked_app.token)

    assert await closed_with(comm) == c.TOO_SLOW
    await comm.disconnect()


async def test_ping_gets_pong(tracked_app):
    comm, _ = await connected(tracked_app.token)

    await comm.send_to(text_data='{"type": "ping"}')

    assert await comm.receive_json_from() == {"type": "pong"}
    await comm.disconnect()


# --- bots and privacy -------------------------------------------------------------------------


async def test_known_bots_are_dropped_and_counted(tracked_app, event_store):
    from channels.db import database_sync_to_async

    comm, _ = await connected(tracked_app.token, ua=GOOGLEBOT)
    events = [pageview("/"), pageview("/products/3")]

    ack = await send_batch(comm, events)
    await comm.disconnect()

    assert ack["ids"] == []
    assert [r["error"] for r in ack["rejected"]] == ["bot", "bot"]
    assert event_store.count_events(tracked_app.pk, 1) == 0
    counter = await database_sync_to_async(DroppedEvents.objects.get)(app_ref=tracked_app.pk)
    assert (counter.reason, counter.count) == ("bot", 2)


async def test_no_ip_address_is_stored_anywhere(tracked_app, event_store, settings, caplog):
    comm, _ = await connected(tracked_app.token)
    await send_batch(comm, [pageview("/"), pageview("/products/9")])
    await comm.disconnect()
    event_store.close()

    files = [settings.EVENT_STORE_SQLITE_PATH, *settings.EVENT_STORE_SQLITE_PATH.parent.glob("*")]
    for path in files:
        if path.is_file():
            assert VISITOR_IP.encode() not in path.read_bytes(), path
    stored = event_store.__class__(settings.EVENT_STORE_SQLITE_PATH).events(tracked_app.pk, 1)
    assert all(VISITOR_IP not in repr(event) for event in stored)
    assert VISITOR_IP not in caplog.text


async def test_same_visitor_on_another_ip_is_another_visitor(tracked_app, event_store):
    a, _ = await connected(tracked_app.token, ip="198.51.100.1")
    b, _ = await connected(tracked_app.token, ip="198.51.100.2")
    await send_batch(a, [pageview("/")])
    await send_batch(b, [pageview("/")])
    await a.disconnect()
    await b.disconnect()

    assert len(event_store.stage_visitors(tracked_app.pk, 1, 0)) == 2


async def test_unlocking_closes_open_sockets_before_they_write_into_the_old_epoch(
    tracked_app, owner, event_store, settings
):
    from channels.db import database_sync_to_async

    settings.INGEST_RECHECK_SECONDS = 0
    comm, _ = await connected(tracked_app.token)
    await send_batch(comm, [pageview("/")])

    await database_sync_to_async(app_services.app_unlock)(app=tracked_app, actor=owner)
    await comm.send_to(
        text_data=orjson.dumps({"type": "batch", "events": [pageview("/late")]}).decode()
    )

    assert await closed_with(comm) == c.BAD_TOKEN
    assert [e.path for e in event_store.events(tracked_app.pk, 1)] == ["/"]
    await comm.disconnect()


async def test_an_event_of_an_unhashable_type_is_rejected_and_the_socket_goes_on(
    tracked_app, event_store
):
    comm, _ = await connected(tracked_app.token)
    odd = {**pageview(), "type": ["pageview"]}  # found by fuzzing: it used to crash the socket

    ack = await send_batch(comm, [odd, pageview()])

    assert ack["rejected"] == [{"id": odd["id"], "error": "type_unknown"}] and len(ack["ids"]) == 1
    assert len((await send_batch(comm, [pageview()]))["ids"]) == 1
    await comm.disconnect()


async def test_an_address_cut_for_a_flood_cools_down_before_it_may_connect_again(
    tracked_app, settings
):
    settings.INGEST_RATE = 1
    settings.INGEST_BURST = 150
    comm, _ = await connected(tracked_app.token)
    await send_batch(comm, [pageview() for _ in range(100)])
    await comm.send_to(bytes_data=orjson.dumps({"type": "batch", "events": [pageview()] * 100}))
    assert await closed_with(comm) == c.RATE_LIMITED  # past the burst

    assert await refused(tracked_app.token) == c.RATE_LIMITED  # cooling down, token unchecked
    other, _ = await connected(tracked_app.token, ip="198.51.100.9")  # others are not held up
    await other.disconnect()
    settings.INGEST_COOLDOWN_SECONDS = 0
    get_limits().cooling.clear()
    again, _ = await connected(tracked_app.token)  # once it has cooled down
    await again.disconnect()
