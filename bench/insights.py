"""Insights latency at 1M, 10M or 30M events: median and p95 of every endpoint, and memory.

Method: a data directory (temporary, or `--data DIR`, kept and reused); an owner, a locked app
and its frozen configuration made through the real services; N synthetic events (30 days, ~100
routes, a 4-stage funnel with drop-offs; demo.traffic) appended to the configured event store in
batches of 500, in time order as ingest delivers them, generated day by day (`--order visitor`:
visitor by visitor, each batch spread over the whole month, the worst case for the store's
per-day column parts; it holds every generated event in memory); then the pending events are
turned into column parts as the idle writer does (`flush_pending`, timed apart), one request
warms the process (its time is printed), and each endpoint is requested R times through
Django's test client (the full view: auth, parsing, the store read, the engine, JSON rendering)
over the whole 30-day range, with the memory setting `manage.py serve` uses
(`DATALAB_KEEP_FREED_MEMORY`, datalab/memory.py). With `--data DIR` holding a finished load, the
load is skipped: the queries run in a fresh process, whose memory is then that of a server that
only answers (resident memory before the first request, and its peak while answering).

    .venv/bin/python -m bench.insights --events 1000000 [--repeat 20] [--store sqlite|cassandra]
        [--order time|visitor] [--load append|import [--jobs J]] [--data DIR] [--filtered]
        [--baseline]

`--load import` stores the traffic of `generate_traffic` (the same demo shop, 30 days ending
yesterday) through the store's bulk import instead of appends: days go straight into column
parts and their rollups, several times faster (the way to 30M events).

`--filtered` also times a few filtered requests (answered from the raw columns, not a target).
`--baseline` then times every endpoint again the way they were answered before the stored
rollups (from the range's events, summarized on each request), in the same process.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import resource
import statistics
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BATCH = 500
LOADED = "bench-insights.json"  # in the data directory: what was loaded there

ENDPOINTS = [
    "overview",
    "pages",
    "technology",
    "sources",
    "funnel",
    "funnel?distinct=true",
    "funnel/dropoffs?stage=3",
    "journeys?start=/&steps=5",
    "elements",
    "live",
]
FILTERED = [
    "overview?browser=Firefox",
    "pages?device=mobile",
    "sources?path=/pricing",
    "funnel?campaign=Spring",
]


def setup(data_dir: str, store: str) -> None:
    os.environ["DATALAB_DATA_DIR"] = data_dir
    os.environ["DATALAB_EVENT_STORE"] = store
    os.environ.setdefault("DATALAB_CASSANDRA_KEYSPACE", f"datalab_bench_{os.getpid()}")
    os.environ["DJANGO_SETTINGS_MODULE"] = "datalab.settings"
    os.environ["DATALAB_LOG_LEVEL"] = "WARNING"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    if store == "cassandra":
        call_command("cassandra_migrate", verbosity=0)


def memory_mb(field: str) -> float:
    """VmRSS (resident now) or VmHWM (peak since the last reset) of this process, in MB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    return 0.0


def reset_peak_memory() -> None:
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")  # VmHWM := VmRSS


def time_ordered(app_id: int, first_day: dt.date, days: int, events: int):
    """The generated events in time order, a day at a time (what `synthetic.sample` gives,
    sorted by ts, without holding the month): a day's events all come after its local
    midnight, so what came before the next day's midnight is final."""
    from urllib.parse import urlsplit

    from demo import traffic as synthetic
    from demo.shop import demo_config
    from demo.site import Site

    url = "https://shop.acme.test"
    site = Site(
        app_id=app_id, epoch=1, url=url, config=demo_config(base=urlsplit(url).path), timezone="UTC"
    )  # what synthetic.sample builds
    held: list = []
    for number, day in enumerate(
        synthetic.generate(site, first_day=first_day, days=days, events=events), start=1
    ):
        held = sorted([*held, *day.events], key=lambda event: event.ts)
        midnight = dt.datetime.combine(first_day + dt.timedelta(days=number), dt.time(), dt.UTC)
        cut = int(midnight.timestamp() * 1000)
        final = [event for event in held if event.ts < cut]
        held = held[len(final) :]
        yield from final
    yield from held


