"""Two `manage.py serve` processes sharing PostgreSQL, Redis and Cassandra, as docs/deployment.md
prescribes: what is sent to either is acked and stored once, their insights agree, a live push
crosses processes, and column parts built by both are identical.

Runs on the 3-node cluster (RF=3, LOCAL_QUORUM: the deployment's Cassandra), in the step of
`make test` that starts it; PostgreSQL is `DATALAB_TEST_POSTGRES_URL` (a database of its own is
created for the test and dropped after it).
"""

from __future__ import annotations

import asyncio
import json
import os
import time
import uuid
from collections import Counter
from urllib.parse import urlsplit, urlunsplit

import pytest
import websockets

from eventstore.cassandra.buckets import SEAL_MS, SLOT_MS
from eventstore.columns import ARRAYS
from tests import services
from tests import test_cassandra_cluster as cluster_tests
from tests.conftest import APP_ORIGIN, TRACKED_CONFIG
from tests.live_client import dashboard, login, next_of
from tests.live_server import LiveSite
from tests.test_cassandra_cluster import page_views
from tests.test_eventstore_contract import EPOCH

pytestmark = [
    pytest.mark.cassandra,
    pytest.mark.cassandra_cluster,
    pytest.mark.redis,
    pytest.mark.slow,
]

cassandra_cluster = cluster_tests.cassandra_cluster  # the node-down test's fixture
OWNER = ("owner@acme.test", "pw-123456")


@pytest.fixture(scope="module")
def postgres_database():
    """A PostgreSQL database of this test module's own (URL), dropped afterwards."""
    import psycopg

    url = services.required_service("DATALAB_TEST_POSTGRES_URL", "PostgreSQL")
    name = f"datalab_servers_{os.getpid()}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name}")
        admin.execute(f"CREATE DATABASE {name}")
    yield urlunsplit(urlsplit(url)._replace(path=f"/{name}"))
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="module")
def servers(cassandra_cluster, postgres_database, tmp_path_factory):
    """Server processes A and B: one data directory (secret key), one PostgreSQL database, one
    Redis, one Cassandra keyspace; A migrated and seeded them."""
    env = cassandra_cluster.env(
        DATABASE_URL=postgres_database,
        DATALAB_REDIS_URL=services.redis_url(),
        DATALAB_CASSANDRA_KEYSPACE=f"datalab_servers_{os.getpid()}",
    )
    data_dir = tmp_path_factory.mktemp("servers")
    first = LiveSite(data_dir, origin=APP_ORIGIN, config=TRACKED_CONFIG, env=env)
    first.manage("cassandra_migrate")
    second = LiveSite(data_dir, origin=APP_ORIGIN, env=env, share=first)
    first.start()
    second.start()
    yield first, second
    first.stop()
    second.stop()
    first.shell(DROP_KEYSPACE)


DROP_KEYSPACE = """
from django.conf import settings
from eventstore import get_store
get_store().session.execute("DROP KEYSPACE IF EXISTS " + settings.CASSANDRA["keyspace"], timeout=60)
"""


def pageviews(paths: list[str], ts: int | None = None) -> list[dict]:
    now = ts or int(time.time() * 1000)
    return [
        {
            "id": str(uuid.uuid4()),
            "type": "pageview",
            "ts": now + i,
            "url": f"{APP_ORIGIN}{path}",
            "referrer": "",
            "title": "P",
        }
        for i, path in enumerate(paths)
    ]


async def send(site: LiveSite, events: list[dict]) -> list[str]:
    """One batch over /ws/ingest, as the snippet sends it; the acked ids."""
    async with websockets.connect(
        f"{site.ws_url}/ws/ingest?token={site.token}", origin=APP_ORIGIN, open_timeout=10
    ) as socket:
        assert json.loads(await socket.recv())["type"] == "hello"
        await socket.send(json.dumps({"type": "batch", "events": events}))
        ack = json.loads(await asyncio.wait_for(socket.recv(), 30))
    assert not ack.get("rejected"), ack
    return ack["ids"]


def stored_ids(site: LiveSite) -> list[str]:
    """Every event id stored for the site's app (one row per stored event, read at QUORUM)."""
    return [
        line.removeprefix("ID ")
        for line in site.shell(STORED_IDS.replace("APP", str(site.app_id))).splitlines()
        if line.startswith("ID ")
    ]


STORED_IDS = f"""
from eventstore import get_store
for event in get_store().events(APP, {EPOCH}):
    print("ID", event.event_id)
"""


