"""The process-wide store: built from the `EVENT_STORE` setting on first use."""

from __future__ import annotations

import os
import threading

from django.conf import settings
from django.utils.module_loading import import_string

from .base import EventStore

BACKENDS = {
    "sqlite": "eventstore.sqlite.SQLiteEventStore",
    "cassandra": "eventstore.cassandra.CassandraEventStore",
}

_store: EventStore | None = None
_lock = threading.Lock()


def store_class(name: str | None = None) -> type[EventStore]:
    """The backend class named (a key of `BACKENDS` or a dotted path); default: the setting's."""
    name = name or settings.EVENT_STORE
    return import_string(BACKENDS.get(name, name))


def get_store() -> EventStore:
    """The process-wide event store, built from settings on first use."""
    global _store
    store = _store
    if store is None:
        with _lock:
            if _store is None:
                _store = store_class().from_settings()
            store = _store
    return store


def close_store() -> None:
    """Close the process-wide store (not its writer: see `eventstore.reset_store`)."""
    global _store
    with _lock:
        store, _store = _store, None
    if store is not None:
        store.close()


_inherited: list[EventStore] = []  # a forked child's copy of its parent's store, never used


def _forget_parent_store() -> None:
    """In a forked child: the parent's store stays the parent's (its connections, sessions and
    threads do not carry across a fork: using or closing them here would touch the parent's),
    and the child's first `get_store()` builds its own. The copy is kept, never closed."""
    global _store, _lock
    if _store is not None:
        _inherited.append(_store)
    _store, _lock = None, threading.Lock()


os.register_at_fork(after_in_child=_forget_parent_store)
