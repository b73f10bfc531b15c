"""Benchmark: the SQLite event store behind the write-behind writer.

~50 asyncio submitters (as many websocket connections) submit batches of 20-100 realistic events
and wait for each commit, closed loop, as the ingest consumer does. Prints events/s and the
p50/p99 latency of `submit`, plus how the writer grouped the appends.

    .venv/bin/python -m bench.eventstore_sqlite [--events 200000] [--submitters 50]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from eventstore import StoredEvent, WriteBehind
from eventstore.sqlite import SQLiteEventStore

PATHS = ["/", "/pricing", "/features", "/blog/launch", "/docs/install", "/signup", "/checkout"]
REFERRERS = ["", "", "www.google.com", "news.ycombinator.com", "/", "/pricing", "t.co"]
BROWSERS = [
    ("Chrome", "Windows", "desktop"),
    ("Safari", "iOS", "mobile"),
    ("Firefox", "Linux", "desktop"),
]
TYPES = ["pageview"] * 5 + ["click"] * 2 + ["element", "event", "leave"]


class TimedStore(SQLiteEventStore):
    """The real store, recording the size, duration and CPU time of each append."""

    def __init__(self, path) -> None:
        super().__init__(path)
        self.groups: list[tuple[int, float, float]] = []

    def append(self, events):
        started, cpu = time.perf_counter(), time.thread_time()
        result = super().append(events)
        elapsed = time.perf_counter() - started
        self.groups.append((len(events), elapsed, time.thread_time() - cpu))
        return result


def make_batches(
    total: int, submitters: int, visitors: int, rng: random.Random
) -> list[list[list[StoredEvent]]]:
    """Per submitter (one app each), batches of 20-100 events of visitors drawn from a pool."""
    now = int(time.time() * 1000)
    pool = [f"{rng.getrandbits(64):016x}" for _ in range(visitors)]
    plans: list[list[list[StoredEvent]]] = [[] for _ in range(submitters)]
    made = 0
    while made < total:
        for index, plan in enumerate(plans):
            size = min(rng.randint(20, 100), total - made)
            if size <= 0:
                break
            plan.append(
                [make_event(rng, index, now + made + i, rng.choice(pool)) for i in range(size)]
            )
            made += size
    return plans


def make_event(rng: random.Random, submitter: int, ts: int, visitor: str) -> StoredEvent:
    kind = rng.choice(TYPES)
    browser, os_name, device = rng.choice(BROWSERS)
    return StoredEvent(
        app_id=1 + submitter % 5,
        epoch=1,
        event_id=str(uuid.uuid4()),  # the snippet sends crypto.randomUUID(): version 4
        ts=ts - rng.randrange(2000),  # clients' clocks and queues: not quite in order
        type=kind,
        visitor_id=visitor,
        session_id=f"{visitor}-1",
        path=rng.choice(PATHS),
        query="utm_source=hn" if rng.random() < 0.1 else "",
        title="Acme - the best widgets" if kind == "pageview" else "",
        referrer=rng.choice(REFERRERS) if kind == "pageview" else "",
        selector="#buy" if kind == "click" else "",
        name={"element": "pricing-cta", "event": "signup"}.get(kind, ""),
        action="click" if kind == "element" else "",
        duration_ms=rng.randrange(60_000) if kind in ("leave", "element") else 0,
        props={"plan": "pro", "seats": 3} if kind == "event" else None,
        browser=browser,
        os=os_name,
        device=device,
        screen=1920 if device == "desktop" else 390,
        lang="en-US",
        campaign="spring" if rng.random() < 0.05 else "",
        stages=(0,) if kind == "pageview" and rng.random() < 0.3 else (),
    )


async def submitter(writer: WriteBehind, batches, latencies: list[float]) -> None:
    for events in batches:
        started = time.perf_counter()
        await writer.submit(events)
        latencies.append(time.perf_counter() - started)


async def run(args: argparse.Namespace, path: Path) -> None:
    rng = random.Random(42)
    plans = make_batches(args.events, args.submitters, args.visitors or args.events // 20, rng)
    store = TimedStore(path)
    writer = WriteBehind(store, max_pending=args.max_pending, linger=args.linger)
    writer.start()
    latencies: list[float] = []
    started = time.perf_counter()
    await asyncio.gather(*(submitter(writer, plan, latencies) for plan in plans))
    elapsed = time.perf_counter() - started
    writer.stop()
    report(args, store, latencies, elapsed, path)
    store.close()


def report(args, store: TimedStore, latencies: list[float], elapsed: float, path: Path) -> None:
    stored = sum(store.count_events(app, 1) for app in range(1, 6))
    sizes = [size for size, _, _ in store.groups]
    in_append = sum(seconds for _, seconds, _ in store.groups)
    cpu = sum(seconds for _, _, seconds in store.groups)
    cuts = statistics.quantiles(latencies, n=100)
    print(f"events stored        {stored} (of {args.events}) in {elapsed:.2f} s")
    print(f"throughput           {stored / elapsed:,.0f} events/s")
    print(f"submit latency       p50 {cuts[49] * 1000:.1f} ms, p99 {cuts[98] * 1000:.1f} ms")
    print(f"submits              {len(latencies)} from {args.submitters} submitters")
    print(f"visitors             {args.visitors or args.events // 20}")
    print(f"appends (txns)       {len(sizes)}, {statistics.mean(sizes):.0f} events each (mean)")
    print(f"time in append       {in_append:.2f} s ({stored / in_append:,.0f} events/s inside)")
    print(f"writer CPU in append {cpu:.2f} s ({cpu / stored * 1e6:.1f} us per event)")
    print(f"database             {path.stat().st_size / 1e6:.0f} MB (+ WAL)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--submitters", type=int, default=50)
    parser.add_argument("--visitors", type=int, help="visitor pool (default: events / 20)")
    parser.add_argument("--max-pending", type=int, default=2000)
    parser.add_argument("--linger", type=float, default=0.0)
    parser.add_argument("--path", type=Path, help="database file (default: a temporary one)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(run(args, args.path or Path(tmp) / "events.sqlite3"))


if __name__ == "__main__":
    main()
