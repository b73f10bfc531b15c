"""The Cassandra backend beyond the contract: its data layout, schema checks, concurrent writers,
partial failures, and a node that stops in the middle of ingest.

The contract itself (same answers as SQLite) is tests/test_eventstore_contract.py.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import threading
import time
import uuid
from pathlib import Path

import pytest
import websockets
from cassandra.query import BatchStatement
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command

from eventstore import StoreUnavailable, WriteBehind
from eventstore.cassandra import CassandraEventStore
from eventstore.cassandra.derived import Current
from eventstore.cassandra.schema import TABLES
from eventstore.cassandra.statements import CQL
from eventstore.cassandra.store import insert_values
from tests import test_eventstore_contract as contract
from tests.live_server import LiveSite, free_port
from tests.test_eventstore_contract import EPOCH, MS_PER_DAY, T0, cassandra_unavailable, make_event

HOUR, WEEK = 3_600_000, 7 * MS_PER_DAY

# The contract suite's Cassandra fixtures: one definition, one skip-or-fail rule.
cassandra_node = contract.cassandra_node
_shared_cassandra_store = contract._shared_cassandra_store
cassandra_store = contract.cassandra_store

pytestmark = pytest.mark.cassandra

ROOT = Path(__file__).resolve().parent.parent


def partition_key(session, keyspace: str, table: str) -> tuple[list[str], list[str]]:
    """(partition key columns, clustering columns) of a table, in key order."""
    rows = session.execute(
        "SELECT column_name, kind, position FROM system_schema.columns "
        "WHERE keyspace_name = %s AND table_name = %s",
        (keyspace, table),
    )
    kinds: dict[str, list] = {"partition_key": [], "clustering": []}
    for name, kind, position in rows:
        if kind in kinds:
            kinds[kind].append((position, name))
    return [name for _, name in sorted(kinds["partition_key"])], [
        name for _, name in sorted(kinds["clustering"])
    ]


# -- where the data sits -----------------------------------------------------------------------


def test_raw_events_sit_in_one_partition_per_app_epoch_and_hour(cassandra_store, cassandra_node):
    session, ks = cassandra_store.session, cassandra_node.keyspace
    placements = [(7, 1, 0), (7, 1, 1), (7, 1, 25), (7, 2, 0), (8, 1, 0)]  # (app, epoch, hours)
    events = [
        make_event(app_id=app, epoch=epoch, ts=T0 + hours * HOUR + i)
        for app, epoch, hours in placements
        for i in range(3)
    ]
    cassandra_store.append(events)

    assert partition_key(session, ks, "events_by_hour") == (
        ["app_id", "epoch", "hour"],
        ["ts", "event_id"],
    )
    partitions = session.execute(f"SELECT DISTINCT app_id, epoch, hour FROM {ks}.events_by_hour")
    assert {tuple(row) for row in partitions} == {
        (event.app_id, event.epoch, event.ts // HOUR) for event in events
    }
    for app, epoch, hour in {(e.app_id, e.epoch, e.ts // HOUR) for e in events}:
        rows = session.execute(
            f"SELECT event_id FROM {ks}.events_by_hour WHERE app_id = %s AND epoch = %s "
            "AND hour = %s",
            (app, epoch, hour),
        )
        expected = [
            e.event_id for e in events if (e.app_id, e.epoch, e.ts // HOUR) == (app, epoch, hour)
        ]
        assert [event_id for (event_id,) in rows] == expected


def test_stage_entries_sit_in_one_partition_per_app_epoch_stage_and_week(
    cassandra_store, cassandra_node
):
    session, ks = cassandra_store.session, cassandra_node.keyspace
    ann, bob = "a" * 16, "b" * 16
    week = T0 // WEEK
    cassandra_store.append(
        [
            make_event(app_id=7, visitor_id=ann, ts=T0 + 5, stages=(0, 1)),
            make_event(app_id=7, visitor_id=bob, ts=T0 + 9, stages=(0,)),
            make_event(app_id=7, visitor_id=ann, ts=T0 + WEEK, stages=(0,)),  # a week later
            make_event(app_id=7, epoch=2, visitor_id=ann, ts=T0 + 7, stages=(0,)),
            make_event(app_id=8, visitor_id=ann, ts=T0 + 3, stages=(2,)),
        ]
    )

    assert partition_key(session, ks, "stage_entries_by_week") == (
        ["app_id", "epoch", "stage", "week"],
        ["visitor_id", "first_ts"],
    )
    rows = session.execute(
        f"SELECT app_id, epoch, stage, week, visitor_id, first_ts FROM {ks}.stage_entries_by_week"
    )
    by_partition: dict[tuple, dict] = {}
    for app, epoch, stage, in_week, visitor, first_ts in rows:
        by_partition.setdefault((app, epoch, stage, in_week), {})[visitor] = first_ts
    assert by_partition == {
        (7, 1, 0, week): {ann: T0 + 5, bob: T0 + 9},
        (7, 1, 0, week + 1): {ann: T0 + WEEK},  # not lower than week's: read as T0 + 5
        (7, 1, 1, week): {ann: T0 + 5},
        (7, 2, 0, week): {ann: T0 + 7},
        (8, 1, 2, week): {ann: T0 + 3},
    }
    assert cassandra_store.stage_visitors(7, 1, 0) == {ann: T0 + 5, bob: T0 + 9}
    assert partition_key(session, ks, "visitor_visits") == (
        ["app_id", "epoch", "visitor_id"],
        ["last_ts", "session_id"],
    )


def test_every_statement_names_its_whole_partition_key(cassandra_store, cassandra_node):
    """No ALLOW FILTERING, no read or write that spans partitions (DISTINCT, IN on a partition
    key column, a partition key column left out)."""
    session, ks = cassandra_store.session, cassandra_node.keyspace
    keys = {table: partition_key(session, ks, table)[0] for table in TABLES}

    for name, cql in CQL.items():
        table = re.search(r"\{ks\}\.(\w+)", cql)[1]
        assert "ALLOW FILTERING" not in cql.upper() and "DISTINCT" not in cql.upper(), name
        for column in keys[table]:
            bound = rf"\b{column} = \?" if "WHERE" in cql else rf"\b{column}\b"
            assert re.search(bound, cql), f"{name} does not fix {column}: {cql}"


def test_an_append_writes_each_partition_of_derived_rows_in_few_requests(cassandra_store):
    """Stage entries, index rows, markers and queue items of one partition go in unlogged
    batches (one mutation per replica), never mixing partitions; raw rows and visit rows (one
    partition each) go alone. What is stored is the same."""
    visitors = [f"{n:016x}" for n in range(120)]
    events = [
        make_event(visitor_id=visitor, ts=T0 + n, stages=(0, 1))
        for n, visitor in enumerate(visitors)
    ]
    statements = {
        prepared.query_id: prepared
        for prepared in vars(cassandra_store.statements).values()
        if hasattr(prepared, "query_id")
    }
    sent = []
    run = cassandra_store._run

    def recording(calls, **kwargs):
        calls = list(calls)
        sent.extend(statement for statement, _ in calls)
        return run(calls, **kwargs)

    cassandra_store._run = recording
    try:
        cassandra_store.append(events)
    finally:
        del cassandra_store._run

    batches = [statement for statement in sent if isinstance(statement, BatchStatement)]
    for batch in batches:
        partitions = set()
        for _, query_id, values in batch._statements_and_parameters:
            prepared = statements[query_id]
            key = tuple(values[i] for i in prepared.routing_key_indexes)
            partitions.add((prepared.query_string.split(" INTO ")[1].split()[0], key))
        assert len({key for _, key in partitions}) == 1, partitions
    batched = sum(len(batch._statements_and_parameters) for batch in batches)
    assert batched >= 240  # two stages' entries of 120 visitors, at least
    singles = [statement for statement in sent if not isinstance(statement, BatchStatement)]
    reads = [
        statement
        for statement in singles
        if getattr(statement, "prepared_statement", statement).query_string.startswith("SELECT")
    ]
    writes = len(singles) - len(reads) + len(batches)
    assert writes <= 2 * len(events) + 10  # raw rows and visit rows, then a few batches
    assert cassandra_store.stage_visitors(7, EPOCH, 0) == {
        visitor: T0 + n for n, visitor in enumerate(visitors)
    }
    assert cassandra_store.stage_visitors(7, EPOCH, 1) == cassandra_store.stage_visitors(
        7, EPOCH, 0
    )
    assert cassandra_store.last_seen(7, EPOCH, visitors) == {
        visitor: (f"s-{visitor}", T0 + n) for n, visitor in enumerate(visitors)
    }


def test_stage_counts_of_a_funnel_are_read_all_at_once(cassandra_store):
    visitors = [f"{n:016x}" for n in range(30)]
    cassandra_store.append(
        [
            make_event(visitor_id=visitor, ts=T0 + n, stages=tuple(range(n % 4)))
            for n, visitor in enumerate(visitors)
        ]
    )

    by_stage = cassandra_store.stage_visitors_many(7, EPOCH, range(5))

    assert by_stage == {
        stage: cassandra_store.stage_visitors(7, EPOCH, stage) for stage in range(5)
    }
    assert [len(by_stage[stage]) for stage in range(5)] == [22, 14, 7, 0, 0]


# -- schema: created by the command, checked at start-up ---------------------------------------


def test_the_store_refuses_to_start_without_its_tables(settings, cassandra_node):
    settings.CASSANDRA = {**cassandra_node.settings(), "keyspace": "datalab_never_migrated"}

    with pytest.raises(ImproperlyConfigured, match=r"manage\.py cassandra_migrate"):
        CassandraEventStore.from_settings()


def test_cassandra_migrate_creates_the_keyspace_and_tables_once(settings, cassandra_node, capsys):
    keyspace = f"datalab_migrate_{os.getpid()}"
    settings.CASSANDRA = {**cassandra_node.settings(), "keyspace": keyspace}
    try:
        call_command("cassandra_migrate")
        first = capsys.readouterr().out
        call_command("cassandra_migrate")
        second = capsys.readouterr().out
        call_command("cassandra_migrate", "--check")

        store = CassandraEventStore.from_settings()
        store.append([make_event()])
        assert store.count_events(7, EPOCH) == 1
        store.close()
    finally:
        admin = cassandra_node.store()
        admin.session.execute(f"DROP KEYSPACE IF EXISTS {keyspace}", timeout=60)
        admin.close()
    assert f"created keyspace {keyspace}" in first
    assert all(f"created table {keyspace}.{table}" in first for table in TABLES)
    assert "nothing to do" in second


def previous_schema_keyspace(session, keyspace: str, events) -> None:
    """A keyspace as the previous schema made it (events by day, stage entries and last seen by
    compare-and-set), holding these events."""
    import datetime

    from eventstore.cassandra import legacy
    from eventstore.cassandra.schema import keyspace_cql, parse_replication, table_cql

    session.execute(keyspace_cql(keyspace, parse_replication("SimpleStrategy:1")), timeout=60)
    for table in legacy.TABLES:
        session.execute(table_cql(keyspace, table, legacy.TABLES), timeout=60)
    insert = session.prepare(legacy.CQL["insert_event"].format(ks=keyspace))
    index = session.prepare(legacy.CQL["index_day"].format(ks=keyspace))
    for event in events:
        day = datetime.date.fromisoformat(event.day)
        session.execute(insert, [day, *insert_values(event)[1:]])
        session.execute(index, (event.app_id, event.epoch, day))
    session.cluster.refresh_schema_metadata()


def store_answers(store, app: int, epoch: int, start: int, end: int, visitors) -> dict:
    """What the store answers about an app's epoch, through the interface."""
    store.flush_pending(limit=10**9)
    return {
        "events": sorted(store.events(app, epoch), key=lambda e: (e.ts, e.event_id)),
        "count": store.count_events(app, epoch),
        "epochs": store.epochs(app),
        "stages": store.stage_visitors_many(app, epoch, range(3)),
        "last": store.last_seen(app, epoch, visitors),
        "columns": contract.column_rows(store.columns(app, epoch, start, end)),
    }