def load(args, app, data_dir: str) -> None:
    from demo import traffic as synthetic
    from eventstore import get_store

    if args.load == "import":
        return load_imported(args, app, data_dir)
    store = get_store()
    first_day = dt.date.today() - dt.timedelta(days=30)  # the 30 days before today
    if args.order == "time":
        events = time_ordered(app.pk, first_day, 30, args.events)
    else:
        events = synthetic.sample(app_id=app.pk, first_day=first_day, days=30, events=args.events)
    loaded, batch, began = 0, [], time.perf_counter()
    for event in events:
        batch.append(event)
        if len(batch) == BATCH:
            loaded += len(store.append(batch).new_keys)
            batch = []
    if batch:
        loaded += len(store.append(batch).new_keys)
    load_s = time.perf_counter() - began
    began, flushed = time.perf_counter(), 0
    while done := store.flush_pending():  # what the idle writer does after a burst
        flushed += done
    flush_s = time.perf_counter() - began
    print(f"store={args.store} order={args.order} events={loaded:,} loaded in {load_s:.0f} s "
          f"({loaded / load_s:,.0f} events/s); column parts of {flushed:,} events built "
          f"in {flush_s:.1f} s")  # fmt: skip
    del events, batch  # a server holds no generated events: the GC would walk them
    gc.collect()
    mark_loaded(args, app, data_dir, loaded)


def load_imported(args, app, data_dir: str) -> None:
    """`--load import`: the traffic of `generate_traffic` (the demo shop, 30 days ending
    yesterday, seed 7) stored through the store's bulk import, days straight into column parts
    and their rollups (no pending events): the fastest way to a large store."""
    from demo import services

    app.refresh_from_db()  # its token, just issued
    began = time.perf_counter()
    end = dt.date.today() - dt.timedelta(days=1)
    done = services.traffic_generate(app=app, events=args.events, end=end, jobs=args.jobs)
    load_s = time.perf_counter() - began
    print(f"store={args.store} load=import jobs={args.jobs} events={done.new:,} "
          f"imported in {load_s:.0f} s ({done.new / load_s:,.0f} events/s)")  # fmt: skip
    flush_after_import()
    mark_loaded(args, app, data_dir, done.new)


def flush_after_import() -> None:
    """What the idle writer does after an import: a store that defers work (Cassandra: its
    imported slot parts wait `skew_ms` for the builder's rule, then day parts are built from
    them) does it now, timed apart. Nothing to do on the embedded store."""
    from eventstore import get_store

    store = get_store()
    time.sleep(getattr(store, "skew_ms", 0) / 1000)
    began, flushed = time.perf_counter(), 0
    while done := store.flush_pending():
        flushed += done
    if flushed:
        print(f"deferred work of {flushed:,} events done in {time.perf_counter() - began:.1f} s")


def mark_loaded(args, app, data_dir: str, loaded: int) -> None:
    marker = {"events": loaded, "order": args.order, "load": args.load, "store": args.store,
              "app": app.pk}  # fmt: skip
    Path(data_dir, LOADED).write_text(json.dumps(marker))


def prepare(args, data_dir: str):
    """The bench's owner and app, and the events loaded (now, or by an earlier run)."""
    from apps_registry import services as apps
    from apps_registry.models import App
    from demo.shop import DEMO_CONFIG as CONFIG
    from funnels import services as funnels
    from orgs.services import user_create_verified
    from tokens import services as tokens

    marker = Path(data_dir, LOADED)
    if marker.exists():
        loaded = json.loads(marker.read_text())
        app = App.objects.get(pk=loaded["app"])
        print(f"reusing {data_dir}: {loaded}")
        return app.owner, app
    owner = user_create_verified(email="owner@bench.test", password="pw-123456")
    app = apps.app_create(owner=owner, name="Bench", url="https://shop.acme.test", tags=["b"])
    funnels.config_update(app=app, actor=owner, data=CONFIG, version=1)
    tokens.token_issue(app=app, actor=owner)
    load(args, app, data_dir)
    return owner, app


