"""The embedded store's import path (what `generate_traffic` writes through): events go
straight into column parts whose visitor and session columns carry the partition's dictionary
codes. What is read back must be what was imported, whichever codes were known before (cached
in memory, only in the dictionary, or new)."""

from __future__ import annotations

import datetime as dt
import sqlite3

import numpy as np
import pytest

from demo import traffic
from eventstore import Columns
from eventstore.columns import GLOBAL, STRINGS
from eventstore.sqlite import SQLiteEventStore
from eventstore.values import MS_PER_DAY, StoredEvent

APP, EPOCH = 7, 1
FIRST_DAY = dt.date(2026, 3, 2)


def sample(**options):
    return traffic.sample(
        app_id=APP, epoch=EPOCH, first_day=FIRST_DAY, days=3, visitors=240, **options
    )


def rows_of(columns: Columns) -> list[tuple]:
    strings = [[columns.tables[name][code] for code in columns.codes[name]] for name in STRINGS]
    numbers = [columns.ts, columns.duration_ms, columns.stages, columns.id_hi, columns.id_lo]
    return list(zip(*(n.tolist() for n in numbers), *strings, strict=True))


def everything(store: SQLiteEventStore) -> Columns:
    start = dt.datetime.combine(FIRST_DAY, dt.time(), dt.UTC).timestamp() * 1000
    return store.columns(APP, EPOCH, int(start) - MS_PER_DAY, int(start) + 5 * MS_PER_DAY)


def dictionary(path, kind: str) -> dict[str, int]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            "SELECT value, code FROM dictionary WHERE app_id = ? AND epoch = ? AND kind = ?",
            (APP, EPOCH, kind),
        ).fetchall()
    return dict(rows)


@pytest.fixture
def path(tmp_path):
    return tmp_path / "events.sqlite3"


def test_imports_read_back_whether_the_codes_were_cached_looked_up_or_new(path):
    """Returning visitors (first-party ids) share codes across days and batches: the second
    store instance knows none of them in memory and must look them up."""
    events = sample(first_party_ids=True)
    thirds = [events[i::3] for i in range(3)]  # every day in every batch
    first = SQLiteEventStore(path)
    first.append(thirds[0][:50])  # pending when the imports come, coded by a flush later
    first.import_events(thirds[0])
    first.import_events(thirds[1])  # codes of the first batch cached in memory
    first.close()
    second = SQLiteEventStore(path)  # nothing cached: the dictionary is read
    result = second.import_events(thirds[2] + thirds[0][:30])
    second.flush_pending()

    assert result.new_ids == {event.event_id for event in thirds[2]}
    assert result.duplicate_ids == {event.event_id for event in thirds[0][:30]}
    assert rows_of(everything(second)) == rows_of(Columns.from_rows(events))
    assert second.count_events(APP, EPOCH) == len(events)
    for kind in GLOBAL:
        codes = dictionary(path, kind)
        assert set(codes) == {getattr(event, kind) for event in events}
        assert sorted(codes.values()) == list(range(len(codes)))  # dense, each value once
    second.close()


def test_the_parts_hold_the_dictionarys_codes(path):
    events = sample()
    store = SQLiteEventStore(path)
    store.import_events(events[: len(events) // 2])
    store.import_events(events[len(events) // 2 :])
    columns = everything(store)

    for kind in GLOBAL:
        codes = dictionary(path, kind)
        stored = columns.codes[kind]
        in_order = sorted(events, key=lambda event: (event.ts, event.event_id))
        expected = [codes[getattr(event, kind)] for event in in_order]
        assert np.array_equal(stored, np.array(expected, dtype=stored.dtype))
    store.close()


def test_an_import_that_fails_stores_nothing(path):
    events = sample()
    broken = [*events[:100], StoredEvent(APP, EPOCH, "x", 1, "pageview", "v", object())]
    store = SQLiteEventStore(path)

    with pytest.raises(sqlite3.Error):
        store.import_events(broken)

    assert store.count_events(APP, EPOCH) == 0
    assert list(store.events(APP, EPOCH)) == []
    store.close()
