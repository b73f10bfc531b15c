"""Imports by columns (`EventStore.import_columns`: what `generate_traffic` writes through) store
what importing the same events one by one stores: the same raw events, counts, stage entries and
last seen, and on the embedded store (its bulk path) column parts and rollups that give the same
insights; batches it does not take (events stored already, repeated, several partitions) go
the per-event way; a failing batch stores nothing."""

from __future__ import annotations

import datetime as dt
import random
import sqlite3

import pytest

from demo import traffic
from eventstore.columns import Columns, EventBatch
from eventstore.rollups import NAMES
from eventstore.sqlite import SQLiteEventStore
from insights import engine
from tests import test_eventstore_contract as contract
from tests.test_eventstore_contract import (
    APP,
    EPOCH,
    MS_PER_DAY,
    TRAFFIC_START,
    column_rows,
    first_entries_of,
    synthetic_traffic,
)
from tests.test_insights_rollups import RANGES, answers

# the contract's store fixtures: each backend in turn, or the embedded one
store, sqlite_store, cassandra_store = (
    contract.store,
    contract.sqlite_store,
    contract.cassandra_store,
)
cassandra_node, _shared_cassandra_store = contract.cassandra_node, contract._shared_cassandra_store
WHOLE = (TRAFFIC_START - MS_PER_DAY, TRAFFIC_START + 5 * MS_PER_DAY)


def test_an_import_by_columns_stores_what_appends_would_once(store):
    events = synthetic_traffic(APP)
    half = len(events) // 2
    store.append(events[:300])  # pending (SQLite) when the imports come
    fresh = random.Random(3).sample(events[300:half], half - 300)  # in no particular order
    first = store.import_columns(EventBatch.of_events(fresh))
    overlapping = events[half - 50 :] + events[half - 50 :][:20]  # stored already, repeated
    again = store.import_columns(EventBatch.of_events(overlapping))

    assert (first.new, first.duplicates) == (half - 300, 0)
    assert (again.new, again.duplicates) == (len(events) - half, 50)
    assert held(store, [event.visitor_id for event in events]) == expected(events)


def held(store, visitors: list[str]) -> dict:
    """What a store holds of partition (APP, EPOCH), as `expected` computes it from events."""
    return {
        "count": store.count_events(APP, EPOCH),
        "events": list(store.events(APP, EPOCH)),
        "stages": [store.stage_visitors(APP, EPOCH, stage) for stage in range(4)],
        "last seen": store.last_seen(APP, EPOCH, visitors),
        "columns": column_rows(store.columns(APP, EPOCH, *WHOLE)),
    }


def by_time(event) -> tuple[int, str]:
    return (event.ts, event.event_id)


def expected(events: list) -> dict:
    """What storing each of these events once gives."""
    in_order = sorted({event.key: event for event in events}.values(), key=by_time)
    return {
        "count": len(in_order),
        "events": in_order,
        "stages": [first_entries_of(in_order, stage) for stage in range(4)],
        "last seen": {event.visitor_id: (event.session_id, event.ts) for event in in_order},
        "columns": column_rows(Columns.from_rows(in_order)),
    }


def tables(path) -> dict[str, list]:
    """Every row of the raw and per-visitor tables (partitions without their incarnation)."""
    queries = {
        "events": "SELECT * FROM events ORDER BY day, ts, event_id",
        "stage_entries": "SELECT * FROM stage_entries ORDER BY stage, visitor_id",
        "visitor_last": "SELECT * FROM visitor_last ORDER BY visitor_id",
        "partitions": "SELECT app_id, epoch, events FROM partitions",
    }
    with sqlite3.connect(path) as conn:
        return {table: conn.execute(sql).fetchall() for table, sql in queries.items()}


@pytest.mark.parametrize("first_party_ids", [False, True])
def test_the_bulk_path_gives_what_importing_event_by_event_gives(tmp_path, first_party_ids):
    """Returning visitors (first-party ids) come back in the second batch, which a second
    store instance imports (their codes not in memory: read from the dictionary)."""
    events = traffic.sample(
        app_id=APP,
        epoch=EPOCH,
        first_day=dt.datetime.fromtimestamp(TRAFFIC_START / 1000, dt.UTC).date(),
        days=3,
        visitors=900,
        first_party_ids=first_party_ids,
        timezone="America/New_York",  # local days across UTC days
    )
    halves = [events[: len(events) // 2], events[len(events) // 2 :]]
    by_event = SQLiteEventStore(tmp_path / "by_event.sqlite3")
    for half in halves:
        by_event.import_events(half)
    bulk_paths = [tmp_path / "bulk.sqlite3"] * 2
    for path, half in zip(bulk_paths, halves, strict=True):
        bulk = SQLiteEventStore(path)
        assert bulk.import_columns(EventBatch.of_events(half)).new == len(half)
        bulk.close()
    bulk = SQLiteEventStore(bulk_paths[0])

    assert tables(bulk_paths[0]) == tables(tmp_path / "by_event.sqlite3")
    assert column_rows(bulk.columns(APP, EPOCH, *WHOLE)) == column_rows(
        by_event.columns(APP, EPOCH, *WHOLE)
    )
    for start, end in [*RANGES.values(), WHOLE]:
        stored = answers(bulk.rollups(APP, EPOCH, start, end, NAMES), start, end)
        assert stored == answers(by_event.rollups(APP, EPOCH, start, end, NAMES), start, end)
        from_events = engine.Scan(by_event.columns(APP, EPOCH, start, end), {})
        assert stored == answers(from_events, start, end)
    whole = answers(bulk.rollups(APP, EPOCH, *WHOLE, NAMES), *WHOLE)
    assert whole["funnel ordered"]["levels"] and whole["journeys"]["paths"]  # not vacuous
    bulk.close()
    by_event.close()


def test_a_batch_of_several_partitions_is_stored_in_each(sqlite_store):
    ours, theirs = synthetic_traffic(APP)[:400], synthetic_traffic(APP + 1)[:300]

    counts = sqlite_store.import_columns(EventBatch.of_events(ours + theirs))

    assert (counts.new, counts.duplicates) == (700, 0)
    assert sqlite_store.count_events(APP, EPOCH) == 400
    assert sqlite_store.count_events(APP + 1, EPOCH) == 300
    assert {e.event_id for e in sqlite_store.events(APP + 1, EPOCH)} == {e.event_id for e in theirs}


def test_a_bulk_import_that_fails_stores_nothing(sqlite_store):
    events = synthetic_traffic(APP)
    batch = EventBatch.of_events(events)
    batch.columns["referrer"] = [*batch.columns["referrer"][:-1], object()]  # cannot be bound

    with pytest.raises(sqlite3.Error):
        sqlite_store.import_columns(batch)

    assert sqlite_store.count_events(APP, EPOCH) == 0
    assert list(sqlite_store.events(APP, EPOCH)) == []
    assert sqlite_store.columns(APP, EPOCH, *WHOLE).ts.size == 0
    assert sqlite_store.import_columns(EventBatch.of_events(events)).new == len(events)


def test_events_of_the_same_millisecond_are_read_in_id_order(store):
    events = [contract.make_event(ts=contract.T0 + i % 2) for i in range(40)]  # random ids

    store.import_columns(EventBatch.of_events(events))

    in_order = sorted(events, key=by_time)
    assert list(store.events(APP, EPOCH)) == in_order
    columns = store.columns(APP, EPOCH, contract.T0, contract.T0 + 2)
    assert column_rows(columns) == column_rows(Columns.from_rows(in_order))
