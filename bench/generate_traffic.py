"""`generate_traffic` into each store, next to its two halves measured in the same run.

Method: for each store, a fresh temporary data directory (and, for Cassandra, a fresh keyspace on
the configured node), an owner and a locked app with the demo shop's configuration made through
the real services; then, on the same traffic (N events over 30 days, seed 7):
- generation alone: `demo.traffic.generate_day_rows` in this process, nothing stored (what the
  generator costs);
- the store alone, two ways, each into an empty partition: the same events, generated
  beforehand, by columns (`import_columns`, what `generate_traffic` writes through) and as
  StoredEvents (`import_events`, the per-event path: the baseline), in batches of a few days
  as the command makes them;
- `traffic_generate` end to end (what the command runs), with 1 process and with `--jobs`
  processes, each time into an empty partition (the app's epoch is bumped by unlocking and
  locking again between runs).
Prints events/s, the CPU time they took (this process and the generating processes it started:
under load, wall time stretches and CPU time much less) and the load average before and after.

    .venv/bin/python -m bench.generate_traffic [--events 1000000] [--store sqlite|cassandra|both]
        [--jobs 2]
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import os
import resource
import subprocess
import sys
import tempfile
import time


def run_store(store: str, events: int, jobs: int) -> None:
    from bench.insights import setup

    with tempfile.TemporaryDirectory() as tmp:
        setup(tmp, store)
        from apps_registry import services as apps
        from demo import services, traffic
        from demo.shop import DEMO_CONFIG
        from eventstore import EventBatch, StoredEvent, get_store
        from funnels import services as funnels
        from orgs.services import user_create_verified
        from tokens import services as tokens

        owner = user_create_verified(email="owner@bench.test", password="bench-password-1")
        app = apps.app_create(owner=owner, name="Bench", url="https://shop.acme.test", tags=["b"])
        funnels.config_update(app=app, actor=owner, data=DEMO_CONFIG, version=1)
        tokens.token_issue(app=app, actor=owner)
        app.refresh_from_db()
        end = dt.date.today() - dt.timedelta(days=1)
        site = services.site_of(app)
        dates = [end - dt.timedelta(days=29 - i) for i in range(30)]
        people = traffic.plan(site, dates, events=events)
        print(f"store={store} load before: {load()}")

        gc.disable()
        began, cpu = time.perf_counter(), cpu_seconds()
        days = [traffic.generate_day_rows(site, d, n) for d, n in zip(dates, people, strict=True)]
        made = sum(len(day.rows) for day in days)
        report("generation alone (1 process)", made, time.perf_counter() - began, cpu)
        per_person = traffic.events_per_person(site)
        chunks = services.day_chunks(list(zip(dates, people, strict=True)), per_person, 1)
        batches, start = [], 0
        for chunk in chunks:  # the command's batches: a few days each
            batches.append([row for day in days[start : start + len(chunk)] for row in day.rows])
            start += len(chunk)
        del days
        event_store = get_store()
        began, cpu = time.perf_counter(), cpu_seconds()
        for rows in batches:
            event_store.import_columns(EventBatch.of_rows(rows))
        seconds = time.perf_counter() - began
        report("store alone: import_columns (1 process)", made, seconds, cpu)
        new_epoch(app, owner)  # the same events in an empty partition
        objects = [[StoredEvent(row[0], app.epoch, *row[2:]) for row in rows] for rows in batches]
        del batches
        began, cpu = time.perf_counter(), cpu_seconds()
        for batch in objects:
            event_store.import_events(batch)
        report("store alone: import_events (1 process)", made, time.perf_counter() - began, cpu)
        del objects
        gc.enable()
        gc.collect()

        for label, processes in (("1 process", 1), (f"{jobs} processes", jobs)):
            new_epoch(app, owner)
            cpu = cpu_seconds()
            done = services.traffic_generate(app=app, events=events, end=end, jobs=processes)
            report(f"generate_traffic end to end ({label})", done.new, done.seconds, cpu)
        print(f"store={store} load after: {load()}")


def new_epoch(app, owner) -> None:
    """A new, empty epoch of the app (the traffic's app ids change with it)."""
    from apps_registry import services as apps
    from tokens import services as tokens

    apps.app_unlock(app=app, actor=owner)
    tokens.token_issue(app=app, actor=owner)
    app.refresh_from_db()


def load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def cpu_seconds() -> float:
    """CPU time of this process and of its children that ended (the generating processes)."""
    own, children = (
        resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def report(what: str, count: int, seconds: float, cpu_before: float) -> None:
    cpu = (cpu_seconds() - cpu_before) / count * 1e6
    print(
        f"  {what:45} {count:>10,} events {seconds:7.1f} s {count / seconds:>10,.0f} events/s "
        f"{cpu:6.1f} us CPU/event"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--store", default="sqlite", choices=["sqlite", "cassandra", "both"])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_store(args.store, args.events, args.jobs)
        return
    for store in ("sqlite", "cassandra") if args.store == "both" else (args.store,):
        # one process per store: Django reads the store's settings once
        subprocess.run(
            [sys.executable, "-m", "bench.generate_traffic", "--child", "--store", store,
             "--events", str(args.events), "--jobs", str(args.jobs)],
            check=True,
        )  # fmt: skip


if __name__ == "__main__":
    main()