def test_cassandra_migrate_moves_a_keyspace_of_the_previous_schema(
    settings, cassandra_node, cassandra_store, capsys
):
    keyspace = f"datalab_previous_{os.getpid()}"
    settings.CASSANDRA = {**cassandra_node.settings(), "keyspace": keyspace}
    visitors = [f"{n:016x}" for n in range(12)]
    events = [  # three days, hours apart, stages entered more than once, two epochs
        make_event(
            app_id=7,
            epoch=EPOCH + n % 2,
            ts=T0 + n * 5 * HOUR + n,
            visitor_id=visitors[n % len(visitors)],
            session_id=f"s{n % 5}",
            path=f"/p{n % 4}",
            stages=tuple(range(n % 3)),
        )
        for n in range(15)
    ]
    admin = cassandra_node.store()
    try:
        previous_schema_keyspace(admin.session, keyspace, events)
        with pytest.raises(CommandError, match="missing"):
            call_command("cassandra_migrate", "--check")

        call_command("cassandra_migrate")
        first = capsys.readouterr().out
        call_command("cassandra_migrate", "--check")
        call_command("cassandra_migrate")
        second = capsys.readouterr().out

        migrated = CassandraEventStore.from_settings()
        cassandra_store.append(events)  # the same events, appended to the current schema
        span = (T0 - MS_PER_DAY, T0 + 4 * MS_PER_DAY)
        for epoch in (EPOCH, EPOCH + 1):
            expected = store_answers(cassandra_store, 7, epoch, *span, visitors)
            assert store_answers(migrated, 7, epoch, *span, visitors) == expected
            assert expected["count"] > 0
        migrated.close()
    finally:
        admin.session.execute(f"DROP KEYSPACE IF EXISTS {keyspace}", timeout=60)
        admin.close()
    assert f"created the rows of {len(events)} events in events_by_hour, moved" in first
    assert "moved" not in second and "nothing to do" in second


