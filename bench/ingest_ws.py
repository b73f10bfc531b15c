"""Ingest throughput: events/s acked (and durably stored) by ONE server process.

Method: a real `manage.py serve` (daphne) process with the embedded SQLite store, pinned to
core 0; a load generator in a separate process pinned to core 1 opens C websocket connections,
each a closed loop (send a batch of B events, wait for its ack, repeat) for D seconds. Event
ids are random UUIDv4, as browsers make them. At the end the store is counted: every acked
event must be there.

    .venv/bin/python -m bench.ingest_ws [--connections 50] [--batch 20] [--seconds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import sqlite3
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from demo.shop import demo_config
from tests.live_server import LiveSite

ORIGIN = "https://shop.bench.test"
CONFIG = demo_config()


# A load-generator connection carries far more than one browser tab: lift the per-connection
# rate limit (500 events/s by default) so that it measures throughput, not the limit.
BENCH_ENV = {
    "DATALAB_LOG_LEVEL": "WARNING",
    "DATALAB_INGEST_RATE": "10000000",
    "DATALAB_INGEST_BURST": "10000000",
}


def _events(n: int, i: int) -> list[dict]:
    now = int(time.time() * 1000)
    return [
        {
            "id": str(uuid.uuid4()),
            "type": "pageview",
            "ts": now,
            "url": f"{ORIGIN}/products/{(i + k) % 100}?utm_source=newsletter",
            "referrer": "https://www.google.com/",
            "title": "Product",
            "screen": 1440,
            "lang": "en-US",
        }
        for k in range(n)
    ]


async def _client(url: str, batch: int, until: float, latencies: list[float]) -> int:
    import websockets

    acked = 0
    async with websockets.connect(url, origin=ORIGIN, max_queue=None) as socket:
        json.loads(await socket.recv())  # hello
        i = 0
        while time.monotonic() < until:
            frame = json.dumps({"type": "batch", "events": _events(batch, i)})
            sent = time.perf_counter()
            await socket.send(frame)
            ack = json.loads(await socket.recv())
            latencies.append(time.perf_counter() - sent)
            acked += len(ack["ids"])
            i += batch
    return acked


def _load(url: str, connections: int, batch: int, seconds: float, out) -> None:
    os.sched_setaffinity(0, {1})

    async def run():
        latencies: list[float] = []
        until = time.monotonic() + seconds
        start = time.perf_counter()
        counts = await asyncio.gather(
            *(_client(url, batch, until, latencies) for _ in range(connections))
        )
        return sum(counts), time.perf_counter() - start, latencies

    acked, elapsed, latencies = asyncio.run(run())
    latencies.sort()
    out.put(
        {
            "acked": acked,
            "seconds": elapsed,
            "p50_ms": 1000 * statistics.median(latencies),
            "p99_ms": 1000 * latencies[int(len(latencies) * 0.99) - 1],
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--batch", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        site = LiveSite(Path(tmp), origin=ORIGIN, config=CONFIG, env=BENCH_ENV)
        site.start()
        os.sched_setaffinity(site.process.pid, {0})
        try:
            out = multiprocessing.Queue()
            url = f"{site.ws_url}/ws/ingest?token={site.token}"
            loader = multiprocessing.Process(
                target=_load, args=(url, args.connections, args.batch, args.seconds, out)
            )
            loader.start()
            result = out.get(timeout=args.seconds + 120)
            loader.join()
        finally:
            site.stop()
        with sqlite3.connect(Path(tmp) / "events.sqlite3") as conn:
            stored = conn.execute("SELECT COUNT(*) FROM events").fetchone()[0]
    rate = result["acked"] / result["seconds"]
    print(
        f"connections={args.connections} batch={args.batch} seconds={result['seconds']:.1f} "
        f"acked={result['acked']} stored={stored} events/s={rate:,.0f} "
        f"ack p50={result['p50_ms']:.1f} ms p99={result['p99_ms']:.1f} ms"
    )
    if stored < result["acked"]:
        raise SystemExit("FAIL: fewer events stored than acked")


if __name__ == "__main__":
    main()
