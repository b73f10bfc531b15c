// The websocket transport: batching, acks, re-sends, reconnects, close codes, and the beacon.
// See docs/ingest-protocol.md: the close codes and message shapes are a contract.
import { chunk, ENVELOPE, size, type Ev, type Queue } from "./queue";
import { on, safe } from "./util";

/** The `config` of the server's hello. */
export interface Config {
  clicks?: string[];
  elements?: { name: string; selector: string }[];
  max_batch?: number;
  flush_ms?: number;
  max_frame_bytes?: number;
  visitor_id?: boolean;
}

export interface Transport {
  /** Queues an event; it is sent within flush_ms, or at once when FLUSH_EVERY events wait. */
  send(ev: Ev): void;
  /** Hands every unacked event to navigator.sendBeacon (the page is being hidden or left). */
  beacon(): void;
}

const FLUSH_EVERY = 20;
const MAX_BATCH = 100;
const MAX_FRAME = 65536;
const ACK_TIMEOUT = 10000;
const BACKOFF_BASE = 1000;
const BACKOFF_MAX = 30000;

export function createTransport(
  wsUrl: string,
  httpUrl: string,
  token: string,
  queue: Queue,
  onConfig: (config: Config) => void,
): Transport {
  let ws: WebSocket | null = null;
  let ready = false; // the hello arrived on the current socket
  let stopped = false; // 4401/4403: never again on this page
  let attempt = 0; // failed connections since the last ack
  let retry = 0; // the backoff timer
  let flushTimer = 0;
  let ackTimer = 0;
  let inflight: string[] = []; // ids of the one batch awaiting its ack
  let maxBatch = MAX_BATCH; // the hello's max_batch, halved by 4413 TOO_LARGE
  let maxBytes = MAX_FRAME;
  let flushMs = 1000;

  const connect = () => {
    retry = 0;
    try {
      ws = new WebSocket(wsUrl); // throws on a refused URL, or where there is no WebSocket
    } catch {
      return closed(1006); // backoff; events still leave by the beacon when the page is hidden
    }
    ws.onmessage = safe((m: MessageEvent) => receive(JSON.parse(m.data)));
    ws.onclose = safe((e: CloseEvent) => closed(e.code));
  };

  // the server sends a hello (the one message with a config), then an ack per batch, with both
  // lists (docs/ingest-protocol.md)
  const receive = (msg: { config?: Config; ids: string[]; rejected: { id: string }[] }) => {
    const c = msg.config;
    if (c) {
      maxBatch = Math.min(c.max_batch || maxBatch, maxBatch);
      maxBytes = Math.min(c.max_frame_bytes || maxBytes, maxBytes);
      flushMs = c.flush_ms || flushMs;
      ready = true;
      onConfig(c);
      flush();
    } else {
      // acked and rejected events are done; the rest of the batch was not processed: re-sent
      clearTimeout(ackTimer);
      attempt = 0;
      queue.remove(msg.ids.concat(msg.rejected.map((r) => r.id)));
      inflight = [];
      schedule();
    }
  };

  const closed = (code: number) => {
    ws = null;
    ready = false;
    clearTimeout(ackTimer);
    if (code == 4401 || code == 4403) {
      stopped = true; // BAD_TOKEN, BAD_ORIGIN: do not reconnect until the page reloads
      return;
    }
    // BAD_MESSAGE: the batch can never succeed. TOO_LARGE: halve the batches; a lone event is dropped.
    if (code == 4400 || (code == 4413 && inflight.length < 2)) queue.remove(inflight);
    else if (code == 4413) maxBatch = inflight.length >> 1;
    inflight = [];
    // reconnect when there is something to send (an idle socket closed by 4408 reopens on the next event)
    if (queue.all().length) retry = setTimeout(connect, backoff());
  };

  // exponential, capped, with jitter: half of the delay is random
  const backoff = () => Math.min(BACKOFF_MAX, BACKOFF_BASE * 2 ** attempt++) * (1 + Math.random()) / 2;

  const schedule = () => {
    const n = queue.all().length;
    if (!n) return;
    if (!ws && !retry && !stopped) connect();
    if (n >= FLUSH_EVERY) flush();
    else if (!flushTimer) flushTimer = setTimeout(flush, flushMs);
  };

  const flush = () => {
    clearTimeout(flushTimer);
    flushTimer = 0;
    if (!ready || inflight.length) return;
    const batch = chunk(queue.all(), maxBatch, maxBytes);
    if (!batch.length) return;
    inflight = batch.map((e) => e.id);
    ws!.send(JSON.stringify({ type: "batch", events: batch }));
    ackTimer = setTimeout(() => ws!.close(), ACK_TIMEOUT); // cleared when the socket closes
  };

  // back online: no need to sit out the rest of a long backoff
  on(window, "online", () => retry && (clearTimeout(retry), connect()));
  schedule(); // events kept in sessionStorage by the previous page
  return {
    send(ev) {
      if (stopped || size(ev) + ENVELOPE > MAX_FRAME) return; // could never be delivered
      queue.push(ev);
      schedule();
    },
    beacon() {
      let evs = queue.all();
      while (!stopped && evs.length && navigator.sendBeacon) {
        const batch = chunk(evs, MAX_BATCH, maxBytes);
        if (!navigator.sendBeacon(httpUrl, JSON.stringify({ token, type: "batch", events: batch }))) return;
        evs = evs.slice(batch.length);
      }
    },
  };
}
