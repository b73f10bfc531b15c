"""Capture mode (`DATALAB_INGEST_CAPTURE`): the socket acks once a frame is in the inbox, and the
processor stores exactly what the direct path would have stored."""

import dataclasses
import os
import subprocess
import time
import uuid

import orjson
import pytest

from eventstore import get_store, reset_store
from ingest import constants as c
from ingest import inbox
from ingest.processor import Processor
from tests import test_eventstore_contract as contract
from tests.conftest import APP_ORIGIN, TRACKED_CONFIG
from tests.test_ingest_websocket import (
    CHROME,
    GOOGLEBOT,
    closed_with,
    connected,
    pageview,
    send_batch,
)

pytestmark = [pytest.mark.django_db(transaction=True)]

cassandra_node = contract.cassandra_node
_shared_cassandra_store = contract._shared_cassandra_store
cassandra_store = contract.cassandra_store

FIREFOX = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:127.0) Gecko/20100101 Firefox/127.0"


def traffic(now: int) -> list[tuple[dict, list[list[dict]]]]:
    """Connections (user agent, address) and their frames: two visitors, one of them coming
    back on a second connection, every event type, a declared visitor id, invalid events and
    an id sent twice."""

    def event(kind, ts, **fields):
        return {"id": str(uuid.uuid4()), "type": kind, "ts": ts, **fields}

    def page(path, ts, **fields):
        return event("pageview", ts, url=f"{APP_ORIGIN}{path}", referrer="", title="T", **fields)

    repeated = page("/pricing", now - 60_000)
    first = [
        [page("/", now - 90_000), page("/products/42?utm_campaign=spring", now - 80_000)],
        [
            repeated,
            repeated,
            event("click", now - 50_000, url=f"{APP_ORIGIN}/pricing", selector="#buy"),
            event("element", now - 49_000, name="Pricing CTA", action="click", duration=900),
            event("event", now - 48_000, name="signup", props={"plan": "pro"}),
            {**page("/", now - 47_000), "id": "not-a-uuid"},
            {**page("/", now - 46_000), "url": "ftp://nope"},
        ],
    ]
    declared = [[page("/", now - 40_000, vid="customer-0001"), page("/x", now - 39_000)]]
    leave = event("leave", now - 29_000, url=f"{APP_ORIGIN}/", duration=5000)
    back = [[page("/checkout", now - 30_000), leave]]
    other = [[page("/", now - 20_000)], [page("/about", now - 10_000), repeated]]
    return [
        ({"ua": CHROME, "ip": "203.0.113.7"}, first),
        ({"ua": CHROME, "ip": "203.0.113.7"}, declared),
        ({"ua": CHROME, "ip": "203.0.113.7"}, back),
        ({"ua": FIREFOX, "ip": "198.51.100.4"}, other),
        ({"ua": GOOGLEBOT, "ip": "192.0.2.1"}, [[page("/", now - 5_000)]]),
    ]


async def play(app, script) -> list[dict]:
    acks = []
    for who, frames in script:
        comm, _ = await connected(app.token, ua=who["ua"], ip=who["ip"])
        for frame in frames:
            acks.append(await send_batch(comm, frame))
        await comm.disconnect()
    return acks


def stored(app, store=None) -> list[dict]:
    events = (store or get_store()).events(app.pk, 1)
    return sorted((dataclasses.asdict(e) for e in events), key=lambda e: e["event_id"])


def derived(app) -> tuple:
    """What the store derives from the events: funnel stage entries, each visitor's last seen."""
    store = get_store()
    visitors = {e.visitor_id for e in store.events(app.pk, 1)}
    return store.stage_visitors_many(app.pk, 1, range(4)), store.last_seen(app.pk, 1, visitors)


