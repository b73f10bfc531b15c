"""The ingest inbox of capture mode (`DATALAB_INGEST_CAPTURE`): frames as they were acked.

In capture mode the ingest socket checks a frame, appends it here and acks; the processor
(`ingest.processor`, `manage.py process_inbox`) builds and stores its events later. The inbox is
a directory of append-only segment files, one open segment per server process at a time:

- a segment is written by one process only, which holds an exclusive `flock` on it while it
  writes; once that lock is free (the process rotated to a new segment, stopped or died) the
  segment is *sealed*: nothing is appended to it any more;
- a segment's name is the time it was opened and its writer (`<ns>-<writer>-<n>.log`); a
  writer opens its next segment before it seals the last, so a writer with no newer segment
  than a sealed one has stopped;
- a record is a header (`HEADER`: kind, body length, connection number, time received in ms)
  and its body: a connection (`CONNECTION`: the facts the processor rebuilds the connection
  from, JSON), a frame (`FRAME`: the frame's text as received) or the connection's end
  (`CLOSED`, no body). A segment holds the record of every connection before that
  connection's first frame in it, so each segment can be processed alone;
- `<segment>.done` holds how far the processor got (a byte offset, written after each commit);
  a sealed segment processed to its end is deleted with its `.done`.

Records are written once per event-loop tick, for every frame of the tick, by one `os.write`
in the loop thread; each frame's ack waits for that write. Written to the operating system, a
record survives a killed process, not a power cut (the event store's `synchronous=NORMAL`
promises the same). A failed write is cut off again, so a segment never holds half a record
followed by more.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import itertools
import os
import secrets
import struct
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.signals import setting_changed

HEADER = struct.Struct("<BIIq")  # kind, body length, connection number, received (ms)
CONNECTION = 1
FRAME = 2
CLOSED = 3
SEGMENT_BYTES = 64 << 20  # a writer seals its segment and opens the next past this size
READ_BYTES = 4 << 20  # read at most this much of a segment at once (a frame is <= 64 KiB)
SUFFIX = ".log"
DONE = ".done"
BACKLOG_CHECK_SECONDS = 0.25


class InboxFull(Exception):
    """The processor is this far behind: frames wait (and acks with them) until it catches up."""


@dataclass(frozen=True)
class Record:
    kind: int
    connection: int
    received_ms: int
    body: bytes
    end: int  # the byte offset right after the record: the processor's watermark once done

    def encoded(self) -> bytes:
        return header(self.kind, self.connection, self.received_ms, len(self.body)) + self.body


def header(kind: int, connection: int, received_ms: int, length: int = 0) -> bytes:
    """A record's header; its body (`length` bytes) follows it."""
    return HEADER.pack(kind, length, connection, received_ms)


def writer_of(segment: Path) -> str:
    """The writer a segment belongs to (one per server process run)."""
    return segment.name.split("-")[1]


def segments(directory: Path) -> list[Path]:
    """The inbox's segments, oldest first (their names start with the time they were opened)."""
    try:
        names = sorted(n for n in os.listdir(directory) if n.endswith(SUFFIX))
    except FileNotFoundError:
        return []
    return [directory / name for name in names]


def done_offset(segment: Path) -> int:
    """How far the processor got in a segment (0: not started)."""
    try:
        return int(Path(f"{segment}{DONE}").read_text() or 0)
    except (FileNotFoundError, ValueError):
        return 0


def mark_done(segment: Path, offset: int) -> None:
    """Record the processor's progress in a segment (atomically: a crash leaves the old one)."""
    temporary = Path(f"{segment}{DONE}.tmp")
    temporary.write_text(str(offset))
    os.replace(temporary, f"{segment}{DONE}")


def sealed(segment: Path) -> bool:
    """Whether the process that wrote the segment let it go: nothing more will be appended."""
    try:
        fd = os.open(segment, os.O_RDONLY)
    except FileNotFoundError:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)  # closing drops the probe's lock
    return True


def remove(segment: Path) -> None:
    for path in (segment, Path(f"{segment}{DONE}")):
        path.unlink(missing_ok=True)


def backlog_bytes(directory: Path) -> int:
    """Bytes appended to the inbox and not processed yet."""
    total = 0
    for segment in segments(directory):
        try:
            total += os.path.getsize(segment) - done_offset(segment)
        except FileNotFoundError:
            continue  # processed and removed meanwhile
    return total


def read(segment: Path, start: int = 0, *, most: int = READ_BYTES) -> Iterator[Record]:
    """The whole records of a segment from byte `start` on, in up to `most` bytes (a record
    still being written, or cut off by a crash, ends the iteration)."""
    with open(segment, "rb") as file:
        file.seek(start)
        data = file.read(most)
    position, size, header = 0, len(data), HEADER.size
    while position + header <= size:
        kind, length, connection, received = HEADER.unpack_from(data, position)
        end = position + header + length
        if end > size:
            return
        yield Record(kind, connection, received, data[position + header : end], start + end)
        position = end


