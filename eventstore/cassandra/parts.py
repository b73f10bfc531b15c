"""Column parts in Cassandra: how a part is described, written and read back.

A part holds the events of one bucket (a slot at level SLOT, a UTC day at level DAY) by columns
(`eventstore.columns.Part`, strings coded per part with the part's own table). It is stored as
chunks in `part_columns` (one partition per app, epoch, day, column and level), then described
by one row in `parts` (`info`): written last, so a reader never sees a part whose bytes are not
all there. Its `version` is a hash of its content: builders that race on the same raw rows
write the same rows; a rebuilt part with other content gets other chunk keys, so a reader that
read the older description still finds the older bytes (or, once they are deleted, finds them
missing and reads again).

A day part's rollup (`rollups.summarize`: a pure function of its events) is stored beside it,
under the same (bucket, version) with the name ROLLUP (`rollup_rows`): written by the day's
builder, or by the first reader that computed it (the same bytes whoever writes them), its
sizes last, so that a reader uses it only once all of it is there.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import orjson

from ..columns import ARRAYS, DTYPES, STRINGS, Part
from ..rollups import NAMES, dtype_of
from . import codec
from .buckets import DAY, SLOT, SLOT_MS, day_of, day_slots

ROLLUP = "rollups"  # the `part_columns` name of a day part's rollup (not a column's)
ROLLUP_LEVEL = 1  # zlib level: 13 -> 5 MB for a day of 390k events, in 0.13 s


class StalePart(Exception):
    """A part's bytes were not all found (replaced by a newer build meanwhile): read again."""


@dataclass(frozen=True)
class PartInfo:
    """The `parts` row of a stored part. `cover`: per slot of the bucket (in order), the write
    time (us) up to which late markers of the slot are included."""

    level: int
    bucket: int
    version: int
    n: int
    first_ts: int
    cover: tuple[int, ...]
    sizes: Mapping[str, int]  # stored bytes per column, and per string table ("name#")
    written_us: int = 0  # the row's write time (read back; 0 when not read)

    @property
    def day(self) -> int:
        return day_of(self.bucket)

    @property
    def slots(self) -> Sequence[int]:
        return day_slots(self.day) if self.level == DAY else (self.bucket,)

    def covers(self, slot: int) -> int:
        return self.cover[(slot - self.slots[0]) // SLOT_MS]

    def to_blob(self) -> bytes:
        return orjson.dumps(
            {
                "v": self.version,
                "n": self.n,
                "first": self.first_ts,
                "cover": self.cover,
                "sizes": self.sizes,
            }
        )

    @classmethod
    def from_row(cls, bucket: int, level: int, blob: bytes, written_us: int) -> PartInfo:
        values = orjson.loads(blob)
        return cls(
            level,
            bucket,
            values["v"],
            values["n"],
            values["first"],
            tuple(values["cover"]),
            values["sizes"],
            written_us,
        )


def encoded(part: Part) -> tuple[dict[str, bytes], int]:
    """A part's stored bytes by key (column name, or "name#" for a string table) and its
    version (a hash of them)."""
    blobs: dict[str, bytes] = {}
    digest = hashlib.blake2b(digest_size=8)
    for name in ARRAYS:
        blobs[name] = codec.encode(name, np.frombuffer(part.data[name], dtype=DTYPES[name]))
    for name in STRINGS:
        blobs[f"{name}#"] = orjson.dumps(part.tables[name])
    for key in sorted(blobs):
        digest.update(key.encode() + b"\0" + len(blobs[key]).to_bytes(8, "big") + blobs[key])
    return blobs, int.from_bytes(digest.digest(), "big", signed=True)


def chunk_rows(blobs: Mapping[str, bytes]) -> Iterable[tuple[str, int, bytes]]:
    """(column name, chunk number, bytes): a column's bytes at chunks 0.., its string table at
    negative chunks (ascending order is the table's order)."""
    for key, blob in blobs.items():
        pieces = codec.chunks(blob)
        if key.endswith("#"):
            yield from ((key[:-1], i - len(pieces), piece) for i, piece in enumerate(pieces))
        else:
            yield from ((key, i, piece) for i, piece in enumerate(pieces))


def info_of(part: Part, *, level: int, bucket: int, cover: Sequence[int]) -> tuple[PartInfo, dict]:
    blobs, version = encoded(part)
    sizes = {key: len(blob) for key, blob in blobs.items()}
    info = PartInfo(level, bucket, version, part.n, part.first_ts, tuple(cover), sizes)
    return info, blobs


class StoredColumns:
    """The columns of one stored part, as read: decoded arrays and string tables."""

    def __init__(self, info: PartInfo) -> None:
        self.info = info
        self.arrays: dict[str, np.ndarray] = {}
        self.tables: dict[str, list[str]] = {}

    def add(self, name: str, rows: Iterable[tuple[int, bytes]]) -> None:
        """A column's chunks (chunk number, bytes), in chunk order."""
        data, table = [], []
        for chunk, piece in rows:
            (table if chunk < 0 else data).append(piece)
        blob = b"".join(data)
        if len(blob) != self.info.sizes.get(name, -1):
            raise StalePart(f"part {self.info.bucket}/{self.info.version}: {name} incomplete")
        self.arrays[name] = codec.decode(name, blob)
        if name in STRINGS:
            self.tables[name] = string_table(self.info, name, table)


def string_table(info: PartInfo, name: str, pieces: Iterable[bytes]) -> list[str]:
    """A string column's table from its chunks' bytes (`StalePart`, with the part's key, when
    not all there)."""
    strings = b"".join(pieces)
    if len(strings) != info.sizes.get(f"{name}#", -1):
        message = f"part {info.bucket}/{info.version}: {name} table"
        raise StalePart(message, (info.level, info.bucket, info.version))
    return orjson.loads(strings)


def rollup_rows(arrays: Mapping[str, np.ndarray]) -> list[tuple[int, bytes]]:
    """A day part's rollup columns (every one of `rollups.NAMES`) as (chunk number, bytes)
    under the name ROLLUP: the columns one after the other (`codec`, sorted ones as gaps),
    compressed (zlib: the rollup is read whole by a process's first request, and its bytes
    are what that costs) at chunks 0.., then the sizes at chunk -1, to be written last."""
    blobs = [
        codec.encode_values(np.asarray(arrays[name], dtype=dtype_of(name)), deltas=True)
        for name in NAMES
    ]
    packed = zlib.compress(b"".join(blobs), ROLLUP_LEVEL)
    sizes = {"zlib": len(packed), "columns": [len(blob) for blob in blobs]}
    return [*enumerate(codec.chunks(packed)), (-1, orjson.dumps(sizes))]


def rollup_arrays(rows: Iterable[tuple[int, bytes]]) -> dict[str, np.ndarray] | None:
    """The rollup columns stored by `rollup_rows` (its chunks in chunk order), or None when
    they are not all there (not written yet, or being written)."""
    rows = list(rows)
    if not rows or rows[0][0] != -1:
        return None
    sizes = orjson.loads(rows[0][1])
    packed = b"".join(data for _, data in rows[1:])
    if len(packed) != sizes["zlib"] or len(sizes["columns"]) != len(NAMES):
        return None
    blob = memoryview(zlib.decompress(packed))
    arrays, at = {}, 0
    for name, size in zip(NAMES, sizes["columns"], strict=True):
        arrays[name] = codec.decode_values(blob[at : at + size], dtype_of(name))
        at += size
    return arrays


def level_name(level: int) -> str:
    return {SLOT: "slot", DAY: "day"}.get(level, str(level))