@pytest.fixture
def capture(settings, tmp_path):
    def switch(name: str):
        settings.EVENT_STORE_SQLITE_PATH = tmp_path / f"{name}.sqlite3"
        settings.INGEST_INBOX_DIR = tmp_path / f"{name}-inbox"
        settings.INGEST_CAPTURE = name != "direct"
        reset_store()
        return settings.INGEST_INBOX_DIR

    yield switch
    inbox.reset_inbox()


@pytest.mark.parametrize("batch_events", [5000, 2], ids=["appended", "imported"])
async def test_the_processor_stores_exactly_what_the_direct_path_stores(
    tracked_app, capture, batch_events
):
    from channels.db import database_sync_to_async

    script = traffic(int(time.time() * 1000))
    capture("direct")
    direct_acks = await play(tracked_app, script)
    direct = await database_sync_to_async(stored)(tracked_app)
    direct_derived = await database_sync_to_async(derived)(tracked_app)
    directory = capture("captured")

    captured_acks = await play(tracked_app, script)

    assert captured_acks == direct_acks  # the same ids acked, the same rejections
    assert await database_sync_to_async(get_store().count_events)(tracked_app.pk, 1) == 0
    processor = Processor(directory, get_store(), batch_events=batch_events)
    built = await database_sync_to_async(processor.run_once)()
    assert len(direct) == 12 and built == 13  # the 13th: an event another visitor re-sent
    assert await database_sync_to_async(stored)(tracked_app) == direct
    assert await database_sync_to_async(derived)(tracked_app) == direct_derived
    sessions = {(e["visitor_id"], e["session_id"]) for e in direct}
    assert len(sessions) == len({v for v, _ in sessions}) == 2  # the return continued its session


@pytest.mark.cassandra
async def test_the_processor_stores_into_cassandra_what_the_direct_path_stores(
    tracked_app, capture, cassandra_store
):
    from channels.db import database_sync_to_async

    script = traffic(int(time.time() * 1000))
    capture("direct")
    await play(tracked_app, script)
    direct = await database_sync_to_async(stored)(tracked_app)
    directory = capture("captured")
    await play(tracked_app, script)

    processor = Processor(directory, cassandra_store, batch_events=2)
    await database_sync_to_async(processor.run_once)()

    assert await database_sync_to_async(stored)(tracked_app, cassandra_store) == direct


async def test_a_processor_killed_before_its_mark_builds_again_and_stores_once(
    tracked_app, capture
):
    from channels.db import database_sync_to_async

    directory = capture("captured")
    await play(tracked_app, traffic(int(time.time() * 1000)))
    await database_sync_to_async(Processor(directory, get_store()).run_once)()
    first = await database_sync_to_async(stored)(tracked_app)
    for segment in inbox.segments(directory):  # killed after the commit, before the mark
        inbox.mark_done(segment, 0)

    again = Processor(directory, get_store())
    await database_sync_to_async(again.run_once)()

    assert await database_sync_to_async(stored)(tracked_app) == first


async def test_a_frame_of_rejected_events_only_is_acked_and_not_captured(tracked_app, capture):
    directory = capture("captured")
    comm, _ = await connected(tracked_app.token)

    ack = await send_batch(comm, [{"id": str(uuid.uuid4()), "type": "nope", "ts": 1}])

    assert ack["ids"] == [] and ack["rejected"][0]["error"] == "type_unknown"
    assert inbox.backlog_bytes(directory) == 0
    await comm.disconnect()


async def test_frames_wait_for_a_full_inbox_then_the_socket_closes_without_ack(
    tracked_app, capture, settings
):
    directory = capture("captured")
    settings.INGEST_BACKLOG_MB = 1
    settings.INGEST_STORE_RETRY_SECONDS = 1
    directory.mkdir(parents=True)
    (directory / f"{time.time_ns():020d}-1x00-0{inbox.SUFFIX}").write_bytes(b"\0" * (2 << 20))
    comm, _ = await connected(tracked_app.token)
    await comm.send_to(text_data=orjson.dumps({"type": "batch", "events": [pageview()]}).decode())

    assert await closed_with(comm) == c.STORE_FAILING
    assert inbox.backlog_bytes(directory) == 2 << 20  # nothing of the frame was written


