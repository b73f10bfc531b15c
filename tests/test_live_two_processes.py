"""Two server processes sharing one Redis and one metadata database: what happens through one
reaches the dashboards connected to the other (notifications, presence, realtime)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import uuid

import pytest
import websockets

from tests import services
from tests.conftest import APP_ORIGIN, TRACKED_CONFIG
from tests.live_client import dashboard, login, next_of, post
from tests.live_server import ROOT, LiveSite

pytestmark = [pytest.mark.slow, pytest.mark.redis]

OWNER = ("owner@acme.test", "pw-123456")
COLLEAGUE = ("carl@acme.test", "pw-carl-123456")
NEW_COLLEAGUE = f"""
from orgs.services import user_create_verified
user = user_create_verified(email={COLLEAGUE[0]!r}, password={COLLEAGUE[1]!r}, first_name="Carl")
print("USER", user.pk)
"""
OWNER_ID = f"""
from accounts.models import User
print("USER", User.objects.get(email={OWNER[0]!r}).pk)
"""


@pytest.fixture(scope="module")
def sites(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("two-processes")
    env = {"DATALAB_REDIS_URL": services.redis_url()}
    first = LiveSite(tmp_path, origin=APP_ORIGIN, config=TRACKED_CONFIG, env=env)
    second_env = {**env, "DATALAB_EVENTS_SQLITE_PATH": str(tmp_path / "events-2.sqlite3")}
    second = LiveSite(
        tmp_path, origin=APP_ORIGIN, config=TRACKED_CONFIG, env=second_env, share=first
    )
    first.start()
    second.start()
    yield first, second
    first.stop()
    second.stop()


async def test_notification_caused_through_one_process_reaches_a_socket_on_the_other(sites):
    first, second = sites
    colleague_id = int(first.shell(NEW_COLLEAGUE).split("USER")[1])
    owner_id = int(first.shell(OWNER_ID).split("USER")[1])
    owner_token = await asyncio.to_thread(login, first, *OWNER)
    colleague_token = await asyncio.to_thread(login, second, *COLLEAGUE)
    colleague = await dashboard(second, colleague_token)

    owner = await dashboard(first, owner_token)  # presence crosses processes too
    online = await next_of(colleague, "presence")
    invite = await asyncio.to_thread(
        post, first, f"apps/{first.app_id}/invites", {"user_id": colleague_id}, owner_token
    )
    pushed = await next_of(colleague, "notification")

    assert online["users"] == [{"id": owner_id, "online": True}]
    assert pushed["notification"]["kind"] == "invite.sent"
    assert pushed["notification"]["app"] == first.app_id
    assert pushed["notification"]["data"]["invite"] == invite["id"]
    await owner.close()
    await colleague.close()


@pytest.mark.parametrize("direction", ["first_to_second", "second_to_first"])
async def test_event_ingested_by_one_process_shows_on_a_subscription_on_the_other(sites, direction):
    ingesting, showing = sites if direction == "first_to_second" else sites[::-1]
    token = await asyncio.to_thread(login, showing, *OWNER)
    socket = await dashboard(showing, token)
    await socket.send(json.dumps({"type": "subscribe", "app": showing.app_id}))
    await next_of(socket, "subscribed")
    path = f"/products/{uuid.uuid4().hex[:8]}"

    visitor = await websockets.connect(
        f"{ingesting.ws_url}/ws/ingest?token={ingesting.token}", origin=APP_ORIGIN
    )
    assert json.loads(await visitor.recv())["type"] == "hello"
    event = {"id": str(uuid.uuid4()), "type": "pageview", "ts": int(time.time() * 1000)}
    event |= {"url": f"{APP_ORIGIN}{path}", "referrer": "", "title": "P"}
    await visitor.send(json.dumps({"type": "batch", "events": [event]}))
    assert json.loads(await visitor.recv())["ids"] == [event["id"]]
    pushed = await next_of(
        socket, "realtime", where=lambda m: any(e["path"] == path for e in m["latest"])
    )

    assert pushed["app"] == showing.app_id
    assert pushed["visitors"] >= 1
    [shown] = [e for e in pushed["latest"] if e["path"] == path]
    assert shown == {"path": path, "type": "pageview", "stages": ["Product"], "ts": event["ts"]}
    await visitor.close()
    await socket.close()


LAYER_TIMEOUTS = """
from channels.layers import get_channel_layer
layer = get_channel_layer()
pool = layer.create_pool(0)
connection = pool.connection_class(**pool.connection_kwargs)
print("TIMEOUTS", connection.socket_timeout, layer.brpop_timeout)
"""


def test_redis_layer_reads_wait_longer_than_its_blocking_pops(tmp_path):
    """redis-py 8 reads with a 5 s socket timeout by default, as long as channels_redis'
    blocking pops: idle sockets would crash now and then (redis-py#4091)."""
    env = {**os.environ, "DATALAB_REDIS_URL": "redis://127.0.0.1:6379/0"}
    env["DATALAB_DATA_DIR"] = str(tmp_path)
    result = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "shell", "-c", LAYER_TIMEOUTS],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    socket_timeout, pop_timeout = result.stdout.split("TIMEOUTS")[1].split()

    assert socket_timeout == "None" or float(socket_timeout) > float(pop_timeout)
