"""The archive format of one partition: gzip-compressed JSON Lines files and a JSON manifest.

Each line is one row as a JSON object with its column names, keys sorted, UTF-8: the same row
always gives the same bytes, whichever store it came from. That canonical line is what the
content checksum hashes, so the checksum of a partition read back from a store can be compared
with the archive's without writing anything. Files are gzip with a zero timestamp: the same
partition archives to byte-identical files. Why not Parquet: docs/archiving.md.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, fields
from operator import attrgetter
from pathlib import Path

import orjson

from eventstore import StoredEvent

from .layout import write_atomically

FORMAT = "datalab-partition-archive"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
COMPRESS_LEVEL = 6
_FLUSH_EVERY = 1024  # lines per write into the compressor
_READ_CHUNK = 1 << 20  # decompressed bytes per read

EVENT_COLUMNS = tuple(f.name for f in fields(StoredEvent))
TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "events": EVENT_COLUMNS,
    "stage_entries": ("stage", "visitor_id", "first_ts"),
    "visitor_last": ("visitor_id", "session_id", "last_ts"),
}
TABLES = tuple(TABLE_COLUMNS)
_event_values = attrgetter(*EVENT_COLUMNS)
_LINE_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE


class ArchiveCorrupt(Exception):
    """An archive does not match its manifest (or has none that can be read)."""


def table_file(table: str) -> str:
    return f"{table}.jsonl.gz"


def encode(row: dict) -> bytes:
    """The canonical line of a row."""
    return orjson.dumps(row, option=_LINE_OPTIONS)


def event_row(event: StoredEvent) -> dict:
    return dict(zip(EVENT_COLUMNS, _event_values(event), strict=True))


def event_from_row(row: dict) -> StoredEvent:
    row["stages"] = tuple(row["stages"])
    return StoredEvent(**row)


class ContentDigest:
    """Rows counted and hashed as canonical lines: equal digests mean equal rows, in order."""

    def __init__(self) -> None:
        self.rows = 0
        self.size = 0
        self._sha = hashlib.sha256()

    def add(self, line: bytes) -> None:
        self.rows += 1
        self.size += len(line)
        self._sha.update(line)

    @property
    def hexdigest(self) -> str:
        return self._sha.hexdigest()

    def matches(self, entry: dict) -> bool:
        return self.rows == entry["rows"] and self.hexdigest == entry["content_sha256"]


def digest_events(events: Iterable[StoredEvent]) -> ContentDigest:
    """The digest of a partition as a store yields it (ordered by ts, event_id)."""
    digest = ContentDigest()
    for event in events:
        digest.add(encode(event_row(event)))
    return digest


class _HashingWriter:
    """The file object under the compressor: hashes the compressed bytes as they are written."""

    def __init__(self, handle) -> None:
        self.handle = handle
        self.sha = hashlib.sha256()
        self.size = 0

    def write(self, data) -> int:
        self.sha.update(data)
        self.size += len(data)
        return self.handle.write(data)

    def flush(self) -> None:
        self.handle.flush()


class TableWriter:
    """Writes one table file under a temporary name; `close()` fsyncs it, renames it into place
    and returns its manifest entry (the caller fsyncs the directory once for all files)."""

    def __init__(self, directory: Path, table: str) -> None:
        self.table = table
        self.path = directory / table_file(table)
        self._tmp = directory / f".{self.path.name}.tmp"
        self._handle = open(self._tmp, "wb")  # noqa: SIM115 - closed in close()
        self._raw = _HashingWriter(self._handle)
        self._gzip = gzip.GzipFile(
            filename="", mode="wb", fileobj=self._raw, compresslevel=COMPRESS_LEVEL, mtime=0
        )
        self._pending: list[bytes] = []
        self.content = ContentDigest()

    def write(self, row: dict) -> None:
        line = encode(row)
        self.content.add(line)
        self._pending.append(line)
        if len(self._pending) >= _FLUSH_EVERY:
            self._flush()

    def _flush(self) -> None:
        self._gzip.write(b"".join(self._pending))
        self._pending.clear()

    def close(self) -> dict:
        self._flush()
        self._gzip.close()
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self._handle.close()
        os.replace(self._tmp, self.path)
        return {
            "file": self.path.name,
            "columns": list(TABLE_COLUMNS[self.table]),
            "rows": self.content.rows,
            "bytes": self._raw.size,
            "sha256": self._raw.sha.hexdigest(),
            "content_bytes": self.content.size,
            "content_sha256": self.content.hexdigest,
        }


# -- reading and verifying ------------------------------------------------------------------------


def _drop_from_page_cache(path: Path) -> None:
    """Make the next read come from the disk, not from the pages this process just wrote."""
    if hasattr(os, "posix_fadvise"):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def _lines(path: Path) -> Iterator[bytes]:
    """The lines of a gzip file, newline included, read by large chunks (not line by line)."""
    rest = b""
    with gzip.open(path, "rb") as handle:
        while chunk := handle.read(_READ_CHUNK):
            lines = (rest + chunk).split(b"\n")
            rest = lines.pop()
            for line in lines:
                yield line + b"\n"
    if rest:
        yield rest  # no final newline: the content checksum will tell


def read_rows(directory: Path, entry: dict, *, raw: bool = False) -> Iterator:
    """The rows of a table file, decoded (with `raw`: (line, row) pairs). No checksum check:
    `verify_table` does that. Undecodable content raises ArchiveCorrupt."""
    try:
        for line in _lines(directory / entry["file"]):
            yield (line, orjson.loads(line)) if raw else orjson.loads(line)
    except (OSError, EOFError, zlib.error, orjson.JSONDecodeError) as exc:
        raise ArchiveCorrupt(f"{entry['file']}: {exc}") from exc


def read_events(directory: Path, entry: dict) -> Iterator[StoredEvent]:
    for row in read_rows(directory, entry):
        yield event_from_row(row)


def verify_table(directory: Path, table: str, entry: dict) -> None:
    """Re-read a table file: its size and checksum, every line decoded with exactly the table's
    columns, the row count and the content checksum. Raises ArchiveCorrupt."""
    path = directory / entry["file"]
    if not path.is_file():
        raise ArchiveCorrupt(f"{entry['file']} is missing")
    _drop_from_page_cache(path)
    with open(path, "rb") as handle:
        sha = hashlib.file_digest(handle, "sha256").hexdigest()
    if path.stat().st_size != entry["bytes"] or sha != entry["sha256"]:
        raise ArchiveCorrupt(f"{entry['file']}: checksum differs from the manifest's")
    columns = set(TABLE_COLUMNS[table])
    digest = ContentDigest()
    for line, row in read_rows(directory, entry, raw=True):
        if row.keys() != columns:
            raise ArchiveCorrupt(f"{entry['file']}: line {digest.rows + 1} has other columns")
        digest.add(line)  # written canonical: the bytes on disk are what the checksum covers
    if not digest.matches(entry):
        raise ArchiveCorrupt(f"{entry['file']}: rows or content differ from the manifest's")


def _manifest_sha256(manifest: dict) -> str:
    """The checksum of a manifest's own content (every key but this checksum), canonical JSON."""
    body = {key: value for key, value in manifest.items() if key != "manifest_sha256"}
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()


