"""What the archive commands call: the archive root, the stores, progress bars (and the
package's public names, re-exported)."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from django.utils.module_loading import import_string
from tqdm import tqdm

from eventstore import BACKENDS, EventStore, get_store

from .archiver import Action, Archiver, Outcome, Plan, ProgressBar
from .catalog import BROKEN_STATUSES, Listing, archive_listing, unlisted_archives
from .format import ArchiveCorrupt
from .layout import ArchiveBusy, Step, archive_lock, set_step_hook
from .restore import RestoreFailed, RestoreOutcome, Restorer, RestoreRefused

__all__ = [
    "BROKEN_STATUSES",
    "Action",
    "ArchiveBusy",
    "ArchiveCorrupt",
    "Archiver",
    "Listing",
    "Outcome",
    "Plan",
    "RestoreFailed",
    "RestoreOutcome",
    "RestoreRefused",
    "Restorer",
    "Step",
    "archive_listing",
    "archive_lock",
    "archive_root",
    "opened_store",
    "set_step_hook",
    "store_label",
    "terminal_progress",
    "unlisted_archives",
]


def archive_root() -> Path:
    return Path(settings.ARCHIVE_DIR)


def store_label(name: str | None = None) -> str:
    """A short name of a store setting value ("sqlite", or a dotted path's class name)."""
    return (name or settings.EVENT_STORE).rsplit(".", 1)[-1]


@contextlib.contextmanager
def opened_store(name: str | None = None) -> Iterator[tuple[EventStore, bool]]:
    """(store, is_active): the store named (a key of `BACKENDS`), or the active one."""
    if name is None or name == settings.EVENT_STORE:
        yield get_store(), True
        return
    store = import_string(BACKENDS[name]).from_settings()
    try:
        yield store, False
    finally:
        store.close()


def terminal_progress(description: str, total: int) -> ProgressBar:
    """A progress bar on stderr when it is a terminal; nothing otherwise (logs, cron)."""
    return tqdm(
        total=total,
        desc=description,
        unit=" events",
        unit_scale=True,
        disable=None,  # None: off when stderr is not a TTY
        leave=False,
        file=sys.stderr,
    )
