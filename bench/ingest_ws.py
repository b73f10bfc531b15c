"""Ingest throughput: events/s acked (and durably stored) by ONE server process, next to a bare
consumer measured in the same run on the same frames.

    .venv/bin/python -m bench.ingest_ws --bare-baseline [--runs 3] [--connections 50]
        [--batch 20] [--seconds 15] [--profile DIR] [--capture]

Method: a real `manage.py serve` (daphne) process with the embedded SQLite store, and with
`--bare-baseline` a second server, `bench.bare_asgi` (the same daphne server and settings; its
consumer parses each frame and acks its ids, validating and storing nothing), both pinned to
core 0. A load generator in another process pinned to core 1 opens C websocket connections,
each with its own User-Agent (so its own visitor, as browser tabs are), each a closed loop (send
a frame of B pageviews, wait for its ack, repeat) for S seconds. The frames (random UUIDv4 ids,
as browsers make them) are built before each pair of runs and sent to both servers, the bare
one and the real one in alternating order; before each run both servers are idle (the real
one's writer has turned its pending events into column parts). Per run: events/s acked, ack
latency, the server's CPU per event, the load generator's share of its core (near 100 % means
the client, not the server, was the bound) and the load average; for the real server also end
to end: events/s and CPU per event from the run's start until its store has built everything
(no event left pending for the column parts). At the end the real server's
store is counted: it must hold every event it acked.

`--capture` serves the real server in capture mode (`DATALAB_INGEST_CAPTURE`, with the Redis of
`infra/redis.sh`, started if need be): it acks once a frame is in the inbox, and its processor
(`manage.py process_inbox`, a child of the server) builds and stores the events. The processor
is pinned to the load generator's core (core 1); the server's CPU per event is the acking
process's, end to end counts both processes' CPU and lasts until the processor has stored
everything and the store has built its column parts. `--pause-processor` stops the processor
(SIGSTOP) for the run and lets it go on after (SIGCONT): the ack path alone during a burst the
inbox absorbs, with nothing of the processor's on the load generator's core.

`--profile DIR` adds one pair of runs with py-spy sampling each server and, in capture mode, its
processor (raw folded stacks per process in DIR); those runs are slower and are not in the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import os
import resource
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import orjson

from bench.process_stats import cpu_seconds, load_average, rss_mb, wait_idle
from demo.shop import demo_config
from ingest import inbox
from tests.live_server import ROOT, LiveSite, free_port

ORIGIN = "https://shop.bench.test"
CONFIG = demo_config()
SERVER_CORE, LOAD_CORE = 0, 1
MAX_RATE = 250_000  # events/s the frames are built for (a run stops early if they run out)

# A load-generator connection carries far more than one browser tab, and all of them come from
# one address: lift the per-connection, per-address and per-token limits, so that the bench
# measures throughput, not the flood limits.
BENCH_ENV = {
    "DATALAB_LOG_LEVEL": "WARNING",
    "DATALAB_INGEST_RATE": "10000000",
    "DATALAB_INGEST_BURST": "10000000",
    "DATALAB_INGEST_ADDRESS_RATE": "10000000",
    "DATALAB_INGEST_TOKEN_RATE": "10000000",
    "DATALAB_INGEST_CONNECTIONS_PER_ADDRESS": "100000",
    "DATALAB_INGEST_FRAME_RATE": "10000000",
}


def user_agent(i: int) -> str:
    return (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        f"Chrome/126.0.{i}.0 Safari/537.36"
    )


def build_frames(connections: int, batch: int, frames_each: int) -> list[list[str]]:
    """Per connection, its frames: batches of pageviews over ~100 product pages. Times follow
    the frames (a millisecond per event, from a few minutes ago), as a browser's do."""
    start = int(time.time() * 1000) - 10 * 60 * 1000
    per_connection = []
    for c in range(connections):
        frames = []
        for f in range(frames_each):
            events = [
                {
                    "id": str(uuid.uuid4()),
                    "type": "pageview",
                    "ts": start + f * batch + k,
                    "url": f"{ORIGIN}/products/{(c + f + k) % 100}?utm_source=newsletter",
                    "referrer": "https://www.google.com/",
                    "title": "Product",
                    "screen": 1440,
                    "lang": "en-US",
                }
                for k in range(batch)
            ]
            frames.append(orjson.dumps({"type": "batch", "events": events}).decode())
        per_connection.append(frames)
    return per_connection