def test_a_server_refuses_a_keyspace_whose_previous_schema_data_is_not_moved(
    settings, cassandra_node
):
    from eventstore.cassandra.schema import create_schema, parse_replication

    keyspace = f"datalab_unmoved_{os.getpid()}"
    settings.CASSANDRA = {**cassandra_node.settings(), "keyspace": keyspace}
    admin = cassandra_node.store()
    try:
        previous_schema_keyspace(admin.session, keyspace, [make_event(app_id=7)])
        create_schema(admin.session, keyspace, parse_replication("SimpleStrategy:1"))

        with pytest.raises(ImproperlyConfigured, match="moved into events_by_hour"):
            CassandraEventStore.from_settings()
    finally:
        admin.session.execute(f"DROP KEYSPACE IF EXISTS {keyspace}", timeout=60)
        admin.close()


def test_an_unreachable_cluster_is_unavailable_not_an_error(cassandra_node):
    with pytest.raises(StoreUnavailable, match="no node available"):
        CassandraEventStore(hosts=["127.0.0.1"], port=free_port(), keyspace="datalab")


# -- exact under partial failures and concurrent writers ---------------------------------------


def test_a_retry_completes_an_append_that_died_before_its_raw_rows(cassandra_store):
    visitor = "f" * 16
    events = [make_event(ts=T0 + i, visitor_id=visitor, stages=(0,)) for i in range(5)]
    # What an append that died before its raw rows left behind:
    cassandra_store._run(cassandra_store.derived.writes(events[:3], Current()))

    result = cassandra_store.append(events)

    assert result.new_ids == {event.event_id for event in events}
    assert list(cassandra_store.events(7, EPOCH)) == events
    assert cassandra_store.count_events(7, EPOCH) == 5
    assert cassandra_store.stage_visitors(7, EPOCH, 0) == {visitor: T0}
    assert cassandra_store.last_seen(7, EPOCH, [visitor]) == {visitor: (f"s-{visitor}", T0 + 4)}


