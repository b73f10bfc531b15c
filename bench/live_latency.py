"""Benchmark: from an event acked by ingest to its realtime push on a subscribed dashboard.

Starts a real server process (`manage.py serve`, seeded with an owner and a tracked app),
subscribes a dashboard socket to the app and sends pageviews, one per batch, on an ingest
socket. For each event it takes the time between the ack reaching the client and the first
realtime push listing the event reaching the dashboard (both sockets on this machine, one clock).

Two kinds of traffic:
- steady: `--events` events at `--rate` per second (pushes come once a second, so an event
  waits for the next push: up to a second);
- sparse: `--sparse` events, each after a quiet second and a half (pushed at once).

    .venv/bin/python -m bench.live_latency [--events 300] [--rate 10] [--sparse 20]
        [--redis redis://127.0.0.1:6379/0 [--two-processes]]

With `--two-processes` (Redis only) a second server process shares the data directory and
Redis: events are ingested by one process and the dashboard is connected to the other.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import websockets

from demo.shop import demo_config
from tests.live_server import LiveSite

ORIGIN = "https://shop.bench.test"
CONFIG = demo_config()


def login(site: LiveSite) -> str:
    import urllib.request

    request = urllib.request.Request(
        f"{site.url}/api/v1/auth/login",
        data=json.dumps({"email": "owner@acme.test", "password": "pw-123456"}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())["access"]


class Dashboard:
    """A subscribed /ws/live socket noting when each path first shows in a realtime push."""

    def __init__(self) -> None:
        self.first_seen: dict[str, float] = {}
        self.pushes: list[float] = []

    async def run(self, site: LiveSite, token: str, ready: asyncio.Event) -> None:
        async with websockets.connect(f"{site.ws_url}/ws/live?token={token}") as socket:
            await socket.send(json.dumps({"type": "subscribe", "app": site.app_id}))
            async for raw in socket:
                now = time.perf_counter()
                message = json.loads(raw)
                if message["type"] == "subscribed":
                    ready.set()
                elif message["type"] == "realtime":
                    self.pushes.append(now)
                    for event in message["latest"]:
                        self.first_seen.setdefault(event["path"], now)


async def send_events(site: LiveSite, count: int, pause: float, label: str) -> dict[str, float]:
    """Send `count` pageviews `pause` seconds apart; path -> when its ack arrived."""
    acked: dict[str, float] = {}
    async with websockets.connect(
        f"{site.ws_url}/ws/ingest?token={site.token}", origin=ORIGIN
    ) as socket:
        assert json.loads(await socket.recv())["type"] == "hello"
        for i in range(count):
            path = f"/products/{label}-{i}-{uuid.uuid4().hex[:6]}"
            event = {
                "id": str(uuid.uuid4()),
                "type": "pageview",
                "ts": int(time.time() * 1000),
                "url": ORIGIN + path,
                "referrer": "",
                "title": "Bench",
            }
            await socket.send(json.dumps({"type": "batch", "events": [event]}))
            ack = json.loads(await socket.recv())
            acked[path] = time.perf_counter()
            assert ack["ids"] == [event["id"]], ack
            await asyncio.sleep(pause)
    return acked


def report(label: str, acked: dict[str, float], dashboard: Dashboard) -> None:
    latencies = sorted(
        (dashboard.first_seen[path] - at) * 1000
        for path, at in acked.items()
        if path in dashboard.first_seen
    )
    missing = len(acked) - len(latencies)
    if not latencies:
        print(f"{label:>7}: no event was pushed ({missing} missing)")
        return
    p95 = latencies[max(0, round(0.95 * len(latencies)) - 1)]
    print(
        f"{label:>7}: {len(latencies):4d} events  median {statistics.median(latencies):7.1f} ms"
        f"  p95 {p95:7.1f} ms  max {latencies[-1]:7.1f} ms  min {latencies[0]:6.1f} ms"
        f"  (missing {missing})"
    )


async def bench(ingesting: LiveSite, showing: LiveSite, args) -> None:
    token = await asyncio.to_thread(login, showing)
    dashboard, ready = Dashboard(), asyncio.Event()
    listener = asyncio.create_task(dashboard.run(showing, token, ready))
    await asyncio.wait_for(ready.wait(), 10)
    if args.events:
        acked = await send_events(ingesting, args.events, 1 / args.rate, "steady")
        await asyncio.sleep(1.5)
        report("steady", acked, dashboard)
    if args.sparse:
        await asyncio.sleep(1.5)
        acked = await send_events(ingesting, args.sparse, 1.5, "sparse")
        await asyncio.sleep(1.5)
        report("sparse", acked, dashboard)
    gaps = [b - a for a, b in zip(dashboard.pushes, dashboard.pushes[1:], strict=False)]
    if gaps:
        print(f"shortest gap between two pushes: {min(gaps) * 1000:.0f} ms")
    listener.cancel()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=300, help="steady traffic: events")
    parser.add_argument("--rate", type=float, default=10.0, help="steady traffic: events/s")
    parser.add_argument("--sparse", type=int, default=20, help="sparse traffic: events")
    parser.add_argument("--redis", default="", help="channel layer and live state in Redis")
    parser.add_argument("--two-processes", action="store_true", help="ingest and show apart")
    args = parser.parse_args()
    if args.two_processes and not args.redis:
        parser.error("--two-processes needs --redis")
    env = {"DATALAB_REDIS_URL": args.redis, "DATALAB_LOG_LEVEL": "WARNING"}
    layer = f"Redis {args.redis}" if args.redis else "in-memory"
    with tempfile.TemporaryDirectory() as data_dir:
        sites = [LiveSite(Path(data_dir), origin=ORIGIN, config=CONFIG, env=env)]
        if args.two_processes:
            own_store = {**env, "DATALAB_EVENTS_SQLITE_PATH": str(Path(data_dir) / "events-2")}
            sites.append(
                LiveSite(
                    Path(data_dir), origin=ORIGIN, config=CONFIG, env=own_store, share=sites[0]
                )
            )
        for site in sites:
            site.start()
        try:
            print(f"ingest ack -> realtime push, {len(sites)} server process(es), {layer} layer")
            asyncio.run(bench(sites[0], sites[-1], args))
        finally:
            for site in sites:
                site.stop()


if __name__ == "__main__":
    main()
