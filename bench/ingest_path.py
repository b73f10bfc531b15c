"""The ingest path without sockets: CPU per event from a frame's text to its ack, in one process.

    .venv/bin/python -m bench.ingest_path [--connections 50] [--batch 20] [--frames 100]

Method: a temporary data directory with the embedded SQLite store; C simulated sockets (each its
own visitor, the demo shop's configuration), each a closed loop over its prebuilt frames (the
frames of `bench.ingest_ws`): parse the frame, `services.build_events`, the write-behind
writer's `submit` (its thread commits groups), `services.acknowledge` and the ack's JSON. Printed:
the process's CPU time per acked event and events/s (wall), then the CPU per event of turning the
pending events into column parts afterwards (`flush_pending`, which the idle writer does when
the sockets pause), and the bytes read and written per event. Pinned to one core (`--core`).
No daphne or twisted: what it leaves out is what the bare consumer of `bench.ingest_ws` costs.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time


def _io() -> dict[str, int]:
    with open("/proc/self/io") as io:
        return {k: int(v) for k, v in (line.split(": ") for line in io.read().splitlines())}


def _setup(data_dir: str) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "datalab.settings"
    os.environ["DATALAB_DATA_DIR"] = data_dir
    os.environ["DATALAB_LOG_LEVEL"] = "WARNING"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _connection(i: int, compiled):
    from bench.ingest_ws import user_agent
    from ingest import services
    from ingest.enrichment import client_of

    return services.Connection(
        app_id=1,
        epoch=1,
        app_host="shop.bench.test",
        compiled=compiled,
        client=client_of(user_agent(i)),
        visitor_id=f"{i:024x}",
        allow_visitor_id=False,
    )


async def _socket(conn, frames: list[str]) -> int:
    import orjson

    from eventstore import get_writer
    from ingest import services

    acked = 0
    for frame in frames:
        message = orjson.loads(frame)
        now_ms = int(time.time() * 1000)
        stored, rejected = services.build_events(conn, message["events"], now_ms=now_ms)
        result = await get_writer().submit(stored)
        ack = services.acknowledge(conn, stored, rejected, result)
        orjson.dumps(ack).decode()
        acked += len(ack["ids"])
    return acked


async def _run(args) -> None:
    from bench.ingest_ws import CONFIG, build_frames
    from eventstore import get_store, reset_writer
    from funnels.matching import CompiledConfig

    compiled = CompiledConfig.from_dict(CONFIG)
    frames = build_frames(args.connections, args.batch, args.frames)
    sockets = [_connection(i, compiled) for i in range(args.connections)]
    io, cpu, wall = _io(), time.process_time(), time.perf_counter()
    loops = [_socket(s, f) for s, f in zip(sockets, frames, strict=True)]
    acked = sum(await asyncio.gather(*loops))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    done_io = _io()
    flush = time.process_time()
    while get_store().flush_pending(5000):
        pass
    flush = time.process_time() - flush
    reset_writer()
    written = (done_io["wchar"] - io["wchar"]) / acked
    read = (done_io["rchar"] - io["rchar"]) / acked
    print(
        f"acked={acked} ack path {1e6 * cpu / acked:.1f} us CPU/event, {acked / wall:,.0f} "
        f"events/s; then column parts {1e6 * flush / acked:.1f} us CPU/event (end to end "
        f"{1e6 * (cpu + flush) / acked:.1f}); written "
        f"{written / 1000:.2f} KB/event, read {read / 1000:.2f} KB/event (load "
        f"{os.getloadavg()[0]:.2f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--batch", type=int, default=20)
    parser.add_argument("--frames", type=int, default=100, help="per connection")
    parser.add_argument("--core", type=int, default=0)
    args = parser.parse_args()
    os.sched_setaffinity(0, {args.core})
    with tempfile.TemporaryDirectory(prefix="bench-ingest-path-") as tmp:
        _setup(tmp)
        asyncio.run(_run(args))


if __name__ == "__main__":
    main()
