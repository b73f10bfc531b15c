"""Insights latency at 1M (or 10M) events: median and p95 of every endpoint.

Method: a temporary data directory; an owner, a locked app and its frozen configuration made
through the real services; N synthetic events (30 days, ~100 routes, a 4-stage funnel with
drop-offs; demo.traffic) appended to the configured event store in batches of 500, in
time order as ingest delivers them (`--order visitor`: visitor by visitor, each batch spread over
the whole month, the worst case for the store's per-day column parts); then
the pending events are turned into column parts as the idle writer does (`flush_pending`,
timed apart), the generated events are dropped (a server holds none), one request warms the
process (its time is printed), and each endpoint is requested R times through Django's test
client (the full view: auth, parsing, the store read, the engine, JSON rendering) over the whole
30-day range.

    .venv/bin/python -m bench.insights --events 1000000 [--repeat 20] [--store sqlite|cassandra]
        [--order time|visitor]
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import os
import statistics
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--store", default="sqlite", choices=["sqlite", "cassandra"])
    parser.add_argument("--order", default="time", choices=["time", "visitor"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        setup(tmp, args.store)
        from rest_framework.test import APIClient

        from apps_registry import services as apps
        from demo import traffic as synthetic
        from demo.shop import DEMO_CONFIG as CONFIG
        from eventstore import get_store
        from funnels import services as funnels
        from orgs.services import user_create_verified
        from tokens import services as tokens

        owner = user_create_verified(email="owner@bench.test", password="pw-123456")
        app = apps.app_create(owner=owner, name="Bench", url="https://shop.acme.test", tags=["b"])
        funnels.config_update(app=app, actor=owner, data=CONFIG, version=1)
        tokens.token_issue(app=app, actor=owner)
        store = get_store()
        first_day = dt.date.today() - dt.timedelta(days=30)  # the 30 days before today
        loaded, batch, began = 0, [], time.perf_counter()
        events = synthetic.sample(app_id=app.pk, first_day=first_day, days=30, events=args.events)
        if args.order == "time":
            events = sorted(events, key=lambda event: event.ts)
        for event in events:
            batch.append(event)
            if len(batch) == 500:
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
        client = APIClient(SERVER_NAME="localhost")
        client.force_authenticate(owner)
        began = time.perf_counter()
        assert client.get(f"/api/v1/apps/{app.pk}/insights/overview").status_code == 200
        cold_ms = 1000 * (time.perf_counter() - began)
        print(f"first request of the process (overview): {cold_ms:.0f} ms")
        print(f"{'endpoint':28} {'median ms':>10} {'p95 ms':>8} {'max ms':>8}")
        for endpoint in ENDPOINTS:
            path, _, query = endpoint.partition("?")
            url = f"/api/v1/apps/{app.pk}/insights/{path}?{query}"
            timings = []
            for _ in range(args.repeat):
                began = time.perf_counter()
                response = client.get(url)
                timings.append(1000 * (time.perf_counter() - began))
                assert response.status_code == 200, response.content[:300]
            timings.sort()
            p95 = timings[min(len(timings) - 1, round(0.95 * (len(timings) - 1)))]
            print(f"{endpoint:28} {statistics.median(timings):10.0f} {p95:8.0f} {timings[-1]:8.0f}")


if __name__ == "__main__":
    main()