def frame_record(number: int, body: bytes, kind: int = inbox.FRAME) -> bytes:
    return inbox.header(kind, number, int(time.time() * 1000), len(body)) + body


def test_a_record_cut_off_by_a_crash_ends_the_segment(tmp_path):
    segment = tmp_path / f"{time.time_ns():020d}-1x00-0{inbox.SUFFIX}"
    whole = frame_record(1, b'{"type":"batch","events":[]}')
    segment.write_bytes(whole + frame_record(1, b'{"type":"batch"')[:-3])

    records = list(inbox.read(segment))

    assert [r.end for r in records] == [len(whole)]
    assert inbox.sealed(segment)  # no process holds it


async def test_a_full_segment_is_sealed_and_the_next_holds_its_connections_again(tmp_path):
    writer = inbox.InboxWriter(tmp_path, segment_bytes=100, backlog_bytes=1 << 20)
    number = writer.open_connection(b'{"app":1}')
    frame = b'{"type":"batch","events":[' + b" " * 80 + b"]}"

    await writer.append(number, 1, frame)
    await writer.append(number, 2, frame)

    first, second, third = inbox.segments(tmp_path)
    assert inbox.sealed(first) and inbox.sealed(second) and not inbox.sealed(third)
    for segment in (first, second):
        assert [r.kind for r in inbox.read(segment)] == [inbox.CONNECTION, inbox.FRAME]
    writer.close_connection(number)
    await writer.append(writer.open_connection(b'{"app":1}'), 3, frame)
    kinds = [r.kind for r in inbox.read(third)]
    assert kinds == [inbox.CLOSED, inbox.CONNECTION, inbox.FRAME]
    writer.close()
    assert all(inbox.sealed(segment) for segment in inbox.segments(tmp_path))


# --- a real server and its processor ------------------------------------------------------------


@pytest.fixture
def captured_site(tmp_path):
    from tests.live_server import LiveSite
    from tests.services import redis_url

    env = {"DATALAB_INGEST_CAPTURE": "1", "DATALAB_REDIS_URL": redis_url()}
    site = LiveSite(tmp_path, origin=APP_ORIGIN, config=TRACKED_CONFIG, env=env)
    site.start()
    yield site
    site.stop()


def processors_of(pid: int) -> list[str]:
    found = subprocess.run(
        ["pgrep", "-f", f"process_inbox --parent {pid}"], capture_output=True, text=True
    )
    return found.stdout.split()


@pytest.mark.slow
@pytest.mark.redis
@pytest.mark.django_db(transaction=False)
async def test_served_in_capture_mode_every_acked_event_is_stored_even_after_a_crash(
    captured_site,
):
    from tests.test_ingest_restart import events, open_socket, stored_ids, wait_until

    socket = await open_socket(captured_site)
    sent = []
    for _ in range(3):
        batch = events(40)
        await socket.send(orjson.dumps({"type": "batch", "events": batch}).decode())
        ack = orjson.loads(await socket.recv())
        assert ack["ids"] == [e["id"] for e in batch]
        sent += ack["ids"]
    assert wait_until(lambda: len(stored_ids(captured_site)) == 120, timeout=60)  # built
    last = events(40)
    await socket.send(orjson.dumps({"type": "batch", "events": last}).decode())
    assert len(orjson.loads(await socket.recv())["ids"]) == 40
    pid = captured_site.process.pid
    assert len(processors_of(pid)) == 1

    captured_site.kill()  # the server dies; its processor drains the inbox, then stops

    assert wait_until(lambda: not processors_of(pid), timeout=60)
    assert sorted(stored_ids(captured_site)) == sorted(sent + [e["id"] for e in last])
    assert inbox.segments(captured_site.data_dir / "inbox") == []  # all built, all removed