def test_a_retry_completes_an_append_that_died_after_some_raw_rows(cassandra_store):
    visitor = "e" * 16
    events = [make_event(ts=T0 + i, visitor_id=visitor, stages=(1,)) for i in range(5)]
    insert = cassandra_store.statements.insert_event
    for event in events[2:]:  # what an append that died before its derived rows left behind
        cassandra_store.session.execute(insert.bind(insert_values(event)))

    result = cassandra_store.append(events)

    assert result.new_ids == {event.event_id for event in events[:2]}
    assert result.duplicate_ids == {event.event_id for event in events[2:]}
    assert list(cassandra_store.events(7, EPOCH)) == events
    assert cassandra_store.count_events(7, EPOCH) == 5
    assert cassandra_store.stage_visitors(7, EPOCH, 1) == {visitor: T0}
    assert cassandra_store.last_seen(7, EPOCH, [visitor]) == {visitor: (f"s-{visitor}", T0 + 4)}


def test_two_processes_writing_the_same_visitors_keep_exact_first_and_last_times(
    cassandra_store, cassandra_node
):
    """Two stores (as two server processes) append interleaved events of the same visitors at
    the same time: the earliest stage entry and the latest visit win, whoever writes last."""
    other = cassandra_node.store()
    visitors = [f"{n:016x}" for n in range(40)]
    events = [
        make_event(ts=T0 + step * 1000 + n, visitor_id=visitor, session_id=f"s{step}", stages=(0,))
        for step in range(12)
        for n, visitor in enumerate(visitors)
    ]
    halves = [events[0::2][::-1], events[1::2]]  # one writer goes backwards in time
    barrier = threading.Barrier(2)

    def write(store, part):
        barrier.wait()
        for start in range(0, len(part), 40):
            store.append(part[start : start + 40])

    threads = [
        threading.Thread(target=write, args=(store, part))
        for store, part in zip((cassandra_store, other), halves, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    other.close()

    assert cassandra_store.count_events(7, EPOCH) == len(events)
    assert cassandra_store.stage_visitors(7, EPOCH, 0) == {
        visitor: T0 + n for n, visitor in enumerate(visitors)
    }
    assert cassandra_store.last_seen(7, EPOCH, visitors) == {
        visitor: ("s11", T0 + 11_000 + n) for n, visitor in enumerate(visitors)
    }


# -- the node stops during ingest --------------------------------------------------------------


def node_script(command: str, port: int) -> subprocess.CompletedProcess:
    """infra/cassandra.sh on the test run's node (CASSANDRA_DIR etc. come from the environment)."""
    return subprocess.run(
        ["bash", str(ROOT / "infra" / "cassandra.sh"), command],
        env={**os.environ, "DATALAB_CASSANDRA_PORT": str(port)},
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def restartable_node(cassandra_node):
    """The test run's node, when infra/cassandra.sh runs it; running again after the test."""
    status = node_script("status", cassandra_node.port)
    if "(pid " not in status.stdout:
        cassandra_unavailable(f"the node is not run by infra/cassandra.sh: {status.stdout}")
    yield cassandra_node
    started = node_script("start", cassandra_node.port)
    assert started.returncode == 0, started.stderr


class Snippet:
    """A client as the snippet behaves: sends batches, keeps unacked ones and sends them again."""

    def __init__(self, writer: WriteBehind, app_id: int, number: int) -> None:
        self.writer, self.app_id, self.visitor = writer, app_id, f"{number:016x}"
        self.acked: set[str] = set()
        self.refused = 0
        self.unacked: list = []
        self.sent = 0

    def next_batch(self) -> list:
        self.sent += 1
        now = T0 + self.sent * 1000
        return [
            make_event(
                app_id=self.app_id,
                visitor_id=self.visitor,
                session_id=f"s{self.sent // 50}",
                ts=now + i,
                stages=(self.sent % 3,) if i == 0 else (),
            )
            for i in range(20)
        ]

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set() or self.unacked:
            batch = self.unacked or self.next_batch()
            try:
                result = await self.writer.submit(batch)
            except StoreUnavailable:
                self.refused += 1
                self.unacked = batch
                await asyncio.sleep(0.3)
                continue
            self.acked |= result.committed_ids
            self.unacked = []
            await asyncio.sleep(0.005)


async def wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.1)


def answers(store) -> bool:
    """Whether the store's own driver session reaches the node again (after a restart, each
    session reconnects in the background, at its own pace)."""
    try:
        store.ping()
    except StoreUnavailable:
        return False
    return True


@pytest.mark.slow
async def test_ingest_rides_out_a_node_restart_and_loses_no_acked_event(restartable_node):
    app = 900_000 + os.getpid() % 1000
    store = restartable_node.store(request_timeout=3.0)  # as a server process holds one
    writer = WriteBehind(store)
    writer.start()
    clients = [Snippet(writer, app, n) for n in range(6)]
    stop = asyncio.Event()
    tasks = [asyncio.create_task(client.run(stop)) for client in clients]

    def acked() -> int:
        return sum(len(client.acked) for client in clients)

    try:
        await wait_for(lambda: acked() >= 1000, 60, "ingest to start")
        stopped = await asyncio.to_thread(node_script, "stop", restartable_node.port)
        assert stopped.returncode == 0, stopped.stderr
        await asyncio.sleep(0.5)  # acks of appends that finished before the node went
        acked_when_down = acked()
        await asyncio.sleep(3)  # clients keep sending to a dead node

        assert acked() == acked_when_down  # nothing acked without a node
        assert sum(client.refused for client in clients) >= len(clients)
        started = await asyncio.to_thread(node_script, "start", restartable_node.port)
        assert started.returncode == 0, started.stderr
        await wait_for(lambda: acked() >= acked_when_down + 1000, 60, "ingest to recover")
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 120)
        writer.stop()

    stored = list(store.events(app, EPOCH))
    ids = [event.event_id for event in stored]
    assert len(ids) == len(set(ids))  # once each
    assert set(ids) == set().union(*(client.acked for client in clients))  # every ack, no other
    assert store.count_events(app, EPOCH) == len(ids)
    for stage in range(3):
        first = {}
        for event in stored:
            if stage in event.stages:
                first.setdefault(event.visitor_id, event.ts)
        assert store.stage_visitors(app, EPOCH, stage) == first
    latest = {event.visitor_id: (event.session_id, event.ts) for event in stored}
    assert store.last_seen(app, EPOCH, list(latest)) == latest
    store.close()


class WebSnippet:
    """A websocket client as the snippet behaves: batches stay queued until acked; on a close
    or a refused connection it reconnects with backoff and sends them again."""

    def __init__(self, site: LiveSite, number: int) -> None:
        self.site, self.number = site, number
        self.acked: set[str] = set()
        self.closed_without_ack = 0
        self.queue: list[dict] = []

    def batch(self) -> list[dict]:
        now = int(time.time() * 1000)
        return [
            {
                "id": str(uuid.uuid4()),
                "type": "pageview",
                "ts": now + i,
                "url": f"{self.site.origin}/products/{i % 4}",
                "referrer": "",
                "title": "P",
            }
            for i in range(20)
        ]

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set() or self.queue:
            try:
                await self._connected(stop)
            except (OSError, websockets.WebSocketException):
                self.closed_without_ack += 1
                await asyncio.sleep(0.5)

    async def _connected(self, stop: asyncio.Event) -> None:
        async with websockets.connect(
            f"{self.site.ws_url}/ws/ingest?token={self.site.token}",
            origin=self.site.origin,
            user_agent_header=f"Mozilla/5.0 (X11; Linux x86_64; client {self.number}) Firefox/130",
            open_timeout=10,
        ) as socket:
            json.loads(await socket.recv())  # hello
            while not stop.is_set() or self.queue:
                self.queue = self.queue or self.batch()
                await socket.send(json.dumps({"type": "batch", "events": self.queue}))
                ack = json.loads(await asyncio.wait_for(socket.recv(), 30))
                self.acked |= set(ack["ids"])
                self.queue = [event for event in self.queue if event["id"] not in ack["ids"]]
                await asyncio.sleep(0.02)


@pytest.mark.slow
async def test_the_server_holds_acks_while_the_node_is_down_and_recovers_by_itself(
    restartable_node, cassandra_store, tmp_path
):
    from tests.conftest import APP_ORIGIN, TRACKED_CONFIG

    env = {
        "DATALAB_EVENT_STORE": "cassandra",
        "DATALAB_CASSANDRA_HOSTS": ",".join(restartable_node.hosts),
        "DATALAB_CASSANDRA_PORT": str(restartable_node.port),
        "DATALAB_CASSANDRA_KEYSPACE": restartable_node.keyspace,
        "DATALAB_INGEST_STORE_RETRY_SECONDS": "1",
    }
    site = LiveSite(tmp_path, origin=APP_ORIGIN, config=TRACKED_CONFIG, env=env)
    site.start()
    clients = [WebSnippet(site, n) for n in range(4)]
    stop = asyncio.Event()
    tasks = [asyncio.create_task(client.run(stop)) for client in clients]

    def acked() -> int:
        return sum(len(client.acked) for client in clients)

    try:
        await wait_for(lambda: acked() >= 400, 60, "ingest to start")
        stopped = await asyncio.to_thread(node_script, "stop", restartable_node.port)
        assert stopped.returncode == 0, stopped.stderr
        await asyncio.sleep(0.5)
        acked_when_down = acked()
        await asyncio.sleep(4)

        assert acked() == acked_when_down
        assert sum(client.closed_without_ack for client in clients) >= len(clients)
        started = await asyncio.to_thread(node_script, "start", restartable_node.port)
        assert started.returncode == 0, started.stderr
        await wait_for(lambda: acked() >= acked_when_down + 400, 60, "ingest to recover")
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 120)
        site.stop()

    await wait_for(lambda: answers(cassandra_store), 60, "the test's own session to reconnect")
    ids = [event.event_id for event in cassandra_store.events(site.app_id, EPOCH)]
    assert len(ids) == len(set(ids))
    assert set(ids) == set().union(*(client.acked for client in clients))
    log = site.log_path.read_text()
    assert "event store unavailable" in log or "event store append failed" in log
