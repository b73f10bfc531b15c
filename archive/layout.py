"""Where archives live on disk, how files get there durably, the archivers' lock, and the named
steps that tests interrupt.

    ARCHIVE_DIR/
      .lock                               flock'ed by every archiving or restoring run
      app-12/
        epoch-1/                          a committed archive: the manifest is inside
          manifest.json  events.jsonl.gz  stage_entries.jsonl.gz  visitor_last.jsonl.gz
          deleting.sqlite.json            intent marker: deleting this partition from a store
        .epoch-2.partial/                 an export in progress (never trusted, removed on sight)
        epoch-3.rejected-20261011T020000Z/   an archive that failed verification, kept to inspect

Durability rule: a file is written under a temporary name, fsynced, renamed, and its directory
fsynced; an export becomes visible only by renaming its finished directory. A crash at any moment
leaves either the old state or the new one, never half a file under a final name.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import os
import shutil
from collections.abc import Callable, Iterator
from enum import StrEnum
from pathlib import Path

import orjson

LOCK_FILE = ".lock"


class Step(StrEnum):
    """The points between the steps of archiving and restoring, in order. A hook set with
    `set_step_hook` is called at each one (tests crash the process there; the benchmark times
    them)."""

    EXPORTED = "exported"  # data files written and fsynced in the staging directory
    MANIFEST_WRITTEN = "manifest_written"  # the manifest too; nothing visible yet
    SUPERSEDED = "superseded"  # a stale archive moved aside before its replacement commits
    COMMITTED = "committed"  # the staging directory renamed to its final name
    VERIFIED = "verified"  # the archive re-read and checked against its manifest and the store
    RECORDED = "recorded"  # RetiredPartition.archived_at set
    STORE_VERIFIED = "store_verified"  # the store re-read: its content equals the archive's
    DELETE_MARKED = "delete_marked"  # the deleting marker written
    DELETED = "deleted"  # the store's delete_partition returned
    DELETE_RECORDED = "delete_recorded"  # RetiredPartition.deleted_at set, marker not removed yet
    RESTORE_MARKED = "restore_marked"  # the restoring marker written
    RESTORE_BATCH = "restore_batch"  # after each batch appended to the store
    RESTORE_APPENDED = "restore_appended"  # every batch appended
    RESTORE_VERIFIED = "restore_verified"  # the store re-read: it equals the archive
    RESTORE_RECORDED = "restore_recorded"  # RetiredPartition updated, marker not removed yet


ARCHIVE_STEPS = tuple(s for s in Step if not s.startswith("restore_"))
RESTORE_STEPS = tuple(s for s in Step if s.startswith("restore_"))

_step_hook: Callable[[Step], None] | None = None


def set_step_hook(hook: Callable[[Step], None] | None) -> None:
    """Call `hook(step)` at every step boundary (None: no hook). For tests and benchmarks."""
    global _step_hook
    _step_hook = hook


def step(name: Step) -> None:
    if _step_hook is not None:
        _step_hook(name)


class ArchiveBusy(Exception):
    """Another archiving or restoring run holds the archive directory's lock."""


# -- the layout -----------------------------------------------------------------------------------


def partition_dir(root: Path, app_ref: int, epoch: int) -> Path:
    return root / f"app-{app_ref}" / f"epoch-{epoch}"


def staging_dir(final: Path) -> Path:
    return final.with_name(f".{final.name}.partial")


def superseded_dir(final: Path) -> Path:
    return final.with_name(f".{final.name}.superseded")


def rejected_dir(final: Path, now: dt.datetime) -> Path:
    """A free name beside `final` for an archive set aside (`epoch-3.rejected-20261011T020000Z`)."""
    base = f"{final.name}.rejected-{now.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}"
    target, n = final.with_name(base), 1
    while target.exists():
        n += 1
        target = final.with_name(f"{base}-{n}")
    return target


def marker_path(final: Path, kind: str, store_label: str) -> Path:
    """`deleting` or `restoring` intent of a run against one store (`deleting.sqlite.json`)."""
    return final / f"{kind}.{store_label}.json"


# -- durable writes -------------------------------------------------------------------------------


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomically(path: Path, data: bytes) -> None:
    """Replace `path` with `data`: temporary name, fsync, rename, fsync the directory."""
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def rename_durably(source: Path, target: Path) -> None:
    source.rename(target)
    fsync_dir(target.parent)


def remove_tree(path: Path) -> None:
    if path.exists():
        shutil.rmtree(path)
        fsync_dir(path.parent)


def write_marker(path: Path, **details) -> None:
    details = {"pid": os.getpid(), "at": dt.datetime.now(dt.UTC).isoformat(), **details}
    write_atomically(path, orjson.dumps(details, option=orjson.OPT_INDENT_2))


def remove_marker(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
        fsync_dir(path.parent)


# -- the lock -------------------------------------------------------------------------------------


@contextlib.contextmanager
def archive_lock(root: Path) -> Iterator[None]:
    """Hold the archive directory's exclusive lock, or raise ArchiveBusy at once.

    `flock` is per machine (and unreliable on some network file systems): with several
    machines, run the archiver from one of them (docs/archiving.md).
    """
    root.mkdir(parents=True, exist_ok=True)
    with open(root / LOCK_FILE, "a+b") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise ArchiveBusy(
                    f"another archiving or restoring run holds {root / LOCK_FILE}"
                ) from None
            raise
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
