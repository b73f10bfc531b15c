"""Capture mode's processor alone: the CPU per event it costs to build and store an inbox, next
to a baseline measured in the same run.

    .venv/bin/python -m bench.inbox_process [--connections 50] [--batch 20] [--frames 200]
        [--runs 2]

Method: a site seeded as `bench.ingest_ws` seeds it (the demo shop's configuration, its app and
token, in a temporary data directory), C connections opened through the real
`services.open_connection` (one visitor each), and two identical inboxes per run written by the
real `InboxWriter` with the bench's frames in the order sockets would interleave them (frame i
of every connection, then frame i + 1). Then, pinned to one core, for each inbox into a store of
its own (the two in turn: each goes first in every other run), `Processor.run_once` until the
inbox is empty (read, parse, `build_events`, store `BATCH_EVENTS` per transaction, progress
marks), then the store's deferred work (`flush_pending`), as the processor does when idle:
- the product: a full batch through `import_events`, straight into column parts;
- the baseline: the same processor storing every batch through `append`, the write-behind
  writer's path, the column parts built afterwards from pending.
Printed for each: CPU per event of both steps, events/s one core sustains, the events stored
(each must store every event built), and the machine's load.
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
    parser.add_argument("--runs", type=int, default=2)
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


class _AppendOnly:
    """A store whose `import_events` is its `append`: the baseline's path."""

    def __init__(self, store) -> None:
        self._store = store

    def import_events(self, events):
        return self._store.append(events)

    def __getattr__(self, name: str):
        return getattr(self._store, name)


def _measure(args, token: str, directory: Path) -> None:
    from eventstore.sqlite.store import SQLiteEventStore
    from ingest import services

    frames = build_frames(args.connections, args.batch, args.frames)
    facts = [
        services.open_connection(
            token=token, origin=ORIGIN, user_agent=user_agent(i), ip="203.0.113.9"
        ).facts()
        for i in range(args.connections)
    ]
    for run in range(args.runs):  # the two in turn, first one then the other
        product, baseline = directory / f"product-{run}", directory / f"baseline-{run}"
        for folder in (product, baseline):
            _write_inbox(folder, facts, frames, args.frames)
        pair = [
            (
                "baseline: append, then column parts",
                baseline,
                _AppendOnly(SQLiteEventStore(directory / f"baseline-{run}.sqlite3")),
            ),
            (
                "product: import_events",
                product,
                SQLiteEventStore(directory / f"product-{run}.sqlite3"),
            ),
        ]
        for label, folder, store in pair if run % 2 == 0 else reversed(pair):
            _process(f"run {run + 1}, {label}", folder, store)


def _write_inbox(directory: Path, facts: list[bytes], frames, count: int) -> None:
    from ingest import inbox

    writer = inbox.InboxWriter(directory, segment_bytes=inbox.SEGMENT_BYTES, backlog_bytes=1 << 40)
    numbers = [writer.open_connection(one) for one in facts]

    async def write() -> None:
        for f in range(count):
            now_ms = int(time.time() * 1000)
            await asyncio.gather(
                *(writer.append(n, now_ms, frames[c][f].encode()) for c, n in enumerate(numbers))
            )

    asyncio.run(write())
    writer.close()


def _process(label: str, directory: Path, store) -> None:
    from ingest.processor import Processor

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
        f"{label}: built={built} stored={stored}: read, build_events and store "
        f"{1e6 * build / built:.1f} us CPU/event, column parts {1e6 * parts / built:.1f}: "
        f"{1e6 * (build + parts) / built:.1f} us, {built / (build + parts):,.0f} events/s on "
        f"one core (load {os.getloadavg()[0]:.2f})"
    )
    if stored != built:
        raise SystemExit(f"FAIL ({label}): not every built event is stored")


def _partition(store) -> tuple[int, int]:
    from apps_registry.models import App

    app = App.objects.get()
    return app.pk, store.epochs(app.pk)[-1]


if __name__ == "__main__":
    main()
