"""The event store: raw events, funnel stage entries and last-seen rows, outside the ORM.

The one door of the package. `get_store()` returns the process-wide backend chosen by the
`EVENT_STORE` setting ("sqlite" or "cassandra", or a dotted path to an `EventStore` subclass);
`get_writer()` the write-behind writer in front of it. Nothing outside this package knows which
backend runs, and this package imports no app.
"""

from __future__ import annotations

from django.core.signals import setting_changed

from .backends import BACKENDS, close_store, get_store, store_class
from .base import EventStore, ImportCounts, SchemaReport
from .columns import Columns, EventBatch, strings_of
from .rollups import Rollups, groups_of, rollups_of_rows
from .values import MS_PER_DAY, AppendResult, ScanRow, StoredEvent, StoreUnavailable
from .writer import WriteBehind, get_writer, reset_writer

__all__ = [
    "BACKENDS",
    "MS_PER_DAY",
    "AppendResult",
    "Columns",
    "EventBatch",
    "EventStore",
    "ImportCounts",
    "Rollups",
    "ScanRow",
    "SchemaReport",
    "StoreUnavailable",
    "StoredEvent",
    "WriteBehind",
    "get_store",
    "get_writer",
    "groups_of",
    "reset_store",
    "reset_writer",
    "rollups_of_rows",
    "store_class",
    "strings_of",
]


def reset_store() -> None:
    """Stop the process-wide writer and close the store; the next use builds them afresh."""
    reset_writer()
    close_store()


def _reset_on_setting_change(*, setting: str, **kwargs) -> None:
    if setting.startswith("EVENT_STORE") or setting == "CASSANDRA":
        reset_store()


setting_changed.connect(_reset_on_setting_change, dispatch_uid="eventstore.reset")
