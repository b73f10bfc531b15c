"""Archiving one retired partition: export, verify, record, then (if asked) delete from the store.

Every run starts from what it finds (the database row, the archive directory, the markers, the
store's count), so a run killed at any point is finished by the next one:

    export into .epoch-N.partial/ -> manifest -> rename to epoch-N/        (commit)
    re-read the archive: checksums and counts, and the store's count       (verify)
    RetiredPartition.archived_at                                           (record)
    re-read the store: same rows as the archive -> deleting marker -> delete_partition
    -> RetiredPartition.deleted_at -> marker removed                       (delete)

Nothing is deleted from the store before the archive is committed and verified and the store's
content is known to equal it. Only the store interface is used, never a backend's internals.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Protocol, TypeVar

from django.utils import timezone

from apps_registry.models import RetiredPartition
from eventstore import EventStore
from funnels.selectors import frozen_config

from . import records
from .format import (
    FORMAT,
    FORMAT_VERSION,
    ArchiveCorrupt,
    TableWriter,
    digest_events,
    event_row,
    load_manifest,
    verify_archive,
    write_manifest,
)
from .layout import (
    Step,
    fsync_dir,
    marker_path,
    partition_dir,
    rejected_dir,
    remove_marker,
    remove_tree,
    rename_durably,
    staging_dir,
    step,
    superseded_dir,
    write_marker,
)

DELETING, RESTORING = "deleting", "restoring"
_LAST_SEEN_CHUNK = 1000
_PROGRESS_EVERY = 1000
T = TypeVar("T")


class ProgressBar(Protocol):
    def update(self, n: int) -> object: ...
    def close(self) -> object: ...


Progress = Callable[[str, int], ProgressBar]
"""progress(description, total) -> a bar (tqdm's interface)."""


class _NoBar:
    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


def no_progress(description: str, total: int) -> ProgressBar:
    return _NoBar()


def counted(items: Iterable[T], bar: ProgressBar) -> Iterator[T]:
    """Yield the items, advancing the bar every few hundred of them."""
    n = 0
    try:
        for item in items:
            yield item
            n += 1
            if n == _PROGRESS_EVERY:
                bar.update(n)
                n = 0
        bar.update(n)
    finally:
        bar.close()


class PartitionChanged(Exception):
    """The store's partition no longer holds what the archive holds (late events): the next run
    exports it again."""


class Action(StrEnum):
    EXPORT = "export"  # no archive yet
    REEXPORT = "re-export"  # the partition changed since its archive was made
    VERIFY = "verify"  # an archive exists; verify it (and delete, if asked)
    KEEP = "keep"  # archived and verified, events kept in the store: nothing to do
    RESUME_DELETE = "resume delete"  # a deletion was interrupted: finish it
    DONE = "done"  # archived and deleted from the store
    REJECT = "reject"  # the archive is unreadable: set it aside, export again next run
    BLOCKED = "blocked"  # needs an operator (see the note)


@dataclass(frozen=True)
class Plan:
    action: Action
    store_events: int
    archived_events: int | None = None
    note: str = ""


@dataclass
class Outcome:
    row: RetiredPartition
    plan: Plan
    path: Path
    exported_events: int | None = None
    verified: bool = False
    deleted_events: int | None = None
    error: str | None = None

    @property
    def failed(self) -> bool:
        return self.error is not None or self.plan.action in (Action.BLOCKED, Action.REJECT)


class Archiver:
    """Archives retired partitions of one store into one archive directory.

    The caller holds the archive lock (`layout.archive_lock`) around `run`; `plan` only reads.
    """

    def __init__(
        self,
        *,
        store: EventStore,
        store_label: str,
        root: Path,
        delete: bool,
        progress: Progress = no_progress,
    ) -> None:
        self.store = store
        self.store_label = store_label
        self.root = root
        self.delete = delete
        self.progress = progress

    def final_dir(self, row: RetiredPartition) -> Path:
        return partition_dir(self.root, row.app_ref, row.epoch)

    def _marker(self, final: Path, kind: str) -> Path:
        return marker_path(final, kind, self.store_label)

    # -- deciding -------------------------------------------------------------------------------

    def plan(self, row: RetiredPartition) -> Plan:
        """What `run` would do with the partition now; reads only."""
        final = self.final_dir(row)
        if self._marker(final, RESTORING).exists():
            return Plan(Action.BLOCKED, 0, note="a restore is unfinished: run restore_partition")
        count = self.store.count_events(row.app_ref, row.epoch)
        if self._marker(final, DELETING).exists():
            return Plan(Action.RESUME_DELETE, count, row.archived_events)
        try:
            manifest = load_manifest(final) if final.is_dir() else None
        except ArchiveCorrupt as exc:
            if row.deleted_at is not None:
                return Plan(Action.BLOCKED, count, note=f"the only copy is unreadable: {exc}")
            return Plan(Action.REJECT, count, note=str(exc))
        archived = manifest["tables"]["events"]["rows"] if manifest else None
        if row.deleted_at is not None:
            return self._plan_deleted(count, archived)
        if manifest is None:
            return Plan(Action.EXPORT, count)
        if count > archived:
            return Plan(Action.REEXPORT, count, archived, "events arrived since")
        if count < archived:
            # Nothing but a deletion removes events, and none was in progress: never replace
            # the archive with less (e.g. the metadata database came back from a backup).
            note = "the store holds fewer events than the archive, no deletion was recorded"
            return Plan(Action.BLOCKED, count, archived, note)
        if row.archived_at is not None and not self.delete:
            return Plan(Action.KEEP, count, archived)
        return Plan(Action.VERIFY, count, archived)

    @staticmethod
    def _plan_deleted(count: int, archived: int | None) -> Plan:
        if archived is None:
            return Plan(Action.BLOCKED, count, note="deleted from the store, archive missing")
        if count:
            note = f"{count} events reached the store after its deletion (docs/archiving.md)"
            return Plan(Action.BLOCKED, count, archived, note)
        return Plan(Action.DONE, 0, archived)

    # -- doing ----------------------------------------------------------------------------------

    def run(self, row: RetiredPartition) -> Outcome:
        """Bring the partition as far as asked (archived, or archived and deleted)."""
        final = self.final_dir(row)
        self._clean_leftovers(final)
        plan = self.plan(row)
        outcome = Outcome(row, plan, final)
        if plan.action in (Action.KEEP, Action.DONE, Action.BLOCKED):
            return outcome
        if plan.action == Action.REJECT:
            self._reject(row, final, plan.note)
            outcome.error = f"archive rejected ({plan.note}); the next run exports again"
            return outcome
        try:
            if plan.action == Action.RESUME_DELETE:
                self._resume_delete(row, final, outcome)
            else:
                self._archive(row, final, plan, outcome)
        except ArchiveCorrupt as exc:
            if plan.action != Action.RESUME_DELETE:
                self._reject(row, final, str(exc))
            outcome.error = f"verification failed, nothing deleted: {exc}"
        except PartitionChanged as exc:
            outcome.error = str(exc)
        return outcome

    def _archive(self, row, final: Path, plan: Plan, outcome: Outcome) -> None:
        if plan.action in (Action.EXPORT, Action.REEXPORT):
            manifest = self._export(row, final, plan.store_events)
            outcome.exported_events = manifest["tables"]["events"]["rows"]
        else:
            manifest = load_manifest(final)
        self._verify(row, final, manifest)
        outcome.verified = True
        if row.archived_at is None or row.archive_path != str(final):
            records.record_archived(row, path=str(final), events=_events_of(manifest))
        step(Step.RECORDED)
        if self.delete:
            outcome.deleted_events = self._delete(row, final, manifest)
            if outcome.deleted_events != _events_of(manifest):
                outcome.error = (
                    f"deleted {outcome.deleted_events} events, archived {_events_of(manifest)}: "
                    "events written to this retired partition during the deletion were lost"
                )

    def _clean_leftovers(self, final: Path) -> None:
        """An uncommitted export, or an archive superseded by a commit that may not have
        happened: neither is needed, as the store still holds every event of a partition
        that is being (re-)exported."""
        remove_tree(staging_dir(final))
        remove_tree(superseded_dir(final))

    def _export(self, row: RetiredPartition, final: Path, expected: int) -> dict:
        staging = staging_dir(final)
        if not final.parent.is_dir():
            final.parent.mkdir(parents=True)
            fsync_dir(final.parent.parent)
        staging.mkdir()
        tables, span = self._write_tables(row, staging, expected)
        step(Step.EXPORTED)
        manifest = self._manifest(row, tables, span)
        write_manifest(staging, manifest)
        step(Step.MANIFEST_WRITTEN)
        if final.exists():
            records.record_unarchived(row)
            rename_durably(final, superseded_dir(final))
            step(Step.SUPERSEDED)
        rename_durably(staging, final)
        step(Step.COMMITTED)
        remove_tree(superseded_dir(final))
        return manifest

    def _write_tables(self, row, staging: Path, expected: int) -> tuple[dict, dict]:
        app, epoch = row.app_ref, row.epoch
        writer = TableWriter(staging, "events")
        stages: set[int] = set()
        visitors: set[str] = set()
        days: Counter[str] = Counter()
        first_ts = last_ts = None
        bar = self.progress(f"app {app} epoch {epoch} export", expected)
        for event in counted(self.store.events(app, epoch), bar):
            writer.write(event_row(event))
            stages.update(event.stages)
            visitors.add(event.visitor_id)
            days[event.day] += 1
            first_ts = event.ts if first_ts is None else first_ts
            last_ts = event.ts
        tables = {"events": writer.close()}
        writer = TableWriter(staging, "stage_entries")
        for stage in sorted(stages):
            for visitor, ts in sorted(self.store.stage_visitors(app, epoch, stage).items()):
                writer.write({"stage": stage, "visitor_id": visitor, "first_ts": ts})
        tables["stage_entries"] = writer.close()
        writer = TableWriter(staging, "visitor_last")
        ordered = sorted(visitors)
        for start in range(0, len(ordered), _LAST_SEEN_CHUNK):
            chunk = ordered[start : start + _LAST_SEEN_CHUNK]
            seen = self.store.last_seen(app, epoch, chunk)
            for visitor in chunk:
                if visitor in seen:
                    session, ts = seen[visitor]
                    writer.write({"visitor_id": visitor, "session_id": session, "last_ts": ts})
        tables["visitor_last"] = writer.close()
        fsync_dir(staging)
        span = {"first_ts": first_ts, "last_ts": last_ts, "days": dict(sorted(days.items()))}
        return tables, span

    def _manifest(self, row: RetiredPartition, tables: dict, span: dict) -> dict:
        def iso(ms: int | None) -> str | None:
            return None if ms is None else dt.datetime.fromtimestamp(ms / 1000, dt.UTC).isoformat()

        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "encoding": "gzip-compressed JSON Lines: one object per row, keys sorted, UTF-8; "
            "ts in milliseconds since 1970-01-01 UTC",
            "app": {"id": row.app_ref, "name": row.app_name},
            "organization": {"id": row.organization_id, "name": row.organization.name},
            "epoch": row.epoch,
            "reason": row.reason,
            "retired_at": row.retired_at.isoformat(),
            "exported_at": timezone.now().isoformat(),
            "source_store": self.store_label,
            "time_range": {
                "first_ts": span["first_ts"],
                "last_ts": span["last_ts"],
                "first": iso(span["first_ts"]),
                "last": iso(span["last_ts"]),
            },
            "events_per_day": span["days"],
            "configuration": frozen_config(row.app_ref, row.epoch),
            "tables": tables,
        }

    def _verify(self, row: RetiredPartition, final: Path, manifest: dict) -> None:
        verify_archive(final, manifest)
        count = self.store.count_events(row.app_ref, row.epoch)
        if count != _events_of(manifest):
            raise PartitionChanged(
                f"the partition holds {count} events, its archive {_events_of(manifest)}: "
                "events arrived while exporting; run again to export it anew"
            )
        step(Step.VERIFIED)

    def _delete(self, row: RetiredPartition, final: Path, manifest: dict) -> int:
        """Delete the partition once the store's content is known to equal the archive's."""
        events = manifest["tables"]["events"]
        bar = self.progress(f"app {row.app_ref} epoch {row.epoch} check store", events["rows"])
        digest = digest_events(counted(self.store.events(row.app_ref, row.epoch), bar))
        if not digest.matches(events):
            if digest.rows != events["rows"]:
                raise PartitionChanged(
                    f"the partition holds {digest.rows} events, its archive {events['rows']}: "
                    "run again to export it anew"
                )
            raise ArchiveCorrupt("the store's events differ from the archive's")
        step(Step.STORE_VERIFIED)
        write_marker(self._marker(final, DELETING), store=self.store_label)
        step(Step.DELETE_MARKED)
        return self._finish_delete(row, final)

    def _resume_delete(self, row: RetiredPartition, final: Path, outcome: Outcome) -> None:
        """A deletion was interrupted: the store holds part of the archived events at most.
        Finish it, provided the archive (now the main copy) is still intact."""
        manifest = load_manifest(final)
        verify_archive(final, manifest)
        outcome.verified = True
        if row.archived_at is None:
            records.record_archived(row, path=str(final), events=_events_of(manifest))
        outcome.deleted_events = self._finish_delete(row, final)

    def _finish_delete(self, row: RetiredPartition, final: Path) -> int:
        deleted = self.store.delete_partition(row.app_ref, row.epoch)
        step(Step.DELETED)
        records.record_deleted(row)
        step(Step.DELETE_RECORDED)
        remove_marker(self._marker(final, DELETING))
        return deleted

    def _reject(self, row: RetiredPartition, final: Path, reason: str) -> None:
        """Set an archive that failed verification aside (kept for inspection)."""
        if final.exists():
            target = rejected_dir(final, timezone.now())
            rename_durably(final, target)
            (target / "REJECTED.txt").write_text(f"{reason}\n")
        records.record_unarchived(row)


def _events_of(manifest: dict) -> int:
    return manifest["tables"]["events"]["rows"]
