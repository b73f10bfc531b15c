"""Restoring an archived partition into a store: the active one, or another (a migration).

    verify the archive -> refuse clashes -> restoring marker -> append in batches
    -> re-read the store: same rows, stage entries and last-seen times -> record -> marker removed

Appends are idempotent, so a restore killed half-way is finished by running it again (the marker
tells its own partial partition apart from live data). Only the store interface is used.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from apps_registry.models import App
from eventstore import EventStore

from . import records
from .archiver import DELETING, RESTORING, Progress, counted, no_progress
from .format import (
    MANIFEST,
    ArchiveCorrupt,
    digest_events,
    load_manifest,
    read_events,
    read_rows,
    verify_archive,
)
from .layout import Step, marker_path, partition_dir, remove_marker, step, write_marker

BATCH_SIZE = 2000  # events per append (one store transaction)
_LAST_SEEN_CHUNK = 1000


class RestoreRefused(Exception):
    """Nothing to restore, or restoring would clash with live data."""


class RestoreFailed(Exception):
    """After appending, the store does not hold what the archive holds."""


@dataclass(frozen=True)
class RestoreOutcome:
    path: Path
    events: int  # in the archive
    appended: int  # newly stored by this run (the rest were there already)
    already: bool = False  # the partition already held exactly the archive: nothing to do


class Restorer:
    """Restores archives of `root` into `store`. `records`: the store is the active one, so the
    metadata database follows (deleted_at cleared, restored_at set)."""

    def __init__(
        self,
        *,
        store: EventStore,
        store_label: str,
        root: Path,
        records: bool,
        progress: Progress = no_progress,
    ) -> None:
        self.store = store
        self.store_label = store_label
        self.root = root
        self.records = records
        self.progress = progress

    def locate(self, app_ref: int, epoch: int) -> Path:
        final = partition_dir(self.root, app_ref, epoch)
        if (final / MANIFEST).exists():
            return final
        row = records.retired_partition(app_ref, epoch)
        if row is not None and row.archive_path and (Path(row.archive_path) / MANIFEST).exists():
            return Path(row.archive_path)
        raise RestoreRefused(f"no archive of app {app_ref} epoch {epoch} in {self.root}")

    def preflight(self, app_ref: int, epoch: int) -> Path:
        """The archive to restore, after the cheap refusals (current epoch, no archive)."""
        self._refuse_live_epoch(app_ref, epoch)
        return self.locate(app_ref, epoch)

    def run(self, app_ref: int, epoch: int) -> RestoreOutcome:
        """Restore (app_ref, epoch). Raises RestoreRefused, ArchiveCorrupt or RestoreFailed."""
        final = self.preflight(app_ref, epoch)
        manifest = load_manifest(final)
        verify_archive(final, manifest)
        if (manifest["app"]["id"], manifest["epoch"]) != (app_ref, epoch):
            held = f"app {manifest['app']['id']} epoch {manifest['epoch']}"
            raise ArchiveCorrupt(f"{final} holds the archive of {held}")
        events = manifest["tables"]["events"]
        marker = marker_path(final, RESTORING, self.store_label)
        deleting = marker_path(final, DELETING, self.store_label)
        count = self.store.count_events(app_ref, epoch)
        if count and not (marker.exists() or deleting.exists()):
            if digest_events(self.store.events(app_ref, epoch)).matches(events):
                self._record(app_ref, epoch)
                return RestoreOutcome(final, events["rows"], 0, already=True)
            raise RestoreRefused(
                f"the store's partition of app {app_ref} epoch {epoch} already holds {count} "
                "events that are not this archive's: refusing to mix them"
            )
        write_marker(marker, store=self.store_label)
        step(Step.RESTORE_MARKED)
        appended = self._append(app_ref, epoch, final, events)
        step(Step.RESTORE_APPENDED)
        self._verify(app_ref, epoch, final, manifest)
        step(Step.RESTORE_VERIFIED)
        self._record(app_ref, epoch)
        step(Step.RESTORE_RECORDED)
        remove_marker(deleting)
        remove_marker(marker)
        return RestoreOutcome(final, events["rows"], appended)

    @staticmethod
    def _refuse_live_epoch(app_ref: int, epoch: int) -> None:
        app = App.objects.filter(pk=app_ref).first()
        if app is not None and epoch >= app.epoch:
            raise RestoreRefused(
                f"epoch {epoch} is the current epoch of app {app_ref} ({app.name}): "
                "its partition takes live data"
            )

    def _append(self, app_ref: int, epoch: int, final: Path, entry: dict) -> int:
        bar = self.progress(f"app {app_ref} epoch {epoch} restore", entry["rows"])
        appended, batch = 0, []
        for event in counted(read_events(final, entry), bar):
            if (event.app_id, event.epoch) != (app_ref, epoch):
                raise ArchiveCorrupt(f"{entry['file']} holds events of another partition")
            batch.append(event)
            if len(batch) >= BATCH_SIZE:
                appended += len(self.store.append(batch).new_keys)
                batch = []
                step(Step.RESTORE_BATCH)
        if batch:
            appended += len(self.store.append(batch).new_keys)
            step(Step.RESTORE_BATCH)
        return appended

    def _verify(self, app_ref: int, epoch: int, final: Path, manifest: dict) -> None:
        """The store holds the archive's events, stage entries and last-seen times.

        A visitor's last-seen session is not compared: when their last two events share a
        millisecond, which one a store keeps depends on arrival order (docs/archiving.md)."""
        tables = manifest["tables"]
        bar = self.progress(f"app {app_ref} epoch {epoch} check", tables["events"]["rows"])
        if not digest_events(counted(self.store.events(app_ref, epoch), bar)).matches(
            tables["events"]
        ):
            raise RestoreFailed("the store's events differ from the archive's after restoring")
        stages: dict[int, dict[str, int]] = defaultdict(dict)
        for row in read_rows(final, tables["stage_entries"]):
            stages[row["stage"]][row["visitor_id"]] = row["first_ts"]
        for stage, entries in stages.items():
            if self.store.stage_visitors(app_ref, epoch, stage) != entries:
                raise RestoreFailed(f"the store's entries of funnel stage {stage} differ")
        last = {r["visitor_id"]: r["last_ts"] for r in read_rows(final, tables["visitor_last"])}
        visitors = list(last)
        for start in range(0, len(visitors), _LAST_SEEN_CHUNK):
            chunk = visitors[start : start + _LAST_SEEN_CHUNK]
            seen = self.store.last_seen(app_ref, epoch, chunk)
            if any(seen.get(v, ("", None))[1] != last[v] for v in chunk):
                raise RestoreFailed("the store's last-seen times differ from the archive's")

    def _record(self, app_ref: int, epoch: int) -> None:
        if not self.records:
            return
        row = records.retired_partition(app_ref, epoch)
        if row is not None:
            records.record_restored(row)
