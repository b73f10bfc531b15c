"""Redis goes down under a real server: ingest and the REST API go on, the live features
degrade, and they come back by themselves when Redis does (no server restart)."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import time
import urllib.request
import uuid

import pytest
import websockets

from tests.conftest import APP_ORIGIN, TRACKED_CONFIG
from tests.live_client import dashboard, login, next_of
from tests.live_server import LiveSite, free_port
from tests.services import required_service

pytestmark = [pytest.mark.slow, pytest.mark.redis]

OWNER = ("owner@acme.test", "pw-123456")


class Redis:
    """A real redis-server of this test alone, on its own port, that can be stopped."""

    def __init__(self, directory) -> None:
        self.port, self.directory = free_port(), directory
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
             "--appendonly", "no", "--dir", str(self.directory)],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while (
            subprocess.run(
                ["redis-cli", "-p", str(self.port), "ping"], capture_output=True, text=True
            ).stdout.strip()
            != "PONG"
        ):
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(10)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


@pytest.fixture
def redis(tmp_path):
    if shutil.which("redis-server") is None:
        required_service("DATALAB_TEST_REDIS_URL", "redis-server")
    server = Redis(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def site(tmp_path, redis):
    site = LiveSite(
        tmp_path / "site", origin=APP_ORIGIN, config=TRACKED_CONFIG,
        env={"DATALAB_REDIS_URL": redis.url},
    )  # fmt: skip
    site.start()
    yield site
    site.stop()


async def ingest_one(site: LiveSite, path: str) -> list[str]:
    async with websockets.connect(
        f"{site.ws_url}/ws/ingest?token={site.token}", origin=APP_ORIGIN
    ) as visitor:
        await visitor.recv()  # hello
        event = {"id": str(uuid.uuid4()), "type": "pageview", "ts": int(time.time() * 1000)}
        event |= {"url": f"{APP_ORIGIN}{path}", "referrer": "", "title": "P"}
        await visitor.send(json.dumps({"type": "batch", "events": [event]}))
        return json.loads(await asyncio.wait_for(visitor.recv(), 10))["ids"]


async def subscribed(site: LiveSite, token: str):
    socket = await dashboard(site, token)
    await socket.send(json.dumps({"type": "subscribe", "app": site.app_id}))
    await next_of(socket, "subscribed")
    return socket


def get(site: LiveSite, path: str, token: str) -> int:
    request = urllib.request.Request(
        f"{site.url}/api/v1/{path}", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status


def pushed_path(path: str):
    return lambda message: any(event["path"] == path for event in message["latest"])


async def test_without_redis_ingest_and_the_api_go_on_and_live_comes_back(site, redis):
    token = await asyncio.to_thread(login, site, *OWNER)
    socket = await subscribed(site, token)
    assert await ingest_one(site, "/before")
    await next_of(socket, "realtime", where=pushed_path("/before"))

    redis.stop()
    assert len(await ingest_one(site, "/during")) == 1  # acked: stored without Redis
    assert await asyncio.to_thread(get, site, "apps", token) == 200
    assert await asyncio.to_thread(get, site, f"apps/{site.app_id}/insights/overview", token) == 200

    redis.start()  # the same port: the server finds it again by itself
    deadline = time.monotonic() + 30
    while True:
        try:
            again = await subscribed(site, token)
            await ingest_one(site, "/after")
            await next_of(again, "realtime", where=pushed_path("/after"), timeout=5)
            break
        except (AssertionError, OSError, websockets.WebSocketException, TimeoutError):
            assert time.monotonic() < deadline, "live did not recover within 30 s"
            await asyncio.sleep(1)
    await again.close()
