"""Building column parts: any process, any bucket, deterministic, nothing half-visible.

Appends queue the slots they write to (`build_queue`, one partition per shard of apps). A
builder (`flush_pending`, the writer's idle work) takes the queued slots that are sealed:
- a slot of a day not sealed yet (today): its part is built from its raw rows (level SLOT), and
  its day is queued;
- the slots of a sealed day: the day's part is (re)built (level DAY) from, per slot, the part
  that still holds it (the previous day part, or the slot's part) or else its raw rows (queued,
  late, or never built), then the slot parts and covered markers of the day are deleted (in a
  few range and partition tombstones, see `retire`).
Each part records per slot its `coverage` (the marker time up to which it is complete): the
builder's clock when it read the queue, minus the allowed skew, for what it read raw; what it
took from another part keeps that part's coverage. A part's bytes are written before its
description, with the builder's clock as write time; a queue item is deleted only up to the
coverage, so a late event queued meanwhile stays queued. Two builders of the same bucket write
the same rows (same content, same version) or each a complete version of its own; readers use
whichever description was written last.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from ..columns import ARRAYS, DTYPES, STRINGS, Columns, Part
from ..rollups import NAMES, summarize
from ..values import MS_PER_DAY
from .buckets import DAY, SLOT, SLOT_MS, day_of, day_slots, sealed
from .parts import ROLLUP, PartInfo, StalePart, chunk_rows, info_of, rollup_rows
from .reading import ATTEMPTS, key_of, runs_of

QUEUE_SHARDS = 8
QUEUE_POLL_MS = 2_000  # an empty queue is read again after this long (or after an append)
CHUNK_WRITES = 8  # chunk inserts in flight (each up to codec.CHUNK_BYTES)


@dataclass(frozen=True)
class Item:
    """A queued bucket: a slot (level SLOT) or a day (level DAY, bucket = the day's start)."""

    app_id: int
    epoch: int
    bucket: int
    level: int
    written_us: int

    @property
    def day(self) -> int:
        return day_of(self.bucket)

    @property
    def end(self) -> int:
        return self.bucket + (SLOT_MS if self.level == SLOT else MS_PER_DAY)


DAYS = -1  # the queue partition (of each shard) of days; a slot is queued in its day's


def shard_of(app_id: int) -> int:
    return app_id % QUEUE_SHARDS


def queue_key(app_id: int, epoch: int, bucket: int, level: int) -> tuple:
    """The `build_queue` key of a bucket: (shard, queue partition, app_id, epoch, bucket,
    level)."""
    return (
        shard_of(app_id),
        DAYS if level == DAY else day_of(bucket),
        app_id,
        epoch,
        bucket,
        level,
    )


def queue_partitions(now: int) -> tuple[int, ...]:
    """The queue partitions builders read (of each shard): days, today's and yesterday's slots
    (a slot is queued only while not sealed, so never older; its day is queued with it)."""
    return (DAYS, day_of(now), day_of(now) - 1)


def queued_by_append(slots: Iterable[tuple], now: int) -> set[tuple]:
    """(app_id, epoch, bucket, level) to queue for the (app_id, epoch, slot) an append wrote:
    each slot of a day not sealed yet (built alone meanwhile), and each day."""
    buckets = set()
    for app_id, epoch, slot in slots:
        day_start = day_of(slot) * MS_PER_DAY
        buckets.add((app_id, epoch, day_start, DAY))
        if not sealed(day_start + MS_PER_DAY, now):
            buckets.add((app_id, epoch, slot, SLOT))
    return buckets


class Builder:
    def __init__(self, store) -> None:
        self.store = store
        self._idle_until = 0
        self.rollups = True  # a day part's rollup written with it (False: as before they were)

    @property
    def st(self):
        return self.store.statements

    def wake(self) -> None:
        """Something was queued: the next `flush` reads the queue again."""
        self._idle_until = 0

    def flush(self, limit: int) -> int:
        """Build parts for up to about `limit` events of sealed queued buckets; how many
        events (at least 1 per bucket built) were built, 0 when nothing is ready."""
        now = self.store.now_ms()
        if now < self._idle_until:
            return 0
        groups: dict[tuple, list[Item]] = defaultdict(list)
        for item in self.ready(now):
            groups[(item.app_id, item.epoch, item.day)].append(item)
        if not groups:
            self._idle_until = now + QUEUE_POLL_MS
            return 0
        done = 0
        for (app_id, epoch, day), items in sorted(groups.items(), key=lambda kv: kv[0][2]):
            if sealed((day + 1) * MS_PER_DAY, now):
                done += self.build_day(app_id, epoch, day, items, now)
            else:
                for item in items:
                    done += self.build_slot(item, now)
            if done >= limit:
                break
        return done

    def coverage(self, now: int) -> int:
        """The marker time (us) up to which what is read raw now is complete: strictly before
        `now` minus the allowed skew (a marker of the same instant may come after the read)."""
        return (now - self.store.skew_ms) * 1000 - 1

    def ready(self, now: int) -> list[Item]:
        """Queued buckets that are sealed, and whose latest queueing is older than the allowed
        skew (so that a part built now covers it)."""
        calls = [
            (self.st.queue, (shard, partition))
            for shard in range(QUEUE_SHARDS)
            for partition in queue_partitions(now)
        ]
        settled_us = self.coverage(now)
        items = []
        for rows in self.store._run(calls):
            for app_id, epoch, bucket, level, written in rows:
                item = Item(app_id, epoch, bucket, level, written)
                if written <= settled_us and sealed(item.end, now):
                    items.append(item)
        return items

    # -- a slot of today ---------------------------------------------------------------------

    def build_slot(self, item: Item, now: int) -> int:
        app_id, epoch, slot = item.app_id, item.epoch, item.bucket
        cover, written = self.coverage(now), now * 1000
        old = self.store.reader.layout(app_id, epoch, item.day, item.day).slots.get(slot)
        raw = self.store.reader.raw(app_id, epoch, [(slot, slot + SLOT_MS)])
        part = part_of(raw.columns)
        info, blobs = info_of(part, level=SLOT, bucket=slot, cover=[cover])
        self.write(app_id, epoch, info, blobs, written)
        if old is not None and old.version != info.version and written > old.written_us:
            self.delete_chunks(app_id, epoch, old)
        self.enqueue([(app_id, epoch, item.day * MS_PER_DAY, DAY)], written)
        self.dequeue([item], cover)
        return max(part.n, 1)

    # -- a sealed day --------------------------------------------------------------------------

    def build_day(self, app_id: int, epoch: int, day: int, items: list[Item], now: int) -> int:
        cover, written = self.coverage(now), now * 1000
        fresh = {item.bucket for item in items if item.level == SLOT}
        reader, excluded = self.store.reader, set()
        for _ in range(ATTEMPTS):
            layout = reader.layout(app_id, epoch, day, day)
            sources = [
                (slot, None if slot in fresh else layout.source(slot, excluded))
                for slot in day_slots(day)
            ]
            runs = runs_of(sources, day * MS_PER_DAY, (day + 1) * MS_PER_DAY)
            try:
                columns = reader.assemble(app_id, epoch, runs, set(ARRAYS))
                break
            except StalePart as stale:
                excluded.add(stale.args[1])
        else:
            return 0  # parts kept changing: another builder is at it; the items stay queued
        covers = [cover if source is None else source.covers(slot) for slot, source in sources]
        part = part_of(columns)
        info, blobs = info_of(part, level=DAY, bucket=day * MS_PER_DAY, cover=covers)
        rollup = rollup_of(part) if self.rollups else None
        self.write(app_id, epoch, info, blobs, written, rollup=rollup)
        self.retire(app_id, epoch, layout, info, written, cover)
        self.dequeue(items, cover)
        return max(part.n, 1)

    def retire(self, app_id: int, epoch: int, layout, info: PartInfo, written: int, cover: int):
        """Delete what the new day part replaces, in a few tombstones (a day's parts and
        markers are read together: a tombstone per row would slow every read of the day):
        - one range tombstone over the day's `parts` rows as of `cover`: the slot parts and
          markers written up to then (the new day part covers every slot up to there, and is
          written after `cover`, so it stays; a marker written since stays too);
        - one partition tombstone per column of the day's slot part bytes, as of `cover`;
        - the previous version of the day part's bytes, and slot parts written after `cover`
          (rare: a builder with a slower clock), one by one."""
        old = layout.days.get(info.day)
        if old is not None and key_of(old) != key_of(info) and written > old.written_us:
            self.delete_chunks(app_id, epoch, old)
        later = [p for p in layout.slots.values() if p.written_us > cover]
        day = (info.bucket, info.bucket + MS_PER_DAY)
        self.store._run(
            [(self.st.delete_parts_between, (cover, app_id, epoch, *day))]
            + [
                (self.st.delete_column_level, (cover, app_id, epoch, info.day, name, SLOT))
                for name in ARRAYS
            ]
            + [(self.st.delete_part, (p.written_us, app_id, epoch, p.bucket, SLOT)) for p in later]
        )
        for part in later:
            self.delete_chunks(app_id, epoch, part)

    # -- writes --------------------------------------------------------------------------------

    def write(
        self, app_id: int, epoch: int, info: PartInfo, blobs: dict, written: int, rollup=None
    ) -> None:
        """The part's chunks (and its rollup's, when given: a day part's, `rollup_of`), then
        (once all are stored) its description (and the rollup's sizes)."""
        st = self.st
        calls = [
            (st.insert_chunk, (*column_key(app_id, epoch, info, name), chunk, data, written))
            for name, chunk, data in chunk_rows(blobs)
        ]
        last = [(st.insert_part, (app_id, epoch, info.bucket, info.level, info.to_blob(), written))]
        if rollup is not None:
            rows = self.rollup_calls(app_id, epoch, info, rollup, written)
            calls, last = calls + rows[:-1], rows[-1:] + last
        self.store._run(calls, limit=CHUNK_WRITES)
        self.store._run(last)

    def write_rollup(self, app_id: int, epoch: int, info: PartInfo, rollup) -> None:
        """A described day part's rollup (`rollup_of`), its sizes last, as of the part's own
        write time: whatever deletes the part's bytes (its version, its partition) deletes
        these too, even when written after the delete (then never seen)."""
        rows = self.rollup_calls(app_id, epoch, info, rollup, info.written_us)
        self.store._run(rows[:-1], limit=CHUNK_WRITES)
        self.store._run(rows[-1:])

    def rollup_calls(self, app_id: int, epoch: int, info: PartInfo, rollup, written: int):
        """The inserts of a day part's rollup chunks, the one of its sizes last."""
        key = column_key(app_id, epoch, info, ROLLUP)
        return [
            (self.st.insert_chunk, (*key, chunk, data, written))
            for chunk, data in rollup_rows(rollup)
        ]

    def delete_chunks(self, app_id: int, epoch: int, info: PartInfo) -> None:
        names = (*ARRAYS, ROLLUP) if info.level == DAY else ARRAYS
        self.store._run(
            (self.st.delete_version, (info.written_us, *column_key(app_id, epoch, info, name)))
            for name in names
        )

    def enqueue(self, buckets: Iterable[tuple], written: int) -> None:
        """Queue (app_id, epoch, bucket, level) buckets, with `written` (us) as write time."""
        self.store._run((self.st.enqueue, (*queue_key(*bucket), written)) for bucket in buckets)
        self.wake()

    def dequeue(self, items: Iterable[Item], cover: int) -> None:
        """Delete queue items as read, and only up to the coverage of what was built."""
        self.store._run(
            (
                self.st.dequeue,
                (
                    min(item.written_us, cover),
                    *queue_key(item.app_id, item.epoch, item.bucket, item.level),
                ),
            )
            for item in items
        )


def column_key(app_id: int, epoch: int, info: PartInfo, name: str) -> tuple:
    """The key of a part's column in `part_columns`, up to the chunk number."""
    return (app_id, epoch, info.day, name, info.level, info.bucket, info.version)


def rollup_of(part: Part) -> dict[str, np.ndarray]:
    """Every rollup column of a part (`rollups.NAMES`), its strings coded as in the part."""
    arrays = {name: np.frombuffer(part.data[name], dtype=DTYPES[name]) for name in ARRAYS}
    summary = summarize(Columns(arrays, dict(part.tables), part.n))
    return {name: np.ascontiguousarray(summary.data[name]) for name in NAMES}


def part_of(columns: Columns) -> Part:
    """A `Part` of columns (all of them read), string tables trimmed to the codes used."""
    n = len(columns)
    tables, data = {}, {}
    for name in ARRAYS:
        values = np.asarray(columns.codes[name], dtype=DTYPES[name])
        if name in STRINGS:
            table = list(columns.tables[name])
            used = np.zeros(len(table), dtype=bool)
            used[values] = True
            if not used.all():
                remap = np.cumsum(used, dtype=np.int32) - 1
                values = remap[values]
                table = [value for value, keep in zip(table, used, strict=True) if keep]
            tables[name] = table
        data[name] = values.tobytes()
    first = int(columns.codes["ts"][0]) if n else 0
    return Part(n=n, first_ts=first, tables=tables, top={}, data=data)
