"""Time buckets of the Cassandra store: hours (raw partitions), slots (level-0 column parts),
days (level-1 column parts), weeks (stage entries), and when a slot is sealed.

A slot is *sealed* SEAL_MS after it ends: from then on, column parts may be built from its raw
rows. An event that reaches a slot later than that (by the appending process's clock, minus the
clock skew allowed between processes, `skew_ms`) is *late*: its append also writes a marker
for the slot, after its raw rows are stored. A part records, per slot, up to which marker time
it is complete (`coverage`): a part whose slot has a newer marker is not used for that slot
(its raw rows are read instead) until a builder reseals it.
"""

from __future__ import annotations

from ..values import MS_PER_DAY

HOUR_MS = 3_600_000
SLOT_MS = 15 * 60_000  # a level-0 column part: a quarter of an hour
SLOTS_PER_DAY = MS_PER_DAY // SLOT_MS
WEEK_MS = 7 * MS_PER_DAY
SEAL_MS = 5 * 60_000  # a slot is sealed this long after it ends
SKEW_MS = 5_000  # clock difference allowed between processes (and the cluster's nodes)

MARK, SLOT, DAY = -1, 0, 1  # levels of the `parts` table: late marker, slot part, day part


def hour_of(ts: int) -> int:
    return ts // HOUR_MS


def week_of(ts: int) -> int:
    return ts // WEEK_MS


def slot_of(ts: int) -> int:
    """The start (ms) of the slot of `ts`."""
    return ts - ts % SLOT_MS


def day_of(ms: int) -> int:
    """The UTC day number (days since 1970) of a time."""
    return ms // MS_PER_DAY


def day_slots(day: int) -> range:
    """The slot starts of a UTC day."""
    start = day * MS_PER_DAY
    return range(start, start + MS_PER_DAY, SLOT_MS)


def hours_of_slot(slot: int) -> int:
    return slot // HOUR_MS


def sealed(bucket_end_ms: int, now_ms: int) -> bool:
    """Whether parts may be built for a bucket (slot or day) ending at `bucket_end_ms`."""
    return now_ms >= bucket_end_ms + SEAL_MS


def late(slot: int, now_ms: int, skew_ms: int) -> bool:
    """Whether an event of this slot stored at `now_ms` must mark the slot (see above)."""
    return now_ms >= slot + SLOT_MS + SEAL_MS - skew_ms