async def _client(url, agent, frames, until, latencies) -> tuple[int, bool]:
    import websockets

    acked = 0
    async with websockets.connect(
        url, origin=ORIGIN, user_agent_header=agent, max_queue=None, compression=None
    ) as socket:
        orjson.loads(await socket.recv())  # hello
        for frame in frames:
            if time.monotonic() >= until:
                return acked, False
            sent = time.perf_counter()
            await socket.send(frame)
            ack = orjson.loads(await socket.recv())
            latencies.append(time.perf_counter() - sent)
            acked += len(ack["ids"])
    return acked, True  # ran out of frames


def _run(url: str, frames: list[list[str]], seconds: float) -> dict:
    async def run():
        latencies: list[float] = []
        until = time.monotonic() + seconds
        start = time.perf_counter()
        results = await asyncio.gather(
            *(_client(url, user_agent(i), f, until, latencies) for i, f in enumerate(frames))
        )
        return results, time.perf_counter() - start, latencies

    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    results, elapsed, latencies = asyncio.run(run())
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    client_cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (
        cpu_after.ru_stime - cpu_before.ru_stime
    )
    latencies.sort()
    return {
        "acked": sum(acked for acked, _ in results),
        "ran_out": any(ran_out for _, ran_out in results),
        "seconds": elapsed,
        "p50_ms": 1000 * statistics.median(latencies),
        "p99_ms": 1000 * latencies[max(0, int(len(latencies) * 0.99) - 1)],
        "client_cpu": client_cpu / elapsed,
    }


def _load_worker(commands, results) -> None:
    """The load generator's process, pinned to its core: builds frames, runs the clients."""
    os.sched_setaffinity(0, {LOAD_CORE})
    frames: list[list[str]] = []
    while (command := commands.get()) is not None:
        if command[0] == "frames":
            frames = []  # free the previous ones first
            frames = build_frames(*command[1:])
            results.put("built")
        else:
            _, url, seconds = command
            results.put(_run(url, frames, seconds))


class Server:
    """A server process to measure (the real one through LiveSite, or the bare consumer)."""

    def __init__(self, name: str, site: LiveSite, bare: bool = False) -> None:
        self.name, self.site, self.bare = name, site, bare
        self.capture = not bare and site.env.get("DATALAB_INGEST_CAPTURE") == "1"
        self.processor: int | None = None
        self.process: subprocess.Popen | None = None
        self.port = site.port if not bare else free_port()

    def start(self) -> None:
        if self.bare:
            log = open(self.site.data_dir / "bare.log", "a")  # noqa: SIM115
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bench.bare_asgi", "--port", str(self.port)],
                env=self.site.env,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            _wait_listening(self.port, self.process)
        else:
            self.site.start()
            self.process = self.site.process
        os.sched_setaffinity(self.process.pid, {SERVER_CORE})
        self.processor = _processor_of(self.process.pid) if self.capture else None
        if self.processor is not None:
            os.sched_setaffinity(self.processor, {LOAD_CORE})

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def pids(self) -> list[int]:
        return [self.pid] + ([self.processor] if self.processor else [])

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/ingest?token={self.site.token}"

    def stop(self) -> None:
        if self.processor:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.processor, signal.SIGCONT)  # a paused one must hear the server stop
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=15)


