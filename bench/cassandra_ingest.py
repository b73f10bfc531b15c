"""Benchmark: ingest into the Cassandra event store, next to a bare-driver baseline, in one run.

Realistic traffic from `demo.traffic` (5 apps; sessions of pageviews, leaves, clicks and
custom events; ~30% of visitors walk the funnel), cut as the snippet sends it: each visitor's
events in batches of up to 20, visitors spread over 50 connections. Then, in one run:
1. baseline: the raw rows only, written by the bare driver with the store's own prepared INSERT
   (`execute_concurrent_with_args`, same concurrency, same groups of 500): the floor;
2. `CassandraEventStore.append` in groups of 500 (as the write-behind writer hands them over):
   duplicate check, index rows and build queue items, stage entries and visit rows (added
   rows, no compare-and-set), raw rows, late markers for slots already sealed;
3. the same groups again: every event a duplicate (the cost of re-sends);
4. the write-behind writer with 50 asyncio submitters (the consumer's path without sockets);
5. with --websocket, the full path: a real server process (`manage.py serve`) on Cassandra,
   websocket clients (one visitor each) sending batches of 100 and waiting for each ack.
--count: only count what `append` sends per event (over --events events) (statements by kind, and
requests: an unlogged batch of one partition is one request and one mutation per replica).
--random-visitors draws every event's visitor at random from a pool instead (the worst case for
the per-visitor rows: as many stage-entry reads and visit rows as events).

    .venv/bin/python -m bench.cassandra_ingest [--events 100000] [--port 9042] [--websocket]

On the 3-node cluster (`infra/cassandra.sh cluster start`): --hosts 127.0.0.1,127.0.0.2,127.0.0.3
--port 9142 --replication NetworkTopologyStrategy:datacenter1=3 (the keyspace's replication;
--consistency, LOCAL_QUORUM by default, is the store's and the baseline's, which share a session).

Uses a keyspace of its own, dropped at the end (--keep to look at it afterwards).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import random
import statistics
import tempfile
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "datalab.settings")

import django  # noqa: E402

django.setup()

from cassandra.concurrent import execute_concurrent_with_args  # noqa: E402
from cassandra.query import BatchStatement  # noqa: E402

from bench.eventstore_sqlite import make_batches  # noqa: E402
from demo import traffic as synthetic  # noqa: E402
from eventstore import StoredEvent  # noqa: E402
from eventstore.cassandra import CassandraEventStore, create_schema  # noqa: E402
from eventstore.cassandra.connection import connect  # noqa: E402
from eventstore.cassandra.schema import parse_consistency, parse_replication  # noqa: E402
from eventstore.cassandra.store import insert_values  # noqa: E402
from eventstore.writer import WriteBehind  # noqa: E402

GROUP = 500  # events per append, as the writer groups them (writer.MAX_GROUP_EVENTS)
CONNECTIONS = 50
APPS = 5


def traffic(total: int, first_app: int, seed: int) -> list[list[list[StoredEvent]]]:
    """Per connection, the batches it sends: each visitor's events by time, 20 at most each."""
    yesterday = dt.datetime.fromtimestamp(time.time() - 86_400, dt.UTC).date()
    plans: list[list[list[StoredEvent]]] = [[] for _ in range(CONNECTIONS)]
    made, visitor_number = 0, 0
    for app in range(APPS):
        events = synthetic.sample(
            app_id=first_app + app,
            first_day=yesterday,
            days=1,
            visitors=total // 7 // APPS + 1,
            seed=seed + app,
        )
        by_visitor: dict[str, list[StoredEvent]] = {}
        for event in events:
            by_visitor.setdefault(event.visitor_id, []).append(event)
        for visits in by_visitor.values():
            visits.sort(key=lambda e: e.ts)
            plan = plans[visitor_number % CONNECTIONS]
            visitor_number += 1
            plan.extend(visits[i : i + 20] for i in range(0, len(visits), 20))
            made += len(visits)
    return plans


