"""Capture mode's processor alone: the CPU per event it costs to build and store an inbox.

    .venv/bin/python -m bench.inbox_process [--connections 50] [--batch 20] [--frames 200]

Method: a site seeded as `bench.ingest_ws` seeds it (the demo shop's configuration, its app and
token, in a temporary data directory), C connections opened through the real
`services.open_connection` (one visitor each), and an inbox written by the real `InboxWriter`
with the bench's frames in the order sockets would interleave them (frame i of every connection,
then frame i + 1). Then, pinned to one core, `Processor.run_once` until the inbox is empty (read,
parse, `build_events`, `store.append` 1,000 events per transaction, progress marks), then the
store's deferred work (`flush_pending`: the column parts), as the processor does when idle.
Printed: CPU per event of each, events/s one core sustains with both, the events stored.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from pathlib import Path

from bench.ingest_ws import CONFIG, ORIGIN, build_frames, user_agent
from tests.live_server import LiveSite


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--batch", type=int, default=20)
    parser.add_argument("--frames", type=int, default=200)
    parser.add_argument("--core", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-inbox-") as tmp:
        site = LiveSite(
            Path(tmp), origin=ORIGIN, config=CONFIG, env={"DATALAB_LOG_LEVEL": "WARNING"}
        )
        os.environ["DATALAB_DATA_DIR"] = tmp
        os.environ["DJANGO_SETTINGS_MODULE"] = "datalab.settings"
        os.sched_setaffinity(0, {args.core})
        import django

        django.setup()
        _measure(args, site.token, Path(tmp) / "inbox")


def _measure(args, token: str, directory: Path) -> None:
    from eventstore import get_store
    from ingest import inbox, services
    from ingest.processor import Processor

    frames = build_frames(args.connections, args.batch, args.frames)
    writer = inbox.InboxWriter(directory, segment_bytes=inbox.SEGMENT_BYTES, backlog_bytes=1 << 40)
    numbers = []
    for i in range(args.connections):
        connection = services.open_connection(
            token=token, origin=ORIGIN, user_agent=user_agent(i), ip="203.0.113.9"
        )
        numbers.append(writer.open_connection(connection.facts()))

    async def write() -> None:
        for f in range(args.frames):
            now_ms = int(time.time() * 1000)
            await asyncio.gather(
                *(writer.append(n, now_ms, frames[c][f].encode()) for c, n in enumerate(numbers))
            )

    asyncio.run(write())
    writer.close()
    store = get_store()
    processor = Processor(directory, store)
    start = time.process_time()
    built = 0
    while count := processor.run_once():
        built += count
    build = time.process_time() - start
    start = time.process_time()
    while store.flush_pending():
        pass
    parts = time.process_time() - start
    stored = store.count_events(*_partition(store))
    print(
        f"built={built} stored={stored}: read, build_events and append "
        f"{1e6 * build / built:.1f} us CPU/event, column parts {1e6 * parts / built:.1f}: "
        f"{built / (build + parts):,.0f} events/s on one core (load {os.getloadavg()[0]:.2f})"
    )
    if stored != built:
        raise SystemExit("FAIL: not every built event is stored")


def _partition(store) -> tuple[int, int]:
    from apps_registry.models import App

    app = App.objects.get()
    return app.pk, store.epochs(app.pk)[-1]


if __name__ == "__main__":
    main()
