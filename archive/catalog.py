"""What is archived where: retired partitions with the state of their archives on disk."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from . import records
from .archiver import DELETING, RESTORING
from .format import MANIFEST, ArchiveCorrupt, load_manifest, verify_archive
from .layout import marker_path, partition_dir

MISSING, CORRUPT = "ARCHIVE MISSING", "CORRUPT"
BROKEN_STATUSES = (MISSING, CORRUPT)


@dataclass(frozen=True)
class Listing:
    app_ref: int
    app_name: str
    epoch: int
    reason: str
    retired_at: dt.datetime
    archived_at: dt.datetime | None
    events: int | None
    deleted_at: dt.datetime | None
    path: str
    status: str


def _status(row, final: Path, store_label: str, verify: bool) -> str:
    for kind in (DELETING, RESTORING):
        if marker_path(final, kind, store_label).exists():
            return f"{kind} unfinished: run the command again"
    if not (final / MANIFEST).exists():
        if row.deleted_at is not None or row.archived_at is not None:
            return MISSING
        return "not archived"
    try:
        manifest = load_manifest(final)
        if verify:
            verify_archive(final, manifest)
    except ArchiveCorrupt as exc:
        return f"{CORRUPT}: {exc}"
    if row.archived_at is None:
        return "exported, not verified yet"
    where = "deleted from the store" if row.deleted_at else "kept in the store"
    return f"archived{' and verified' if verify else ''}, {where}"


def archive_listing(
    *, root: Path, store_label: str, app_ref: int | None = None, verify: bool = False
) -> list[Listing]:
    """Every retired partition (of one app), with its archive's state; `verify` re-reads the
    files and checks them against their manifests."""
    result = []
    for row in records.retired_partitions(app_ref=app_ref):
        final = partition_dir(root, row.app_ref, row.epoch)
        result.append(
            Listing(
                app_ref=row.app_ref,
                app_name=row.app_name,
                epoch=row.epoch,
                reason=row.reason,
                retired_at=row.retired_at,
                archived_at=row.archived_at,
                events=row.archived_events,
                deleted_at=row.deleted_at,
                path=row.archive_path or (str(final) if final.exists() else ""),
                status=_status(row, final, store_label, verify),
            )
        )
    return result


def unlisted_archives(root: Path, known: set[tuple[int, int]]) -> list[Path]:
    """Archive directories without a retired partition row (copied from elsewhere), and
    archives set aside after failing verification."""
    found = []
    for directory in sorted(root.glob("app-*/epoch-*")):
        if not directory.is_dir():
            continue
        name = directory.name
        if ".rejected-" in name:
            found.append(directory)
            continue
        try:
            key = (int(directory.parent.name[4:]), int(name[6:]))
        except ValueError:
            continue
        if key not in known:
            found.append(directory)
    return found
