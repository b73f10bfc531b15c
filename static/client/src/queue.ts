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
  let items: Ev[] = load();
  const save = () => {
    try {
      sessionStorage.setItem(STORAGE_KEY, JSON.stringify(items));
    } catch {
      // storage disabled or full: the queue still works in memory
    }
  };
  if (items.length > max) items = items.slice(-max);
  return {
    push(ev) {
      items.push(ev);
      if (items.length > max) items = items.slice(-max);
      save();
    },
    remove(ids) {
      if (!ids.length) return;
      const gone = new Set(ids);
      items = items.filter((e) => !gone.has(e.id));
      save();
    },
    all: () => items,
  };
}

function load(): Ev[] {
  try {
    const v = JSON.parse(sessionStorage.getItem(STORAGE_KEY) || "[]");
    return Array.isArray(v) ? v : [];
  } catch {
    return [];
  }
}

/** The UTF-8 size of an event once serialized. */
export const size = (ev: Ev) => new TextEncoder().encode(JSON.stringify(ev)).length;

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
  return evs.slice(0, Math.max(n, 1));
}
