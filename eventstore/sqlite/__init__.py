"""The embedded event store: one SQLite file (WAL), separate from the metadata database.

Tables mirror a Cassandra layout: every key starts with (app_id, epoch).
- `events`: raw events, key (app_id, epoch, day, ts, event_id). The key follows time, so
  inserts land at the end of the B-tree (cheap), and a re-sent event (same ts and id) hits the
  same key: `INSERT OR IGNORE` dedupes without a second, randomly-ordered index on the id.
- `stage_entries`: (app_id, epoch, stage, visitor_id) -> first_ts, the minimum ever seen.
- `visitor_last`: (app_id, epoch, visitor_id) -> session_id, last_ts, the maximum ever seen.
- `partitions`: (app_id, epoch) -> the number of events (a counter, as Cassandra would keep).
- `segments` / `segment_columns`: the same events by columns for the insights
  (`eventstore.columns`), in parts per (app_id, epoch, UTC day), one row per column. An append
  records the keys of its new events in `pending` (cheap, in its transaction); `flush_pending`
  turns pending events into parts, in one transaction (the writer calls it when idle, and an
  append does when too much is pending). Reads take the parts and the pending events in one
  snapshot: always exact. Small parts of a day are merged as they accumulate (`parts.compact`):
  eight parts of one level become one of the next, up to parts of ~64k-256k events. Each part
  also holds its rollup's columns (`eventstore.rollups`, computed when the part is written):
  an unfiltered range reads those of its whole UTC days (schema 3; an upgrade from 2 computes
  them for the parts stored before).
- `dictionary`: (app_id, epoch, kind, value) -> code: the codes of visitor and session ids in
  segments (dense per partition, assigned in the append's transaction), so that reading a
  month of parts looks up no visitor or session strings.

One connection per thread; writes take the write lock up front (BEGIN IMMEDIATE).

- `schema`: the tables, the statements, rows to and from events;
- `codes`: the dictionary of visitor and session codes;
- `parts`: column parts: building, reading, merging;
- `bulk`: imports by columns (generated traffic): rows, parts and per-visitor rows at once;
- `store`: `SQLiteEventStore`, the backend.
"""

from .schema import PAGE_SIZE, SCHEMA_VERSION
from .store import SQLiteEventStore

__all__ = ["PAGE_SIZE", "SCHEMA_VERSION", "SQLiteEventStore"]
