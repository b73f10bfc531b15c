"""Benchmark: archive one retired partition of ~1M events from the SQLite store, then restore it.

Builds a throwaway installation in a temporary directory (metadata database, SQLite event store,
archive directory), generates realistic traffic (`demo.traffic`) for one tracked app,
unlocks it (its epoch 1 is retired), then runs the real commands:

    archive_partitions --delete-after-verify      restore_partition --app ID --epoch 1

and times each step through the archiver's step hook (export, commit, archive re-read, store
re-read, delete; restore's archive check, appends, store check). Prints sizes and figures.

    .venv/bin/python -m bench.archive [--events 1000000] [--level 6]
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import itertools
import os
import resource
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

from demo.shop import DEMO_CONFIG as CONFIG  # noqa: E402

START_MS = 1_790_812_800_000  # 2026-10-01T00:00:00Z
DAYS = 30


def configure(tmp: Path) -> None:
    os.environ.update(
        DATALAB_DATA_DIR=str(tmp),
        DATABASE_URL=f"sqlite:///{tmp / 'datalab.sqlite3'}",
        DATALAB_EVENT_STORE="sqlite",
        DATALAB_EVENTS_SQLITE_PATH=str(tmp / "events.sqlite3"),
        DATALAB_ARCHIVE_DIR=str(tmp / "archive"),
        DJANGO_SETTINGS_MODULE="datalab.settings",
        DATALAB_LOG_LEVEL="WARNING",
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def retired_app(events: int) -> tuple[int, float]:
    """A tracked app with `events` events in epoch 1, unlocked; (app id, load seconds)."""
    from apps_registry import services as apps
    from demo import traffic as synthetic
    from eventstore import get_store
    from funnels import services as funnels
    from orgs.services import user_create_verified
    from tokens import services as tokens

    owner = user_create_verified(email="owner@bench.test", password="bench-password-1")
    app = apps.app_create(owner=owner, name="Bench", url="https://shop.acme.test", tags=["b"])
    funnels.config_update(app=app, actor=owner, data=CONFIG, version=1)
    tokens.token_issue(app=app, actor=owner)
    app.refresh_from_db()
    first_day = dt.datetime.fromtimestamp(START_MS / 1000, dt.UTC).date()
    generated = synthetic.sample(
        app_id=app.pk, first_day=first_day, days=DAYS, events=round(events * 1.1)
    )
    store, started = get_store(), time.perf_counter()
    stream = itertools.islice(generated, events)
    while batch := list(itertools.islice(stream, 5000)):
        store.append(batch)
    loaded = time.perf_counter() - started
    assert store.count_events(app.pk, 1) == events, "the generator made fewer events"
    apps.app_unlock(app=app, actor=owner)
    return app.pk, loaded


class Clock:
    """Records when each step of the archiver is reached."""

    def __init__(self) -> None:
        self.marks: dict[str, float] = {}

    def __call__(self, step) -> None:
        self.marks[str(step)] = time.perf_counter()

    def timed(self, *command: str) -> float:
        from django.core.management import call_command

        self.marks = {}
        self.marks["start"] = time.perf_counter()
        call_command(*command, stdout=io.StringIO(), stderr=io.StringIO())
        self.marks["end"] = time.perf_counter()
        return self.marks["end"] - self.marks["start"]

    def between(self, first: str, last: str) -> float:
        return self.marks[last] - self.marks[first]


def row(label: str, seconds: float, events: int) -> str:
    return f"  {label:<34} {seconds:7.2f} s  {events / seconds:>11,.0f} events/s"


def report_archive(clock: Clock, total: float, events: int) -> None:
    print(f"archive_partitions --delete-after-verify: {total:.2f} s in all")
    print(row("export (store -> 3 gzip files)", clock.between("start", "exported"), events))
    commit = clock.between("exported", "committed")
    print(f"  {'manifest, fsync, rename (commit)':<34} {commit:7.2f} s")
    print(row("verify (re-read archive + count)", clock.between("committed", "verified"), events))
    print(
        row("check store (re-read + checksum)", clock.between("recorded", "store_verified"), events)
    )
    print(row("delete_partition", clock.between("delete_marked", "deleted"), events))


def report_restore(clock: Clock, total: float, events: int) -> None:
    print(f"restore_partition: {total:.2f} s in all")
    print(row("verify archive before restoring", clock.between("start", "restore_marked"), events))
    print(
        row(
            "append (batches of 2,000)", clock.between("restore_marked", "restore_appended"), events
        )
    )
    print(
        row(
            "check store (events, stages, last)",
            clock.between("restore_appended", "restore_verified"),
            events,
        )
    )


def report_sizes(directory: Path, store_bytes: int) -> None:
    import orjson

    manifest = orjson.loads((directory / "manifest.json").read_bytes())
    print(f"event store file before archiving: {store_bytes / 1e6:,.0f} MB (+ WAL)")
    for table, entry in manifest["tables"].items():
        ratio = entry["content_bytes"] / max(entry["bytes"], 1)
        print(
            f"  {table:<14} {entry['rows']:>10,} rows  {entry['bytes'] / 1e6:8.1f} MB gzip "
            f"({entry['content_bytes'] / 1e6:,.0f} MB JSON Lines, {ratio:.1f}x)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--level", type=int, default=None, help="gzip level (default: the code's)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-archive-") as tmp:
        configure(Path(tmp))
        from archive import format as archive_format
        from archive import layout

        if args.level is not None:
            archive_format.COMPRESS_LEVEL = args.level
        app_id, loaded = retired_app(args.events)
        level = archive_format.COMPRESS_LEVEL
        print(f"{args.events:,} events, gzip level {level}, {os.cpu_count()} CPUs")
        print(row("generate + load into SQLite", loaded, args.events))
        store_bytes = (Path(tmp) / "events.sqlite3").stat().st_size
        clock = Clock()
        layout.set_step_hook(clock)
        total = clock.timed("archive_partitions", "--delete-after-verify")
        report_archive(clock, total, args.events)
        report_sizes(Path(tmp) / "archive" / f"app-{app_id}" / "epoch-1", store_bytes)
        total = clock.timed("restore_partition", "--app", str(app_id), "--epoch", "1")
        report_restore(clock, total, args.events)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak memory of the process: {peak:,.0f} MB")


if __name__ == "__main__":
    main()