@pytest.mark.slow
@pytest.mark.redis
@pytest.mark.django_db(transaction=False)
async def test_served_in_capture_mode_the_live_view_shows_what_the_processor_stored(
    captured_site,
):
    import asyncio
    import json

    import websockets

    from tests.live_client import dashboard, login, next_of

    token = await asyncio.to_thread(login, captured_site, "owner@acme.test", "pw-123456")
    socket = await dashboard(captured_site, token)
    await socket.send(json.dumps({"type": "subscribe", "app": captured_site.app_id}))
    await next_of(socket, "subscribed")
    path = f"/products/{uuid.uuid4().hex[:8]}"
    visitor = await websockets.connect(
        f"{captured_site.ws_url}/ws/ingest?token={captured_site.token}", origin=APP_ORIGIN
    )
    assert json.loads(await visitor.recv())["type"] == "hello"
    event = pageview(path)

    await visitor.send(json.dumps({"type": "batch", "events": [event]}))

    assert json.loads(await visitor.recv())["ids"] == [event["id"]]
    pushed = await next_of(
        socket, "realtime", where=lambda m: any(e["path"] == path for e in m["latest"])
    )
    [shown] = [e for e in pushed["latest"] if e["path"] == path]
    assert shown == {"path": path, "type": "pageview", "stages": ["Product"], "ts": event["ts"]}
    await visitor.close()
    await socket.close()


async def test_process_inbox_once_stores_what_the_inbox_holds(tracked_app, capture):
    from channels.db import database_sync_to_async
    from django.core.management import call_command

    directory = capture("captured")
    await play(tracked_app, traffic(int(time.time() * 1000)))
    inbox.reset_inbox()  # the server stopped: its segment is sealed

    await database_sync_to_async(call_command)("process_inbox", "--once")

    assert await database_sync_to_async(get_store().count_events)(tracked_app.pk, 1) == 12
    assert inbox.segments(directory) == []


async def test_a_frame_that_cannot_be_built_is_kept_aside_and_the_rest_is_stored(
    tracked_app, capture
):
    from channels.db import database_sync_to_async

    directory = capture("captured")
    comm, _ = await connected(tracked_app.token)
    before = pageview("/")
    assert (await send_batch(comm, [before]))["ids"] == [before["id"]]
    writer = inbox.get_inbox()
    [number] = writer.connections  # the socket's, in this process's inbox
    await writer.append(number, int(time.time() * 1000), b'{"broken')
    after = pageview("/pricing")
    assert (await send_batch(comm, [after]))["ids"] == [after["id"]]
    await comm.disconnect()

    processor = Processor(directory, get_store())
    await database_sync_to_async(processor.run_once)()

    ids = {e["event_id"] for e in await database_sync_to_async(stored)(tracked_app)}
    assert ids == {before["id"], after["id"]} and processor.failed == 1
    [kept] = (directory / "failed").iterdir()
    assert [r.body for r in inbox.read(kept)] == [b'{"broken']


@pytest.mark.slow
@pytest.mark.redis
@pytest.mark.django_db(transaction=False)
async def test_served_in_capture_mode_a_dead_processor_is_started_again(captured_site):
    import signal

    from tests.test_ingest_restart import events, open_socket, stored_ids, wait_until

    pid = captured_site.process.pid
    assert wait_until(lambda: len(processors_of(pid)) == 1, timeout=60)
    [first] = processors_of(pid)
    os.kill(int(first), signal.SIGKILL)
    socket = await open_socket(captured_site)
    batch = events(30)

    await socket.send(orjson.dumps({"type": "batch", "events": batch}).decode())

    assert len(orjson.loads(await socket.recv())["ids"]) == 30  # acked while none runs
    assert wait_until(lambda: processors_of(pid) not in ([], [first]), timeout=60)
    assert wait_until(lambda: len(stored_ids(captured_site)) == 30, timeout=60)
    await socket.close()
