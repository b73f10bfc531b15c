"""The processor of capture mode: builds and stores the events of the frames in the inbox.

`manage.py process_inbox` runs one per inbox directory (`serve` starts it in capture mode). It
reads each segment in order, rebuilds each connection from its record (with the sessions its
visitor had when the connection's record was reached: every frame before it is built by then),
builds each frame's events exactly as the direct path does (`services.build_events`, at the
time the frame was received) and stores them through the event store, `BATCH_EVENTS` per
transaction (a full batch through `import_events`, straight into column parts); then it notes
the segment's progress (`inbox.mark_done`). Killed between a commit and its mark, it builds the
same events again from the last mark on, and the store keeps each once (appends are idempotent
by event id). When nothing is left it does the store's deferred work (`flush_pending`), as the
write-behind writer does when idle.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import orjson
from asgiref.sync import sync_to_async

from eventstore import StoredEvent
from ingest import inbox, services
from outbox import services as outbox

log = logging.getLogger(__name__)

BATCH_EVENTS = 5000  # per transaction
FAILED = "failed"  # the inbox's folder of frames that could not be built
RETRY_SECONDS = 1.0  # after the store failed, the next pass starts again from the marks
PASS_EVENTS = 20_000  # per pass (`run_once`): then the realtime view's turn


@dataclass
class _Writer:
    """What the processor knows of one writer (a server process run): its connections."""

    connections: dict[int, services.Connection | None] = field(default_factory=dict)


class Processor:
    def __init__(self, directory: Path, store, *, batch_events: int = BATCH_EVENTS) -> None:
        self.directory = Path(directory)
        self.store = store
        self.batch_events = batch_events
        self.writers: dict[str, _Writer] = {}
        self.positions: dict[Path, int] = {}  # segment -> the end of its last record read
        self.batch: list[StoredEvent] = []
        self.latest: dict[tuple[int, int, str], tuple[str, int]] = {}  # built, not stored yet
        self.skipped = 0  # frames whose connection could not be rebuilt (its app deleted)
        self.failed = 0  # frames that could not be built (kept in FAILED)
        self.notes: list[tuple[int, list[StoredEvent]]] = []  # stored by the last pass

    def run_once(self, most: int = PASS_EVENTS) -> int:
        """Build and store what the inbox holds now, up to about `most` events; return how
        many events were built. `notes` then holds the new events of the pass by app."""
        built = 0
        self.notes = []
        listed = inbox.segments(self.directory)
        for index, segment in enumerate(listed):
            was_sealed = inbox.sealed(segment)  # before reading: then what is read is all
            built += self._segment(segment, most - built)
            if was_sealed and self._read_to_end(segment):
                self._retire(segment, listed[index + 1 :])
            if built >= most:
                break
        return built

    def _segment(self, segment: Path, most: int) -> int:
        # first seen (or the processor restarted): from its start, for its connections' records
        position = self.positions.get(segment, 0)
        done = inbox.done_offset(segment)
        built, writer = 0, self.writers.setdefault(inbox.writer_of(segment), _Writer())
        while built < most:
            records = list(inbox.read(segment, position))
            if not records:
                break
            for record in records:
                built += self._record(segment, writer, record, replayed=record.end <= done)
                position = record.end
                if len(self.batch) >= self.batch_events:
                    self._commit()
                    inbox.mark_done(segment, position)
        self.positions[segment] = position
        if self.batch:
            self._commit()
        if position > done:
            inbox.mark_done(segment, position)
        return built

    def _record(
        self, segment: Path, writer: _Writer, record: inbox.Record, *, replayed: bool
    ) -> int:
        if record.kind == inbox.CONNECTION:
            if record.connection not in writer.connections:  # else: continued from a segment
                writer.connections[record.connection] = self._reopen(record.body)
            return 0
        if record.kind == inbox.CLOSED:
            writer.connections.pop(record.connection, None)
            return 0
        connection = writer.connections.get(record.connection)
        if replayed or record.kind != inbox.FRAME:
            return 0
        if connection is None:
            self.skipped += 1
            return 0
        try:
            raw_events = orjson.loads(record.body)["events"]
            events, _ = services.build_events(connection, raw_events, now_ms=record.received_ms)
        except Exception:  # a frame it cannot build must not stop every other one
            log.exception("inbox: a frame could not be built; kept in %s/", FAILED)
            self._keep_failed(segment, record)
            return 0
        for event in events:
            self.latest[event.app_id, event.epoch, event.visitor_id] = (event.session_id, event.ts)
        self.batch.extend(events)
        return len(events)

    def _keep_failed(self, segment: Path, record: inbox.Record) -> None:
        """Keep a record that could not be built beside the inbox (`failed/<segment>`, in the
        inbox's own format), for an operator to look at and replay."""
        self.failed += 1
        folder = self.directory / FAILED
        folder.mkdir(exist_ok=True)
        with open(folder / segment.name, "ab") as kept:
            kept.write(record.encoded())

    def reset(self) -> None:
        """Forget everything read and built but not marked done: the next pass starts again
        from the marks, as a restarted processor would (after the store failed, say)."""
        self.writers.clear()
        self.positions.clear()
        self.batch = []
        self.latest.clear()
        self.notes = []

    def _reopen(self, facts: bytes) -> services.Connection | None:
        try:
            connection = services.reopen_connection(facts)
        except services.ConnectionRefused as exc:
            log.warning("inbox: a connection's frames are skipped: %s", exc.reason)
            return None
        app_id, epoch, visitor = connection.app_id, connection.epoch, connection.visitor_id
        known = self.latest.get((app_id, epoch, visitor))
        if known is None:
            known = self.store.last_seen(app_id, epoch, [visitor]).get(visitor)
        if known is not None:
            connection.sessions[connection.visitor_id] = known
        return connection

    def _commit(self) -> None:
        batch, self.batch = self.batch, []
        self.latest.clear()
        # A full batch (a backlog) goes straight into column parts; a few events (the processor
        # keeping up) through `append`, their parts built later from pending, as the writer's.
        write = self.store.import_events if len(batch) >= self.batch_events else self.store.append
        result = write(batch)
        if result.new_keys:
            by_app: dict[int, list[StoredEvent]] = {}
            for event in batch:
                if event.key in result.new_keys:
                    by_app.setdefault(event.app_id, []).append(event)
            self.notes.extend(by_app.items())

    def _read_to_end(self, segment: Path) -> bool:
        try:
            return self.positions.get(segment, 0) >= segment.stat().st_size
        except FileNotFoundError:
            return True

    def _retire(self, segment: Path, newer: list[Path]) -> None:
        """A sealed segment read to its end: delete it; once its writer has stopped (no newer
        segment of it), forget that writer's connections."""
        name = inbox.writer_of(segment)
        inbox.remove(segment)
        self.positions.pop(segment, None)
        if not any(inbox.writer_of(later) == name for later in newer):
            self.writers.pop(name, None)


async def run(
    processor: Processor,
    *,
    stop: asyncio.Event,
    parent: int | None = None,
    idle_seconds: float = 0.02,
) -> None:
    """Process the inbox until `stop` is set (or, with `parent`, that process is gone and the
    inbox is drained); stopped, it first builds what the inbox holds. The building runs in one
    worker thread (it uses the ORM and the store); the event loop sends the realtime view's
    pushes meanwhile."""
    build = sync_to_async(processor.run_once, thread_sensitive=True)
    flush = sync_to_async(processor.store.flush_pending, thread_sensitive=True)
    while not stop.is_set():
        try:
            built = await build()
            for app_id, events in processor.notes:
                outbox.note_traffic(app_id, events)  # on the loop, where the realtime view runs
            if built or await flush():
                continue
        except Exception:
            log.exception("inbox: processing failed; starting again from the marks")
            processor.reset()
            await asyncio.sleep(RETRY_SECONDS)
            continue
        if parent is not None and os.getppid() != parent:
            break  # the server is gone: what it appended last is built below
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), idle_seconds)
    while await build():
        pass
