"""Floods and load against a real server process (ingest), next to a well-behaved visitor.

Method: a real `manage.py serve` (tests.live_server.LiveSite: its own data directory, an owner, a
locked app) on loopback. Two runs:
- flood: a visitor's page (127.0.0.1) sends a batch of 3 events every 100 ms and times each ack,
  first alone (baseline), then while a flood in another process connects again and again from
  127.0.0.2 with full batches as fast as it can (N connections at a time); prints the close
  codes the flood got and the visitor's p50/p95/p99 acks alone and during the flood;
- load: C connections from the load generator's process, opened R a second (`--ramp`), each send
  a batch of 5 events every 2 s (a visitor's page) for S seconds once all are open: p50/p99 ack
  and the server's RSS before and after.
The server runs on the first core and the generators on the others (`--no-pin`: all share).

    .venv/bin/python -m bench.flood [--connections 60] [--seconds 10] [--load 1000]
        [--load-seconds 60] [--ramp 25] [--no-pin]

Imports no Django: its flood runs in a spawned process.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import random
import statistics
import time
import uuid
from collections import Counter

import websockets

FLOOD_FROM = "127.0.0.2"  # Linux routes all of 127/8 to the loopback: another client address
CLOSED_AT_ACCEPT = -2  # a flood connection closed by the server before any HTTP answer


def batch(origin: str, n: int) -> str:
    now = int(time.time() * 1000)
    events = [
        {"id": str(uuid.uuid4()), "type": "pageview", "ts": now, "url": f"{origin}/p/{i}",
         "referrer": "", "title": "P"}
        for i in range(n)
    ]  # fmt: skip
    return json.dumps({"type": "batch", "events": events})


async def visitor(url: str, origin: str, seconds: float, *, every: float = 0.1) -> list[float]:
    """One page: a batch of 3 events every `every` seconds; the ack times in ms."""
    latencies = []
    async with websockets.connect(url, origin=origin) as socket:
        await socket.recv()  # hello
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            began = time.monotonic()
            await socket.send(batch(origin, 3))
            ack = json.loads(await asyncio.wait_for(socket.recv(), 5))
            assert len(ack["ids"]) == 3, ack
            latencies.append(1000 * (time.monotonic() - began))
            await asyncio.sleep(every)
    return latencies


async def _flooder(url: str, origin: str, seconds: float, codes: list[int]) -> None:
    deadline = time.monotonic() + seconds
    payload = batch(origin, 100)
    while time.monotonic() < deadline:
        try:
            async with websockets.connect(
                url, origin=origin, local_addr=(FLOOD_FROM, 0), open_timeout=5
            ) as socket:
                while time.monotonic() < deadline:
                    await socket.send(payload)
                    await asyncio.wait_for(socket.recv(), 5)
        except websockets.ConnectionClosed as closed:
            codes.append(closed.rcvd.code if closed.rcvd else 0)
        except websockets.InvalidMessage:
            codes.append(CLOSED_AT_ACCEPT)  # no HTTP answer: an address cooling down
        except (OSError, TimeoutError, websockets.InvalidHandshake):
            codes.append(-1)  # refused by the kernel, timed out, or an HTTP error answer


def flood(url: str, origin: str, seconds: float, connections: int, out) -> None:
    """Run in a process of its own: `connections` flooders for `seconds`; puts their close
    codes into the queue `out`."""

    async def run() -> list[int]:
        codes: list[int] = []
        await asyncio.gather(*(_flooder(url, origin, seconds, codes) for _ in range(connections)))
        return codes

    out.put(asyncio.run(run()))


def start_flood(url: str, origin: str, seconds: float, connections: int):
    """(process, queue): a flood running in a spawned process."""
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    process = context.Process(target=flood, args=(url, origin, seconds, connections, out))
    process.start()
    return process, out


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def describe(values: list[float]) -> str:
    return (
        f"{len(values)} acks, p50 {statistics.median(values):.0f} ms, "
        f"p95 {quantile(values, 0.95):.0f} ms, p99 {quantile(values, 0.99):.0f} ms"
    )


async def loaded_page(
    url: str, origin: str, seconds: float, latencies: list[float], opened: Opened, delay: float
) -> None:
    """A page left open: it opens after `delay` seconds (pages arrive at a steady pace, not
    all in the same millisecond: a server answers each handshake within daphne's 5 s), then,
    once every page is connected, a batch of 5 events every 2 s for `seconds` (the first one
    at a random point of the first 2 s); the ack times in ms."""
    await asyncio.sleep(delay)
    async with websockets.connect(url, origin=origin, open_timeout=120) as socket:
        await socket.recv()
        await opened.arrive()
        await asyncio.sleep(2 * random.random())  # pages do not all send at once
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            began = time.monotonic()
            await socket.send(batch(origin, 5))
            await asyncio.wait_for(socket.recv(), 30)
            latencies.append(1000 * (time.monotonic() - began))
            await asyncio.sleep(2.0)


class Opened:
    """A barrier: the measured part starts once all `pages` are connected."""

    def __init__(self, pages: int) -> None:
        self.left, self.all = pages, asyncio.Event()

    async def arrive(self) -> None:
        self.left -= 1
        if self.left <= 0:
            self.all.set()
        await self.all.wait()


async def open_pages(url: str, origin: str, pages: int, seconds: float) -> list[float]:
    """`pages` pages opened 20 at a time, then measured together: the ack times (ms)."""
    latencies: list[float] = []
    opened = Opened(pages)
    tasks = []
    for start in range(0, pages, 20):
        tasks += [
            asyncio.create_task(loaded_page(url, origin, seconds, latencies, opened, 0.0))
            for _ in range(min(20, pages - start))
        ]
        await asyncio.sleep(0.05)
    await asyncio.gather(*tasks)
    return latencies


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        line = next(line for line in status if line.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


def pin(server: int) -> str:
    """The server's threads on the first core, this process (and the flood it spawns) on the
    others: the server measured as one process on one core, its load generated elsewhere."""
    import os
    import subprocess

    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        return "not pinned: one core"
    subprocess.run(
        ["taskset", "-a", "-p", "-c", str(cores[0]), str(server)], check=True, capture_output=True
    )
    os.sched_setaffinity(0, set(cores[1:]))
    return f"server pinned to core {cores[0]}, load generators to {cores[1:]}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--connections", type=int, default=60)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--load", type=int, default=1000)
    parser.add_argument("--load-seconds", type=float, default=60)
    parser.add_argument("--ramp", type=float, default=25, help="new load pages per second")
    parser.add_argument(
        "--no-pin",
        dest="pin",
        action="store_false",
        help="let the server share every core with the load generators",
    )
    args = parser.parse_args()
    import os
    import tempfile
    from pathlib import Path

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "datalab.settings")
    from demo.shop import DEMO_CONFIG
    from tests.live_server import LiveSite

    origin = "https://shop.bench.test"
    with tempfile.TemporaryDirectory() as tmp:
        env = {"DATALAB_INGEST_CONNECTIONS_PER_ADDRESS": str(max(200, args.load + 10))}
        site = LiveSite(Path(tmp), origin=origin, config=DEMO_CONFIG, env=env)
        site.start()
        try:
            url = f"{site.ws_url}/ws/ingest?token={site.token}"
            print(pin(site.process.pid) if args.pin else "not pinned: all share every core")
            print(f"load average before: {os.getloadavg()[0]:.2f}")
            calm = asyncio.run(visitor(url, origin, args.seconds))
            process, out = start_flood(url, origin, args.seconds + 2, args.connections)
            time.sleep(1.0)
            during = asyncio.run(visitor(url, origin, args.seconds))
            codes = out.get(timeout=60)
            process.join(10)
            print(f"visitor alone:       {describe(calm)}")
            print(f"visitor under flood: {describe(during)}")
            print(f"flood: {len(codes)} connections ended, codes {sorted(Counter(codes).items())}")

            latencies: list[float] = []
            server = site.process.pid
            before = rss_mb(server)

            async def load() -> None:
                opened = Opened(args.load)
                pages = [
                    loaded_page(url, origin, args.load_seconds, latencies, opened, i / args.ramp)
                    for i in range(args.load)
                ]
                await asyncio.gather(*pages)

            began = time.monotonic()
            asyncio.run(load())
            print(
                f"load: {args.load} connections for {time.monotonic() - began:.0f} s: "
                f"{describe(latencies)}; server RSS {before:.0f} MB before, "
                f"{rss_mb(server):.0f} MB after"
            )
            print(f"load average after: {os.getloadavg()[0]:.2f}")
        except Exception:
            print(f"server log (end):\n{site.log_path.read_text()[-3000:]}")
            raise
        finally:
            site.stop()


if __name__ == "__main__":
    main()
