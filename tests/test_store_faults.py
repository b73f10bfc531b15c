"""The embedded store's disk fills up under a real server: batches that could not be stored get
no ack and a clear close code, nothing acked is lost, the file stays intact, and ingest recovers
by itself when space returns. Then the server is killed (-9) and its file reopens intact."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import time
import urllib.request
import uuid

import pytest
import websockets

from tests.conftest import APP_ORIGIN, TRACKED_CONFIG
from tests.live_server import LiveSite
from tests.services import required_service

pytestmark = pytest.mark.slow

STORE_FAILING = 4503


@pytest.fixture
def small_disk(tmp_path):
    """A real 4 MB file system (tmpfs), grown on demand: `small_disk.grow("64m")`."""
    mount = tmp_path / "disk"
    mount.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)])
    if mounted.returncode != 0:
        required_service("DATALAB_TEST_TMPFS", "mounting a small tmpfs (root)")

    class Disk:
        path = mount

        @staticmethod
        def grow(size: str) -> None:
            subprocess.run(["mount", "-o", f"remount,size={size}", str(mount)], check=True)

    yield Disk
    subprocess.run(["umount", "-l", str(mount)])


def batch(n: int) -> list[dict]:
    now = int(time.time() * 1000)
    return [
        {"id": str(uuid.uuid4()), "type": "pageview", "ts": now, "url": f"{APP_ORIGIN}/p/{i}",
         "referrer": "https://www.example.org/" + "x" * 200, "title": "P" * 200}
        for i in range(n)
    ]  # fmt: skip


async def send_until_refused(url: str, acked: set[str]) -> tuple[int, list[dict]]:
    """Batches until the server closes the socket: (close code, the batch left without ack)."""
    async with websockets.connect(url, origin=APP_ORIGIN) as socket:
        await socket.recv()  # hello
        while True:
            events = batch(100)
            await socket.send(json.dumps({"type": "batch", "events": events}))
            try:
                ack = json.loads(await asyncio.wait_for(socket.recv(), 30))
            except websockets.ConnectionClosed as closed:
                return closed.rcvd.code, events
            acked.update(ack["ids"])


async def resend(url: str, events: list[dict]) -> dict:
    async with websockets.connect(url, origin=APP_ORIGIN) as socket:
        await socket.recv()
        await socket.send(json.dumps({"type": "batch", "events": events}))
        return json.loads(await asyncio.wait_for(socket.recv(), 30))


def stored(path) -> tuple[list[str], str]:
    with sqlite3.connect(path) as conn:
        ids = [row[0] for row in conn.execute("SELECT event_id FROM events")]
        (integrity,) = conn.execute("PRAGMA integrity_check").fetchone()
    return ids, integrity


async def test_a_full_disk_refuses_without_ack_loses_nothing_and_recovers(tmp_path, small_disk):
    events_file = small_disk.path / "events.sqlite3"
    env = {
        "DATALAB_EVENTS_SQLITE_PATH": str(events_file),
        "DATALAB_INGEST_STORE_RETRY_SECONDS": "2",
        "DATALAB_INGEST_RATE": "100000",  # fill the disk fast: no rate limit in the way
        "DATALAB_INGEST_BURST": "100000",
    }
    site = LiveSite(tmp_path / "site", origin=APP_ORIGIN, config=TRACKED_CONFIG, env=env)
    site.start()
    url = f"{site.ws_url}/ws/ingest?token={site.token}"
    acked: set[str] = set()
    try:
        code, unacked = await send_until_refused(url, acked)
        assert code == STORE_FAILING and len(acked) > 500
        with urllib.request.urlopen(f"{site.url}/healthz", timeout=5) as health:
            assert health.status == 200  # the server itself goes on
        assert "database or disk is full" in site.log_path.read_text()

        small_disk.grow("64m")  # space returns: the same server takes the batch again
        again = await resend(url, unacked)
        assert sorted(again["ids"]) == sorted(e["id"] for e in unacked)
        acked.update(again["ids"])
    finally:
        site.kill()  # -9: nothing flushed on the way out

    ids, integrity = stored(events_file)
    assert integrity == "ok"
    assert len(ids) == len(set(ids))  # nothing twice
    assert acked <= set(ids)  # nothing acked lost
