"""The event store: raw events, funnel stage entries and last-seen rows, outside the ORM.

`get_store()` returns the process-wide backend chosen by the `EVENT_STORE` setting ("sqlite" or
"cassandra", or a dotted path to an `EventStore` subclass). Nothing outside this package knows
which backend runs.
"""

from __future__ import annotations

import threading

from django.conf import settings
from django.core.signals import setting_changed
from django.utils.module_loading import import_string

from .base import AppendResult, EventStore, StoredEvent, StoreUnavailable

__all__ = [
    "BACKENDS",
    "AppendResult",
    "EventStore",
    "StoreUnavailable",
    "StoredEvent",
    "get_store",
    "reset_store",
]

BACKENDS = {
    "sqlite": "ingest.eventstore.sqlite.SQLiteEventStore",
    "cassandra": "ingest.eventstore.cassandra.CassandraEventStore",
}

_store: EventStore | None = None
_lock = threading.Lock()


def get_store() -> EventStore:
    """The process-wide event store, built from settings on first use."""
    global _store
    store = _store
    if store is None:
        with _lock:
            if _store is None:
                backend = import_string(BACKENDS.get(settings.EVENT_STORE, settings.EVENT_STORE))
                _store = backend.from_settings()
            store = _store
    return store


def reset_store() -> None:
    """Stop the process-wide writer and close the store; the next use builds them afresh."""
    global _store
    from .writer import reset_writer  # the writer module imports this one

    reset_writer()
    with _lock:
        store, _store = _store, None
    if store is not None:
        store.close()


def _reset_on_setting_change(*, setting: str, **kwargs) -> None:
    if setting.startswith("EVENT_STORE") or setting == "CASSANDRA":
        reset_store()


setting_changed.connect(_reset_on_setting_change, dispatch_uid="ingest.eventstore.reset")
