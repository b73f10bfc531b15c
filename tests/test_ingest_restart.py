"""The server process dies between a sent batch and its ack; the client re-sends after the
restart; the store holds every event exactly once."""

import asyncio
import json
import time
import uuid

import pytest
import websockets

from tests.conftest import APP_ORIGIN, TRACKED_CONFIG
from tests.live_server import LiveSite

pytestmark = pytest.mark.slow


@pytest.fixture
def site(tmp_path):
    site = LiveSite(tmp_path, origin=APP_ORIGIN, config=TRACKED_CONFIG)
    site.start()
    yield site
    site.stop()


def events(n: int) -> list[dict]:
    now = int(time.time() * 1000)
    return [
        {
            "id": str(uuid.uuid4()),
            "type": "pageview",
            "ts": now + i,
            "url": f"{APP_ORIGIN}/products/{i}",
            "referrer": "",
            "title": "P",
        }
        for i in range(n)
    ]


def stored_ids(site: LiveSite) -> list[str]:
    return [row["event_id"] for row in site.stored_events()]


async def open_socket(site: LiveSite):
    socket = await websockets.connect(
        f"{site.ws_url}/ws/ingest?token={site.token}", origin=APP_ORIGIN
    )
    hello = json.loads(await socket.recv())
    assert hello["type"] == "hello"
    return socket


def wait_until(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


async def resend_after_restart(site: LiveSite, batch: list[dict]) -> dict:
    site.start()
    socket = await open_socket(site)
    await socket.send(json.dumps({"type": "batch", "events": batch}))
    ack = json.loads(await asyncio.wait_for(socket.recv(), 10))
    await socket.close()
    return ack


async def test_committed_batch_whose_ack_was_lost_is_stored_once(site):
    batch = events(50)
    socket = await open_socket(site)
    await socket.send(json.dumps({"type": "batch", "events": batch}))
    # The server commits, then dies before the client reads its ack.
    assert wait_until(lambda: len(stored_ids(site)) == 50)
    site.kill()

    ack = await resend_after_restart(site, batch)

    assert ack["ids"] == [e["id"] for e in batch]
    ids = stored_ids(site)
    assert sorted(ids) == sorted(e["id"] for e in batch)


async def test_batch_lost_in_the_crash_is_stored_once_after_resend(site):
    first, second = events(30), events(30)
    socket = await open_socket(site)
    await socket.send(json.dumps({"type": "batch", "events": first}))
    json.loads(await socket.recv())
    await socket.send(json.dumps({"type": "batch", "events": second}))
    site.kill()  # whether `second` was committed is up to the race: both must end exactly once

    ack = await resend_after_restart(site, second)

    assert ack["ids"] == [e["id"] for e in second]
    ids = stored_ids(site)
    assert len(ids) == len(set(ids)) == 60
