// The bounded, persistent queue of events not yet acknowledged by the server.
// It lives in sessionStorage so that a reload (same tab) does not lose events.

/** One event on the wire (docs/ingest-protocol.md, "Client -> server"). */
export interface Ev {
  id: string;
  type: string;
  ts: number;
  [field: string]: unknown;
}

export interface Queue {
  /** Appends an event; drops the oldest ones beyond the bound. */
  push(ev: Ev): void;
  /** Forgets the events with these ids (acked, rejected or undeliverable). */
  remove(ids: string[]): void;
  /** The unacknowledged events, oldest first. */
  all(): Ev[];
}

export const STORAGE_KEY = "datalab_q";
export const MAX_QUEUE = 500;

export function createQueue(max = MAX_QUEUE): Queue {
  let items: Ev[] = [];
  const save = (next: Ev[]) => {
    items = next.slice(-max);
    try {
      sessionStorage.setItem(STORAGE_KEY, JSON.stringify(items));
    } catch {
      // storage disabled or full: the queue still works in memory
    }
  };
  try {
    const stored = JSON.parse(sessionStorage.getItem(STORAGE_KEY) || "[]");
    save(Array.isArray(stored) ? stored : []);
  } catch {
    save([]); // garbage in storage, or storage disabled
  }
  return {
    push: (ev) => save(items.concat(ev)),
    remove: (ids) => save(items.filter((e) => ids.indexOf(e.id) < 0)),
    all: () => items,
  };
}

/** The UTF-8 size of an event once serialized. */
export const size = (ev: Ev) => new Blob([JSON.stringify(ev)]).size;

/** Room left in a frame for the envelope: {"type":"batch","events":[]} and the HTTP body's token. */
export const ENVELOPE = 256;

/**
 * The longest prefix of `evs` that fits in one batch frame of at most `maxCount`
 * events and `maxBytes` bytes (the frame's envelope included).
 * The first event is always taken, so that a batch is never empty while events wait.
 */
export function chunk(evs: Ev[], maxCount: number, maxBytes: number): Ev[] {
  let bytes = ENVELOPE;
  let n = 0;
  while (n < evs.length && n < maxCount && (bytes += size(evs[n]) + 1) <= maxBytes) n++;
  return evs.slice(0, n || 1);
}
