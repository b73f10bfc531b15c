"""A dashboard's client of a real server process (tests.live_server.LiveSite): the REST API and
the /ws/live socket."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request

import websockets

from tests.live_server import LiveSite


def post(site: LiveSite, path: str, body: dict, token: str | None = None) -> dict:
    request = urllib.request.Request(
        f"{site.url}/api/v1/{path}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"}
        | ({"Authorization": f"Bearer {token}"} if token else {}),
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"{}")


def login(site: LiveSite, email: str, password: str) -> str:
    return post(site, "auth/login", {"email": email, "password": password})["access"]


async def dashboard(site: LiveSite, token: str):
    socket = await websockets.connect(f"{site.ws_url}/ws/live?token={token}")
    assert json.loads(await socket.recv())["type"] == "backlog"
    assert json.loads(await socket.recv())["type"] == "presence"  # who is online already
    return socket


async def next_of(socket, kind: str, timeout: float = 5.0, where=lambda m: True) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        assert left > 0, f"no {kind!r} message within {timeout}s"
        message = json.loads(await asyncio.wait_for(socket.recv(), left))
        if message["type"] == kind and where(message):
            return message