def measure(client, app, endpoints: list[str], repeat: int) -> None:
    """Wall time (what a user waits) and this process's CPU time (what a request costs, less
    sensitive to other processes on a shared machine) per request, the CPU time split into user
    and system time (the kernel's: mostly zeroing the pages of fresh large arrays)."""
    print(f"{'endpoint':28} {'median ms':>10} {'p95 ms':>8} {'max ms':>8} {'CPU median/p95':>15} "
          f"{'user/sys median':>16}")  # fmt: skip
    for endpoint in endpoints:
        path, _, query = endpoint.partition("?")
        url = f"/api/v1/apps/{app.pk}/insights/{path}?{query}"
        timings, cpu, user, system = [], [], [], []
        for _ in range(repeat):
            began, before = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF)
            response = client.get(url)
            after = resource.getrusage(resource.RUSAGE_SELF)
            timings.append(1000 * (time.perf_counter() - began))
            user.append(1000 * (after.ru_utime - before.ru_utime))
            system.append(1000 * (after.ru_stime - before.ru_stime))
            cpu.append(user[-1] + system[-1])
            assert response.status_code == 200, response.content[:300]
        wall = f"{statistics.median(timings):10.0f} {p95_of(timings):8.0f} {max(timings):8.0f}"
        split = f"{statistics.median(user):.0f}/{statistics.median(system):.0f}"
        print(f"{endpoint:28} {wall} {statistics.median(cpu):8.0f}/{p95_of(cpu):<6.0f} {split:>9}")


def p95_of(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def run(args, data_dir: str) -> None:
    setup(data_dir, args.store)
    from rest_framework.test import APIClient

    owner, app = prepare(args, data_dir)
    from django.conf import settings

    from datalab.memory import keep_freed_memory

    # as `manage.py serve` does (DATALAB_KEEP_FREED_MEMORY=1 to keep freed memory)
    kept = settings.KEEP_FREED_MEMORY and keep_freed_memory()
    print(f"freed memory kept for the next request (DATALAB_KEEP_FREED_MEMORY): {kept}")
    client = APIClient(SERVER_NAME="localhost")
    client.force_authenticate(owner)
    print(f"resident memory before the first request: {memory_mb('VmRSS'):.0f} MB")
    reset_peak_memory()
    began = time.perf_counter()
    assert client.get(f"/api/v1/apps/{app.pk}/insights/overview").status_code == 200
    cold_ms = 1000 * (time.perf_counter() - began)
    print(f"first request of the process (overview): {cold_ms:.0f} ms")
    measure(client, app, ENDPOINTS + (FILTERED if args.filtered else []), args.repeat)
    print(f"peak resident memory while answering: {memory_mb('VmHWM'):.0f} MB "
          f"(now {memory_mb('VmRSS'):.0f} MB)")  # fmt: skip
    if args.baseline:
        from insights import selectors

        selectors._source = selectors._scan  # every answer from the range's events
        print("baseline: from the range's events (no stored rollups)")
        measure(client, app, ENDPOINTS, args.repeat)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--store", default="sqlite", choices=["sqlite", "cassandra"])
    parser.add_argument("--order", default="time", choices=["time", "visitor"])
    parser.add_argument("--load", default="append", choices=["append", "import"],
                        help="append batches of 500 (as ingest), or the bulk import")  # fmt: skip
    parser.add_argument("--jobs", type=int, default=1, help="processes of --load import")
    parser.add_argument("--data", help="a data directory to keep (and reuse when loaded)")
    parser.add_argument("--filtered", action="store_true", help="also time filtered requests")
    parser.add_argument("--baseline", action="store_true", help="then time the events' path")
    args = parser.parse_args()
    if args.data:
        Path(args.data).mkdir(parents=True, exist_ok=True)
        run(args, str(Path(args.data).resolve()))
        return
    with tempfile.TemporaryDirectory() as tmp:
        run(args, tmp)


if __name__ == "__main__":
    main()