def write_manifest(directory: Path, manifest: dict) -> None:
    """Write the manifest with its own checksum (so that no field of it can rot unnoticed)."""
    manifest["manifest_sha256"] = _manifest_sha256(manifest)
    write_atomically(directory / MANIFEST, orjson.dumps(manifest, option=orjson.OPT_INDENT_2))


def load_manifest(directory: Path) -> dict:
    """The manifest of an archive directory; ArchiveCorrupt when unreadable, foreign or altered."""
    try:
        manifest = orjson.loads((directory / MANIFEST).read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise ArchiveCorrupt(f"{directory / MANIFEST}: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ArchiveCorrupt(f"{directory / MANIFEST} is not a {FORMAT} manifest")
    if manifest.get("manifest_sha256") != _manifest_sha256(manifest):
        raise ArchiveCorrupt(f"{directory / MANIFEST}: its checksum does not match its content")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise ArchiveCorrupt(
            f"{directory / MANIFEST}: format version {manifest.get('format_version')!r}, "
            f"this code reads {FORMAT_VERSION}"
        )
    if set(manifest.get("tables", {})) != set(TABLES):
        raise ArchiveCorrupt(f"{directory / MANIFEST}: tables {sorted(manifest['tables'])}")
    return manifest


def verify_archive(directory: Path, manifest: dict) -> None:
    """Every table of the archive against the manifest. Raises ArchiveCorrupt."""
    for table in TABLES:
        verify_table(directory, table, manifest["tables"][table])


@dataclass(frozen=True)
class Archive:
    """A committed archive directory and its manifest, as the restorer and the listing see it."""

    directory: Path
    manifest: dict

    @property
    def events(self) -> int:
        return self.manifest["tables"]["events"]["rows"]

    def entry(self, table: str) -> dict:
        return self.manifest["tables"][table]