async def test_events_sent_to_either_server_are_acked_and_stored_once_and_insights_agree(servers):
    first, second = servers
    to_first = pageviews(["/a", "/b", "/b"] * 20)
    to_second = pageviews(["/b", "/c"] * 20)
    to_both = pageviews(["/d"] * 10)  # a snippet whose ack was lost re-sends elsewhere

    acked = await asyncio.gather(
        send(first, to_first), send(second, to_second), send(first, to_both), send(second, to_both)
    )

    sent = to_first + to_second + to_both
    assert sorted(id for ids in acked for id in ids) == sorted(
        [e["id"] for e in sent] + [e["id"] for e in to_both]
    )  # every event acked (the re-sent ones by both servers)
    sent_ids = {e["id"] for e in sent}
    stored = await asyncio.to_thread(stored_ids, first)
    assert sorted(i for i in stored if i in sent_ids) == sorted(sent_ids)  # each once
    expected = dict(Counter(e["url"].removeprefix(APP_ORIGIN) for e in sent))
    tokens = await asyncio.gather(*(asyncio.to_thread(login, site, *OWNER) for site in servers))
    answers = await asyncio.gather(
        *(asyncio.to_thread(page_views, s, t) for s, t in zip(servers, tokens, strict=True))
    )
    assert answers[0] == answers[1]
    assert {path: answers[0].get(path) for path in expected} == expected


@pytest.mark.parametrize("direction", ["a_to_b", "b_to_a"])
async def test_a_dashboard_on_one_server_sees_an_event_sent_to_the_other(servers, direction):
    ingesting, showing = servers if direction == "a_to_b" else servers[::-1]
    token = await asyncio.to_thread(login, showing, *OWNER)
    socket = await dashboard(showing, token)
    await socket.send(json.dumps({"type": "subscribe", "app": showing.app_id}))
    await next_of(socket, "subscribed")
    path = f"/live/{uuid.uuid4().hex[:8]}"

    await send(ingesting, pageviews([path]))

    pushed = await next_of(
        socket, "realtime", where=lambda m: any(e["path"] == path for e in m["latest"])
    )
    assert pushed["app"] == showing.app_id
    await socket.close()


# Builds the column part of BUCKET with the process's real builder (as its writer does when
# idle): the slot's part, or its day's when the day is sealed (00:00-00:25 UTC); then reads
# back the bytes stored under the part's version and prints their digest.
BUILD_PART = """
import hashlib
from eventstore import get_store
from eventstore.cassandra.buckets import sealed
from eventstore.cassandra.sealing import Item
from eventstore.columns import ARRAYS
from eventstore.values import MS_PER_DAY
store = get_store()
now, day = store.now_ms(), BUCKET // MS_PER_DAY
if sealed((day + 1) * MS_PER_DAY, now):
    store.builder.build_day(APP, EPOCH, day, [], now)
    info = store.reader.layout(APP, EPOCH, day, day).days[day]
else:
    store.builder.build_slot(Item(APP, EPOCH, BUCKET, 0, 0), now)
    info = store.reader.layout(APP, EPOCH, day, day).slots[BUCKET]
digest, chunks = hashlib.sha256(), 0
for name in ARRAYS:
    rows = store.session.execute(
        "SELECT chunk, data FROM " + store.keyspace + ".part_columns WHERE app_id = %s "
        "AND epoch = %s AND day = %s "
        "AND name = %s AND level = %s AND bucket = %s AND version = %s",
        (APP, EPOCH, day, name, info.level, info.bucket, info.version),
    )
    for chunk, data in rows:
        digest.update(f"{name}/{chunk}/".encode() + data)
        chunks += 1
print("PART", info.level, info.version, info.n, chunks, digest.hexdigest())
"""


async def test_both_servers_build_the_same_slot_into_identical_parts(servers):
    first, second = servers
    now = int(time.time() * 1000)
    slot = (now - SLOT_MS - SEAL_MS - 60_000) // SLOT_MS * SLOT_MS  # ended, sealed
    events = pageviews([f"/s{i % 5}" for i in range(200)], ts=slot + 1000)  # 2 batches of 100
    await asyncio.gather(send(first, events[:100]), send(second, events[100:]))

    script = BUILD_PART.replace("APP", str(first.app_id)).replace("EPOCH", str(EPOCH))
    script = script.replace("BUCKET", str(slot))
    outputs = await asyncio.gather(
        *(asyncio.to_thread(site.shell, script) for site in servers)
    )  # two processes of the two servers' settings, racing on one bucket

    parts = [out.split("PART", 1)[1].split() for out in outputs]
    assert parts[0] == parts[1]  # same level, version and bytes
    _level, _version, events_in_part, chunks, _digest = parts[0]
    assert int(events_in_part) >= len(events) and int(chunks) >= len(ARRAYS)