def random_visitor_traffic(total: int, first_app: int, seed: int) -> list:
    plans = make_batches(total, CONNECTIONS, total // 20, random.Random(seed))
    return [[[replace(e, app_id=e.app_id - 1 + first_app) for e in b] for b in p] for p in plans]


def arrival_order(plans: list) -> list[StoredEvent]:
    """The connections' batches interleaved, as they reach the writer."""
    ordered = []
    for round_ in range(max(len(plan) for plan in plans)):
        for plan in plans:
            if round_ < len(plan):
                ordered.extend(plan[round_])
    return ordered


def groups_of(events: list, size: int = GROUP) -> list[list]:
    return [events[i : i + size] for i in range(0, len(events), size)]


def quantiles(latencies: list[float]) -> str:
    cuts = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else latencies * 99
    return f"p50 {cuts[49] * 1000:.0f} ms, p99 {cuts[98] * 1000:.0f} ms"


def line(label: str, events: int, seconds: float, extra: str = "") -> None:
    rate = events / seconds
    print(f"  {label:<40} {rate:>8,.0f} events/s  {events} in {seconds:.1f} s  {extra}", flush=True)


class Phases:
    """Wall time in each phase of `append`, by wrapping the store's steps."""

    def __init__(self, store: CassandraEventStore) -> None:
        self.seconds = {"read round": 0.0, "late markers": 0.0}
        store._read_before_write = self._timed("read round", store._read_before_write)
        store._mark_late = self._timed("late markers", store._mark_late)

    def _timed(self, name, function):
        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds[name] += time.perf_counter() - started

        return timed

    def report(self, elapsed: float) -> str:
        parts = [f"{name} {seconds / elapsed:.0%}" for name, seconds in self.seconds.items()]
        rest = 1 - sum(self.seconds.values()) / elapsed
        return ", ".join([*parts, f"write round (raw and derived rows), binding {rest:.0%}"])


def bench_baseline(
    store: CassandraEventStore, events: list[StoredEvent], concurrency: int
) -> float:
    """Events per second of the bare driver writing the raw rows."""
    statement = store.statements.insert_event
    started = time.perf_counter()
    for group in groups_of(events):
        rows = [insert_values(event) for event in group]
        execute_concurrent_with_args(store.session, statement, rows, concurrency=concurrency)
    elapsed = time.perf_counter() - started
    line("baseline: bare driver, raw rows only", len(events), elapsed)
    return len(events) / elapsed


def bench_append(store: CassandraEventStore, events: list[StoredEvent], label: str) -> float:
    """Events per second of `append` in groups of GROUP."""
    phases = Phases(store)
    latencies = []
    started = time.perf_counter()
    for group in groups_of(events):
        t0 = time.perf_counter()
        store.append(group)
        latencies.append(time.perf_counter() - t0)
    elapsed = time.perf_counter() - started
    line(label, len(events), elapsed, f"append of {GROUP}: {quantiles(latencies)}")
    print(f"  {'':<40} time in: {phases.report(elapsed)}", flush=True)
    del store._read_before_write, store._mark_late  # back to the class's methods
    return len(events) / elapsed


def bench_rounds(store: CassandraEventStore, args, make) -> None:
    """Baseline and append of new traffic (other apps each round), alternating which goes
    first, so that a change of the machine's load weighs on both: each round's ratio and the
    median."""
    ratios = []
    for number in range(args.rounds):
        events = arrival_order(make(args.events, 1000 + 20 * number, seed=100 + number))
        baseline_events = [replace(event, app_id=event.app_id + 10) for event in events]
        print(f"round {number + 1} of {args.rounds}:", flush=True)
        if number % 2:
            appended = bench_append(store, events, "CassandraEventStore.append, new events")
            bare = bench_baseline(store, baseline_events, args.concurrency)
        else:
            bare = bench_baseline(store, baseline_events, args.concurrency)
            appended = bench_append(store, events, "CassandraEventStore.append, new events")
        ratios.append(appended / bare)
    shown = ", ".join(f"{ratio:.0%}" for ratio in ratios)
    print(f"append / bare driver by round: {shown}; median {statistics.median(ratios):.0%}")


def count_statements(store: CassandraEventStore, events: list[StoredEvent]) -> None:
    """What `append` sends per event, in groups of GROUP: statements by kind (as named in
    statements.CQL) and requests (reads, single writes, batches)."""
    names = {
        getattr(store.statements, name).query_id: name
        for name in vars(store.statements)
        if hasattr(getattr(store.statements, name), "query_id")
    }
    kinds: Counter = Counter()
    requests: Counter = Counter()
    run = store._run

    def counted(calls, **kwargs):
        calls = list(calls)
        for statement, _ in calls:
            if isinstance(statement, BatchStatement):
                members = [
                    names[query_id] for _, query_id, _ in statement._statements_and_parameters
                ]
                requests["unlogged batch (one partition)"] += 1
            else:
                prepared = getattr(statement, "prepared_statement", statement)
                members = [names[prepared.query_id]]
                read = prepared.query_string.lstrip().upper().startswith("SELECT")
                requests["read" if read else "single write"] += 1
            kinds.update(members)
        return run(calls, **kwargs)

    store._run = counted
    for group in groups_of(events):
        store.append(group)
    del store._run
    total = len(events)
    print(f"per event, over {total} events in appends of {GROUP}:")
    for name, count in kinds.most_common():
        print(f"  statement {name:<28} {count / total:.3f}")
    for name, count in requests.most_common():
        print(f"  request {name:<30} {count / total:.3f}")
    writes = requests["single write"] + requests["unlogged batch (one partition)"]
    print(f"  write requests (mutations per replica)   {writes / total:.3f}")


async def bench_writer(store: CassandraEventStore, plans: list) -> None:
    writer = WriteBehind(store)
    writer.start()
    latencies: list[float] = []
    groups: list[int] = []
    append = store.append

    def counted_append(events):
        groups.append(len(events))
        return append(events)

    store.append = counted_append

    async def submitter(plan) -> None:
        for batch in plan:
            t0 = time.perf_counter()
            await writer.submit(batch)
            latencies.append(time.perf_counter() - t0)

    started = time.perf_counter()
    await asyncio.gather(*(submitter(plan) for plan in plans))
    elapsed = time.perf_counter() - started
    writer.stop()
    del store.append
    total = sum(len(batch) for plan in plans for batch in plan)
    extra = f"submit {quantiles(latencies)}, {statistics.mean(groups):.0f} events per append"
    line(f"write-behind writer, {len(plans)} submitters", total, elapsed, extra)


def wire_batch(size: int, now_ms: int, origin: str) -> list[dict]:
    """A batch as the snippet sends it: pageviews, clicks and leaves of one visitor."""
    import uuid

    batch = []
    for i in range(size):
        event = {"id": str(uuid.uuid4()), "ts": now_ms - size + i}
        kind = ("pageview", "pageview", "click", "leave")[i % 4]
        url = f"{origin}/products/{i % 4}" if i % 8 else f"{origin}/"
        if kind == "pageview":
            event.update(type=kind, url=url, referrer="https://news.ycombinator.com/", title="P")
        elif kind == "click":
            event.update(type=kind, url=url, selector="#buy")
        else:
            event.update(type=kind, url=url, duration=1234)
        batch.append(event)
    return batch


async def drive_sockets(site, sockets: int, seconds: float) -> tuple[int, float, list[float]]:
    """`sockets` clients, one visitor each, sending batches of 100 and waiting for each ack."""
    import json

    import websockets

    acked, latencies = 0, []
    deadline = time.monotonic() + seconds

    async def client(number: int) -> None:
        nonlocal acked
        async with websockets.connect(
            f"{site.ws_url}/ws/ingest?token={site.token}",
            origin=site.origin,
            user_agent_header=f"Mozilla/5.0 (X11; Linux x86_64; bench {number}) Firefox/130.0",
        ) as socket:
            json.loads(await socket.recv())  # hello
            while time.monotonic() < deadline:
                batch = wire_batch(100, int(time.time() * 1000), site.origin)
                t0 = time.perf_counter()
                await socket.send(json.dumps({"type": "batch", "events": batch}))
                ack = json.loads(await socket.recv())
                latencies.append(time.perf_counter() - t0)
                acked += len(ack["ids"])

    started = time.perf_counter()
    await asyncio.gather(*(client(n) for n in range(sockets)))
    return acked, time.perf_counter() - started, latencies


def bench_websocket(args, keyspace: str) -> None:
    from tests.conftest import APP_ORIGIN, TRACKED_CONFIG
    from tests.live_server import LiveSite

    env = {
        "DATALAB_EVENT_STORE": "cassandra",
        "DATALAB_CASSANDRA_HOSTS": args.hosts,
        "DATALAB_CASSANDRA_PORT": str(args.port),
        "DATALAB_CASSANDRA_KEYSPACE": keyspace,
        "DATALAB_CASSANDRA_REPLICATION": args.replication,
        "DATALAB_CASSANDRA_CONSISTENCY": args.consistency,
        "DATALAB_INGEST_RATE": "1000000",
        "DATALAB_INGEST_BURST": "1000000",
        "DATALAB_LOG_LEVEL": "WARNING",
    }
    with tempfile.TemporaryDirectory() as tmp:
        site = LiveSite(Path(tmp), origin=APP_ORIGIN, config=TRACKED_CONFIG, env=env)
        site.start()
        try:
            acked, elapsed, latencies = asyncio.run(drive_sockets(site, args.sockets, args.seconds))
        finally:
            site.stop()
    extra = f"batch of 100 to ack: {quantiles(latencies)}"
    line(f"websocket, server process, {args.sockets} sockets", acked, elapsed, extra)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--hosts", default=os.environ.get("DATALAB_CASSANDRA_HOSTS", "127.0.0.1"))
    parser.add_argument(
        "--port", type=int, default=int(os.environ.get("DATALAB_CASSANDRA_PORT", 9042))
    )
    parser.add_argument("--replication", default="SimpleStrategy:1", help="of the keyspace")
    parser.add_argument("--consistency", default="LOCAL_QUORUM", help="of every read and write")
    parser.add_argument("--concurrency", type=int, default=64, help="requests in flight")
    parser.add_argument("--random-visitors", action="store_true", help="worst case, see above")
    parser.add_argument("--websocket", action="store_true", help="also the full websocket path")
    parser.add_argument("--sockets", type=int, default=20, help="websocket clients")
    parser.add_argument("--seconds", type=float, default=30.0, help="websocket run length")
    parser.add_argument("--keep", action="store_true", help="keep the keyspace")
    parser.add_argument(
        "--rounds", type=int, default=0, help="only baseline vs append, alternating, N rounds"
    )
    parser.add_argument("--count", action="store_true", help="only count what append sends")
    args = parser.parse_args()
    keyspace = f"bench_{os.getpid()}"
    hosts = args.hosts.split(",")
    admin = connect(
        hosts=hosts, port=args.port, local_dc="datacenter1", consistency=parse_consistency("ONE")
    )
    session = admin.connect()
    create_schema(session, keyspace, parse_replication(args.replication))
    store = CassandraEventStore(
        hosts=hosts,
        port=args.port,
        keyspace=keyspace,
        consistency=args.consistency,
        concurrency=args.concurrency,
    )
    make = random_visitor_traffic if args.random_visitors else traffic
    try:
        plans = make(args.events, 1, seed=42)
        events = arrival_order(plans)
        baseline_events = [replace(event, app_id=event.app_id + 100) for event in events]
        visitors = len({(e.app_id, e.visitor_id) for e in events})
        print(
            f"Cassandra at {args.hosts}:{args.port}, keyspace {keyspace} ({args.replication}, "
            f"{args.consistency}): {len(events)} events, {visitors} visitors, "
            f"concurrency {args.concurrency}",
            flush=True,
        )
        if args.count:
            count_statements(store, events)
            return
        if args.rounds:
            bench_rounds(store, args, make)
            return
        bench_baseline(store, baseline_events, args.concurrency)
        bench_append(store, events, "CassandraEventStore.append, new events")
        bench_append(store, events, "CassandraEventStore.append, re-sent")
        asyncio.run(bench_writer(store, make(args.events, 200, seed=7)))
        if args.websocket:
            bench_websocket(args, keyspace)
    finally:
        store.close()
        if not args.keep:
            session.execute(f"DROP KEYSPACE IF EXISTS {keyspace}", timeout=120)
        admin.shutdown()


if __name__ == "__main__":
    main()