def _processor_of(server: int, timeout: float = 30.0) -> int:
    """The pid of the inbox processor the server started."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = subprocess.run(
            ["pgrep", "-P", str(server), "-f", "process_inbox"], capture_output=True, text=True
        ).stdout.split()
        if found:
            return int(found[0])
        time.sleep(0.1)
    raise RuntimeError("the server started no inbox processor")


def _cpu(server: Server) -> float:
    """CPU seconds of the server and, in capture mode, its processor."""
    return cpu_seconds(server.pid) + (cpu_seconds(server.processor) if server.processor else 0)


def _wait_listening(port: int, process: subprocess.Popen, timeout: float = 30.0) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the bare server exited")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the bare server did not start")


def _measure(
    server: Server, commands, results, seconds: float, profile: Path | None, paused: bool = False
) -> dict:
    spies = []
    if profile is not None:
        for name, pid in zip((server.name, "processor"), server.pids, strict=False):
            spies.append(_py_spy(pid, profile / name, seconds))
    load = load_average()
    cpu = cpu_seconds(server.pid)
    cpu_all = _cpu(server)
    if paused and server.processor:
        os.kill(server.processor, signal.SIGSTOP)  # the burst's events wait in the inbox
    commands.put(("run", server.url, seconds))
    result = results.get(timeout=seconds + 300)
    if paused and server.processor:
        os.kill(server.processor, signal.SIGCONT)
    result["server_cpu_us"] = 1e6 * (cpu_seconds(server.pid) - cpu) / max(1, result["acked"])
    result["load"] = f"{load}-{load_average()}"
    result["rss_mb"] = rss_mb(server.pid)
    result["rate"] = result["acked"] / result["seconds"]
    if not server.bare:
        _until_built(server, result, cpu_all)
    for spy in spies:
        spy.wait(timeout=seconds + 60)
    return result


def _until_built(server: Server, result: dict, cpu_before: float) -> None:
    """End to end: wait until the server's store has built everything of the run (no pending
    event left for column parts), then the events/s over the run and that wait, and the CPU per
    event all told. The writer builds 5,000 pending events per slice once idle for 50 ms, so
    the wait holds idle gaps: its rate is a lower bound, the CPU per event is not."""
    start = time.perf_counter()
    while server.capture and inbox.backlog_bytes(server.site.data_dir / "inbox"):
        time.sleep(0.05)  # the processor is building what was acked
    with sqlite3.connect(server.site.data_dir / "events.sqlite3", timeout=30) as conn:
        while conn.execute("SELECT COUNT(*) FROM pending").fetchone()[0]:
            time.sleep(0.05)
    result["built_s"] = time.perf_counter() - start
    result["e2e_rate"] = result["acked"] / (result["seconds"] + result["built_s"])
    result["e2e_cpu_us"] = 1e6 * (_cpu(server) - cpu_before) / max(1, result["acked"])


def _py_spy(pid: int, out: Path, seconds: float) -> subprocess.Popen:
    out.parent.mkdir(parents=True, exist_ok=True)
    spy = Path(sys.executable).with_name("py-spy")
    base = [str(spy), "record", "-p", str(pid), "-d", str(int(seconds)), "-r", "200"]
    return subprocess.Popen(
        [*base, "--format", "raw", "-o", f"{out}.folded", "--threads", "--nonblocking"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _line(name: str, r: dict) -> str:
    return (
        f"  {name:6} {r['rate']:>9,.0f} events/s  acked={r['acked']:>8} "
        f"ack p50={r['p50_ms']:6.1f} ms p99={r['p99_ms']:6.1f} ms  "
        f"server {r['server_cpu_us']:5.1f} us CPU/event  rss={r['rss_mb']:.0f} MB  "
        f"client {100 * r['client_cpu']:3.0f}% of its core  load {r['load']}"
        + ("  FRAMES RAN OUT" if r["ran_out"] else "")
        + (
            f"\n         end to end (until every column part is built, {r['built_s']:.1f} s after"
            f" the run): {r['e2e_rate']:,.0f} events/s, server {r['e2e_cpu_us']:5.1f} us"
            " CPU/event"
            if "e2e_rate" in r
            else ""
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--batch", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--bare-baseline", action="store_true")
    parser.add_argument("--profile", type=Path)
    parser.add_argument("--capture", action="store_true")
    parser.add_argument("--pause-processor", action="store_true")
    args = parser.parse_args()
    frames_each = int(MAX_RATE * args.seconds / args.connections / args.batch) + 1
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        env = {**BENCH_ENV, **(_capture_env() if args.capture else {})}
        site = LiveSite(Path(tmp), origin=ORIGIN, config=CONFIG, env=env)
        servers = [Server("ingest", site)]
        if args.bare_baseline:
            servers.insert(0, Server("bare", site, bare=True))
        commands, results = multiprocessing.Queue(), multiprocessing.Queue()
        loader = multiprocessing.Process(target=_load_worker, args=(commands, results))
        loader.start()
        acked_by_ingest, pairs = 0, []
        try:
            for server in servers:
                server.start()
            plan = [None] * args.runs + ([args.profile] if args.profile else [])
            for i, profile in enumerate(plan):
                commands.put(("frames", args.connections, args.batch, frames_each))
                results.get(timeout=600)
                order = servers if i % 2 == 0 else servers[::-1]
                pair = {}
                for server in order:
                    wait_idle([pid for s in servers for pid in s.pids])
                    pair[server.name] = _measure(
                        server, commands, results, args.seconds, profile, args.pause_processor
                    )
                acked_by_ingest += pair["ingest"]["acked"]
                label = f"run {i + 1}" if profile is None else "profiled (not a figure)"
                print(label, flush=True)
                for name, result in pair.items():
                    print(_line(name, result), flush=True)
                if profile is None:
                    pairs.append(pair)
                    if args.bare_baseline:
                        ratio = pair["ingest"]["rate"] / pair["bare"]["rate"]
                        built = pair["ingest"]["e2e_rate"] / pair["bare"]["rate"]
                        print(f"  ingest / bare = {ratio:.2f} (end to end {built:.2f})", flush=True)
            wait_idle(servers[-1].pids)
        finally:
            commands.put(None)
            loader.join(timeout=30)
            for server in servers:
                server.stop()
        with sqlite3.connect(Path(tmp) / "events.sqlite3") as conn:
            stored = conn.execute("SELECT COUNT(*) FROM events").fetchone()[0]
    _summary(args, pairs, acked_by_ingest, stored)


def _capture_env() -> dict:
    redis = ROOT / "infra" / "redis.sh"
    subprocess.run(["bash", redis, "start"], check=True, stdout=subprocess.DEVNULL)
    url = subprocess.run(["bash", redis, "url"], check=True, capture_output=True, text=True)
    return {
        "DATALAB_INGEST_CAPTURE": "1",
        "DATALAB_REDIS_URL": url.stdout.strip(),
        "DATALAB_INGEST_BACKLOG_MB": "4096",  # a paused processor's run fits in the inbox
    }


def _summary(args, pairs: list[dict], acked: int, stored: int) -> None:
    print(f"acked by the real server={acked} stored={stored}")
    if stored < acked:
        raise SystemExit("FAIL: fewer events stored than acked")
    if not pairs:
        return
    print(
        f"connections={args.connections} batch={args.batch} seconds={args.seconds} "
        f"runs={len(pairs)}"
    )
    for name in pairs[0]:
        rates = [pair[name]["rate"] for pair in pairs]
        each = ", ".join(f"{r:,.0f}" for r in rates)
        print(f"{name}: mean {statistics.mean(rates):,.0f} events/s ({each})")
    if "bare" in pairs[0]:
        for label, key in (("acked", "rate"), ("end to end", "e2e_rate")):
            ratios = [pair["ingest"][key] / pair["bare"]["rate"] for pair in pairs]
            print(f"ingest / bare, {label}: {', '.join(f'{r:.2f}' for r in ratios)}")


if __name__ == "__main__":
    main()