class InboxWriter:
    """The appending end, one per server process, used from its event-loop thread."""

    def __init__(self, directory: Path, *, segment_bytes: int, backlog_bytes: int) -> None:
        self.directory = Path(directory)
        self.segment_bytes = segment_bytes
        self.backlog_limit = backlog_bytes
        self.name = f"{os.getpid()}x{secrets.token_hex(4)}"
        self.numbers = itertools.count(1)
        self.connections: dict[int, bytes] = {}  # number -> its connection record
        self.in_segment: set[int] = set()  # connections recorded in the open segment
        self.recorded: set[int] = set()  # connections with a record in any segment
        self.fd: int | None = None
        self.size = 0
        self.pending: list[bytes] = []
        self.waiters: list[asyncio.Future] = []
        self.backlog_checked = 0.0
        self.backlog_over = False

    # -- connections ---------------------------------------------------------------------------

    def open_connection(self, facts: bytes) -> int:
        """Number a new connection; its record goes into each segment before its first frame."""
        number = next(self.numbers)
        self.connections[number] = facts
        return number

    def close_connection(self, number: int) -> None:
        """The connection ended: the processor may forget it (no ack waits for this record)."""
        self.connections.pop(number, None)
        if number in self.recorded:
            self.recorded.discard(number)
            with contextlib.suppress(RuntimeError):  # no loop any more: the process stops
                self._pend(header(CLOSED, number, int(time.time() * 1000)))
        self.in_segment.discard(number)

    # -- frames --------------------------------------------------------------------------------

    def full(self) -> bool:
        """Whether the processor's backlog is past its bound (checked a few times a second)."""
        now = time.monotonic()
        if now - self.backlog_checked >= BACKLOG_CHECK_SECONDS:
            self.backlog_checked = now
            self.backlog_over = backlog_bytes(self.directory) > self.backlog_limit
        return self.backlog_over

    def append(self, number: int, received_ms: int, frame: str | bytes) -> asyncio.Future:
        """Append a frame of connection `number`; the future is done once it is written (or
        fails with OSError: nothing of it was kept)."""
        if number not in self.in_segment:
            self.in_segment.add(number)
            self.recorded.add(number)
            facts = self.connections[number]
            self._pend(header(CONNECTION, number, received_ms, len(facts)) + facts)
        body = frame if isinstance(frame, bytes) else frame.encode()
        self._pend(header(FRAME, number, received_ms, len(body)))
        self.pending.append(body)  # not joined to its header: one copy less
        done = asyncio.get_running_loop().create_future()
        self.waiters.append(done)
        return done

    def _pend(self, record: bytes) -> None:
        if not self.pending:
            asyncio.get_running_loop().call_soon(self._write_tick)
        self.pending.append(record)

    def _write_tick(self) -> None:
        pending, waiters = self.pending, self.waiters
        self.pending, self.waiters = [], []
        error = None
        try:
            self._write(b"".join(pending))
        except OSError as exc:
            error = exc
            self.in_segment.clear()  # their records may be what was cut off
        for waiter in waiters:
            if not waiter.done():
                if error is None:
                    waiter.set_result(None)
                else:
                    waiter.set_exception(error)

    def _write(self, data: bytes) -> None:
        if self.fd is None:
            self._open_segment()
        view, start = memoryview(data), self.size
        try:
            while view:
                written = os.write(self.fd, view)
                view = view[written:]
                self.size += written
        except OSError:
            os.ftruncate(self.fd, start)  # never half a record followed by more
            self.size = start
            raise
        if self.size >= self.segment_bytes:
            full = self.fd
            self._open_segment()  # the next one exists before this one is sealed
            os.close(full)

    def _open_segment(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        for attempt in itertools.count():
            name = f"{time.time_ns():020d}-{self.name}-{attempt}{SUFFIX}"
            try:
                fd = os.open(self.directory / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                continue
            break
        fcntl.flock(fd, fcntl.LOCK_EX)
        self.fd, self.size = fd, 0
        self.in_segment.clear()

    def close(self) -> None:
        """Seal the open segment (the process stops, or it is full)."""
        if self.fd is not None:
            os.close(self.fd)  # drops the lock: the segment is sealed
            self.fd = None
        self.in_segment.clear()


_writer: InboxWriter | None = None


def get_inbox() -> InboxWriter:
    """This process's appending end of the inbox configured by the settings."""
    global _writer
    if _writer is None:
        _writer = InboxWriter(
            settings.INGEST_INBOX_DIR,
            segment_bytes=SEGMENT_BYTES,
            backlog_bytes=settings.INGEST_BACKLOG_MB << 20,
        )
    return _writer


def reset_inbox() -> None:
    """Seal this process's segment and forget the writer (the server stops; tests)."""
    global _writer
    if _writer is not None:
        _writer.close()
        _writer = None


def _reset_on_setting_change(*, setting: str, **kwargs) -> None:
    if setting.startswith(("INGEST_INBOX", "INGEST_BACKLOG", "INGEST_CAPTURE")):
        reset_inbox()


setting_changed.connect(_reset_on_setting_change, dispatch_uid="ingest.inbox.reset")
