"""The embedded store's bulk path (`eventstore/sqlite/bulk.py`) stages a batch's raw rows in the
connection's temporary database before it takes the write lock: a batch that could not be
stored leaves nothing behind for the next one, and staging does not lock the store's file."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from eventstore.columns import EventBatch
from eventstore.sqlite import SQLiteEventStore
from eventstore.values import StoreUnavailable
from tests.test_eventstore_contract import APP, EPOCH, synthetic_traffic


def test_a_batch_that_found_the_store_busy_leaves_nothing_for_the_next(tmp_path):
    path = tmp_path / "events.sqlite3"
    store = SQLiteEventStore(path, busy_timeout=0.2)
    events = synthetic_traffic(APP)
    first, second = events[: len(events) // 2], events[len(events) // 2 :]
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another writer holds the store's write lock

    with pytest.raises(StoreUnavailable):
        store.import_columns(EventBatch.of_events(first))
    other.execute("COMMIT")
    counts = store.import_columns(EventBatch.of_events(second))

    assert (counts.new, counts.duplicates) == (len(second), 0)
    assert store.count_events(APP, EPOCH) == len(second)
    assert {event.event_id for event in store.events(APP, EPOCH)} == {
        event.event_id for event in second
    }
    other.close()
    store.close()


def test_a_batch_is_staged_while_another_writer_holds_the_store(tmp_path):
    """Before the write lock: the import's statements run (a progress handler on its
    connection) while another writer holds the lock; once that one commits, the whole batch
    is stored."""
    path = tmp_path / "events.sqlite3"
    store = SQLiteEventStore(path, busy_timeout=30)
    events = synthetic_traffic(APP)
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    working = threading.Event()

    def run_import() -> None:
        store._conn().set_progress_handler(lambda: working.set() or 0, 1000)
        store.import_columns(EventBatch.of_events(events))

    importing = threading.Thread(target=run_import, daemon=True)
    importing.start()

    assert working.wait(20)  # staging, while the other writer holds the lock
    other.execute("COMMIT")
    importing.join(30)

    assert not importing.is_alive()
    assert store.count_events(APP, EPOCH) == len(events)
    other.close()
    store.close()
