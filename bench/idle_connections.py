"""Memory of idle ingest connections: the resident memory of ONE server process holding N open
websockets that send nothing, next to the bare consumer holding as many (same run).

    .venv/bin/python -m bench.idle_connections [--connections 1000] [--hold 10]

Method: a real `manage.py serve` process with the embedded SQLite store (tests.live_server:
its own data directory, an owner, a locked app and its token) and the bench-only bare server
(`bench.bare_asgi`, same daphne; it accepts without a token check), one after the other. Each
is first warmed by one connection that sends a frame, so that what is measured is what the Nth
connection costs, not the first import. Then N connections are opened (50 handshakes at a
time), each with a valid token and its own User-Agent (its own visitor) and waits for its hello;
after `--hold` seconds of silence, the server's RSS (VmRSS) and peak (VmHWM) are read and every
socket must still be open. The address and connection limits are lifted for the bench: all
connections come from 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import tempfile
import time
from pathlib import Path

import orjson

from bench.ingest_ws import BENCH_ENV, CONFIG, ORIGIN, Server, build_frames, user_agent
from bench.process_stats import load_average, peak_rss_mb, rss_mb
from tests.live_server import LiveSite

OPENING_AT_ONCE = 50


async def _open(url: str, i: int, gate: asyncio.Semaphore, retries: list[int]):
    """One connection, its hello received. A handshake the loaded server dropped (its listen
    queue full) is tried again, and counted."""
    import websockets

    async with gate:
        for attempt in range(5):
            try:
                socket = await websockets.connect(
                    url, origin=ORIGIN, user_agent_header=user_agent(i), open_timeout=60
                )
                break
            except (OSError, websockets.InvalidMessage):
                if attempt == 4:
                    raise
                retries.append(i)
                await asyncio.sleep(0.5)
        orjson.loads(await socket.recv())  # hello: the handshake and the token check are done
    return socket


async def _warm(url: str) -> None:
    import websockets

    frame = build_frames(1, 5, 1)[0][0]
    async with websockets.connect(url, origin=ORIGIN, user_agent_header=user_agent(-1)) as sock:
        await sock.recv()
        await sock.send(frame)
        await sock.recv()


async def _hold(server: Server, connections: int, hold: float) -> dict:
    await _warm(server.url)
    await asyncio.sleep(1)
    before = rss_mb(server.pid)
    gate, retries = asyncio.Semaphore(OPENING_AT_ONCE), []
    began = time.perf_counter()
    sockets = await asyncio.gather(
        *(_open(server.url, i, gate, retries) for i in range(connections))
    )
    opened_s = time.perf_counter() - began
    await asyncio.sleep(hold)
    result = {
        "before": before,
        "rss": rss_mb(server.pid),
        "peak": peak_rss_mb(server.pid),
        "open": sum(1 for s in sockets if s.close_code is None),
        "opened_s": opened_s,
        "retries": len(retries),
        "load": load_average(),
    }
    await asyncio.gather(*(s.close() for s in sockets))
    return result


def _line(name: str, connections: int, r: dict) -> str:
    per = 1024 * (r["rss"] - r["before"]) / connections
    return (
        f"{name:6} {r['before']:6.1f} MB before, {r['rss']:6.1f} MB with {connections} idle "
        f"connections (peak {r['peak']:.1f} MB; {per:.0f} KB per connection), still open: "
        f"{r['open']}/{connections}, opened in {r['opened_s']:.1f} s ({r['retries']} handshakes "
        f"tried again), load {r['load']}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--hold", type=float, default=10)
    args = parser.parse_args()
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)  # the servers inherit it
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    env = {**BENCH_ENV, "DATALAB_INGEST_CONNECTIONS_PER_ADDRESS": str(args.connections + 10)}
    failed = False
    with tempfile.TemporaryDirectory(prefix="bench-idle-") as tmp:
        site = LiveSite(Path(tmp), origin=ORIGIN, config=CONFIG, env=env)
        for server in (Server("bare", site, bare=True), Server("ingest", site)):
            server.start()
            try:
                result = asyncio.run(_hold(server, args.connections, args.hold))
            finally:
                server.stop()
            print(_line(server.name, args.connections, result), flush=True)
            failed |= result["open"] < args.connections
    if failed:
        raise SystemExit("FAIL: some idle connections were closed")


if __name__ == "__main__":
    main()
