"""What the metadata database knows about retired partitions: the one place archiving reads
and writes `RetiredPartition` rows.

States of a row, by its timestamps:
- `archived_at` null: not archived (or its archive was rejected or superseded);
- `archived_at` set: a verified archive exists at `archive_path` with `archived_events` events;
  the events are still in the store unless
- `deleted_at` is set too: the archive is the only copy; a restore clears it again
  (`restored_at`).
"""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet
from django.utils import timezone

from apps_registry.models import RetiredPartition


def retired_partitions(
    *, app_ref: int | None = None, older_than_days: int | None = None
) -> QuerySet[RetiredPartition]:
    """Retired partitions in (app, epoch) order; of one app, or retired at least N days ago."""
    rows = RetiredPartition.objects.order_by("app_ref", "epoch")
    if app_ref is not None:
        rows = rows.filter(app_ref=app_ref)
    if older_than_days is not None:
        rows = rows.filter(retired_at__lte=timezone.now() - dt.timedelta(days=older_than_days))
    return rows


def retired_partition(app_ref: int, epoch: int) -> RetiredPartition | None:
    return RetiredPartition.objects.filter(app_ref=app_ref, epoch=epoch).first()


def _update(row: RetiredPartition, **values) -> None:
    RetiredPartition.objects.filter(pk=row.pk).update(**values)
    for name, value in values.items():
        setattr(row, name, value)


def record_archived(row: RetiredPartition, *, path: str, events: int) -> None:
    """A verified archive of the partition exists (its events are still in the store)."""
    _update(row, archived_at=timezone.now(), archive_path=path, archived_events=events)


def record_unarchived(row: RetiredPartition) -> None:
    """The partition's archive was rejected or is being replaced: it no longer counts."""
    if row.archived_at is not None or row.archive_path:
        _update(row, archived_at=None, archive_path="", archived_events=None)


def record_deleted(row: RetiredPartition) -> None:
    _update(row, deleted_at=timezone.now())


def record_restored(row: RetiredPartition) -> None:
    """The partition's events are back in the store (its archive stays valid)."""
    _update(row, deleted_at=None, restored_at=timezone.now())
