import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createQueue, STORAGE_KEY, type Queue } from "../src/queue";
import { createTransport, type Config, type Transport } from "../src/transport";
import { uuid } from "../src/util";
import { FakeWebSocket as WS, freshDom, type Dom } from "./helpers";

const WS_URL = "wss://analytics.example/ws/ingest?token=tok";
const HTTP_URL = "https://analytics.example/api/v1/ingest";

let dom: Dom;
let queue: Queue;
let configs: Config[];
let t: Transport;
let n = 0;

const event = (extra: Record<string, unknown> = {}) => ({ id: uuid(), type: "event", ts: Date.now(), name: `e${n++}`, ...extra });
const send = (count = 1) => {
  const evs = Array.from({ length: count }, () => event());
  evs.forEach((e) => t.send(e));
  return evs.map((e) => e.id);
};
const ids = (evs: { id: string }[]) => evs.map((e) => e.id);
const start = () => {
  queue = createQueue();
  configs = [];
  t = createTransport(WS_URL, HTTP_URL, "tok", queue, (c) => configs.push(c));
};

beforeEach(() => {
  vi.useFakeTimers();
  dom = freshDom();
  WS.install();
  vi.spyOn(Math, "random").mockReturnValue(1); // no jitter unless a test says so
  start();
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

describe("connecting", () => {
  it("opens the socket on the first event, not before", () => {
    expect(WS.instances).toHaveLength(0);
    send();
    expect(WS.instances).toHaveLength(1);
    expect(WS.last.url).toBe(WS_URL);
  });

  it("queues events until the hello, then sends them and hands over the config", () => {
    const sent = send(3);
    vi.advanceTimersByTime(5000);
    expect(WS.last.sent).toEqual([]);
    WS.last.hello({ clicks: ["#buy"] });
    expect(configs[0].clicks).toEqual(["#buy"]);
    expect(WS.last.sent).toEqual([{ type: "batch", events: expect.any(Array) }]);
    expect(ids(WS.last.lastBatch())).toEqual(sent);
  });

  it("sends what a previous page of the tab left in sessionStorage", () => {
    send(2);
    const left = ids(queue.all());
    WS.install(); // the page reloads: a new transport on the same sessionStorage
    start();
    expect(WS.instances).toHaveLength(1);
    WS.last.hello();
    expect(ids(WS.last.lastBatch())).toEqual(left);
  });

  it("never throws when the WebSocket constructor does, and retries with backoff", () => {
    let calls = 0;
    vi.stubGlobal(
      "WebSocket",
      class {
        constructor() {
          calls++;
          throw new Error("SecurityError");
        }
      },
    );
    expect(() => send()).not.toThrow();
    expect(calls).toBe(1);
    vi.advanceTimersByTime(1000);
    expect(calls).toBe(2);
  });

  it("drops an event too large for any frame", () => {
    t.send(event({ props: { s: "x".repeat(70000) } }));
    expect(queue.all()).toEqual([]);
  });
});

describe("batching", () => {
  it("flushes after flush_ms", () => {
    send();
    WS.last.hello({ flush_ms: 500 });
    WS.last.ackLast();
    send(3);
    vi.advanceTimersByTime(499);
    expect(WS.last.sent).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(WS.last.sent).toHaveLength(2);
    expect(WS.last.lastBatch()).toHaveLength(3);
  });

  it("defaults to one second", () => {
    send();
    WS.last.hello({ flush_ms: undefined });
    WS.last.ackLast();
    send();
    vi.advanceTimersByTime(999);
    expect(WS.last.sent).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(WS.last.sent).toHaveLength(2);
  });

  it("flushes at once when 20 events wait", () => {
    send();
    WS.last.hello();
    WS.last.ackLast();
    send(19);
    expect(WS.last.sent).toHaveLength(1);
    send(1);
    expect(WS.last.sent).toHaveLength(2);
    expect(WS.last.lastBatch()).toHaveLength(20);
  });

  it("keeps one batch in flight; the next goes after its ack", () => {
    send();
    WS.last.hello();
    send(5);
    vi.advanceTimersByTime(5000);
    expect(WS.last.sent).toHaveLength(1);
    WS.last.ackLast();
    vi.advanceTimersByTime(1000);
    expect(WS.last.sent).toHaveLength(2);
    expect(WS.last.lastBatch()).toHaveLength(5);
  });

  it("respects max_batch (and never more than 100)", () => {
    send(250);
    WS.last.hello({ max_batch: 1000 });
    const sizes = [];
    while (WS.last.lastBatch().length) {
      sizes.push(WS.last.lastBatch().length);
      WS.last.ackLast();
      if (!queue.all().length) break;
    }
    expect(sizes).toEqual([100, 100, 50]);

    send(70);
    const ws = WS.last;
    ws.drop(1012);
    vi.advanceTimersByTime(1000);
    WS.last.hello({ max_batch: 30 });
    expect(WS.last.lastBatch()).toHaveLength(30);
    expect(ws).not.toBe(WS.last);
  });
});

describe("acks", () => {
  it("forgets acked and rejected events and re-sends the unprocessed ones", () => {
    const [a, b, c] = send(3);
    WS.last.hello();
    expect(ids(WS.last.lastBatch())).toEqual([a, b, c]);
    WS.last.ack([a], [{ id: b, error: "ts_out_of_range" }]);
    expect(ids(queue.all())).toEqual([c]);
    expect(ids(JSON.parse(sessionStorage.getItem(STORAGE_KEY)!))).toEqual([c]);
    vi.advanceTimersByTime(1000);
    expect(ids(WS.last.lastBatch())).toEqual([c]);
    WS.last.ack([c]);
    expect(queue.all()).toEqual([]);
  });

  it("closes a socket whose ack does not come within 10 s, then re-sends", () => {
    const sent = send(2);
    WS.last.hello();
    const ws = WS.last;
    vi.advanceTimersByTime(9999);
    expect(ws.readyState).toBe(1);
    vi.advanceTimersByTime(2);
    expect(ws.readyState).toBe(3);
    vi.advanceTimersByTime(1000);
    expect(WS.instances).toHaveLength(2);
    WS.last.hello();
    expect(ids(WS.last.lastBatch())).toEqual(sent);
  });
});

describe("reconnecting", () => {
  it("re-sends unacked events after a dropped connection", () => {
    const first = send(3);
    WS.last.hello();
    WS.last.drop(1006);
    const later = send(2);
    vi.advanceTimersByTime(1000);
    expect(WS.instances).toHaveLength(2);
    WS.last.hello();
    expect(ids(WS.last.lastBatch())).toEqual([...first, ...later]);
  });

  it("backs off exponentially up to 30 s, with jitter, and starts over after an ack", () => {
    const delays: number[] = [];
    send();
    for (let i = 0; i < 8; i++) {
      const before = WS.instances.length;
      WS.last.drop(1006);
      let waited = 0;
      while (WS.instances.length === before) {
        vi.advanceTimersByTime(100);
        waited += 100;
      }
      delays.push(waited);
    }
    expect(delays).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);

    WS.last.hello();
    WS.last.ackLast();
    send();
    WS.last.drop(1006);
    vi.advanceTimersByTime(999);
    const count = WS.instances.length;
    vi.advanceTimersByTime(1);
    expect(WS.instances.length).toBe(count + 1);
  });

  it("jitters the delay between half and all of it", () => {
    vi.mocked(Math.random).mockReturnValue(0);
    send();
    WS.last.drop(1006); // 1 s -> 0.5 s
    vi.advanceTimersByTime(499);
    expect(WS.instances).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(WS.instances).toHaveLength(2);
    vi.mocked(Math.random).mockReturnValue(0.5);
    WS.last.drop(1006); // 2 s -> 1.5 s
    vi.advanceTimersByTime(1499);
    expect(WS.instances).toHaveLength(2);
    vi.advanceTimersByTime(1);
    expect(WS.instances).toHaveLength(3);
  });

  it("reconnects at once when the browser comes back online", () => {
    send();
    for (let i = 0; i < 5; i++) {
      WS.last.drop(1006);
      vi.advanceTimersByTime(16000);
    }
    WS.last.drop(1006); // the next try is 30 s away
    dom.window.dispatchEvent(new dom.window.Event("online"));
    expect(WS.instances).toHaveLength(7);
    vi.advanceTimersByTime(60000);
    expect(WS.instances).toHaveLength(7); // the backoff timer was cancelled
    dom.window.dispatchEvent(new dom.window.Event("online")); // connected already: nothing
    expect(WS.instances).toHaveLength(7);
  });

  it("does not hold a socket open for nothing: after 4408 with nothing to send, waits for the next event", () => {
    send();
    WS.last.hello();
    WS.last.ackLast();
    WS.last.drop(4408);
    vi.advanceTimersByTime(60000);
    expect(WS.instances).toHaveLength(1);
    const [id] = send();
    expect(WS.instances).toHaveLength(2);
    WS.last.hello();
    expect(ids(WS.last.lastBatch())).toEqual([id]);
  });
});

describe("close codes", () => {
  it.each([4401, 4403])("%i: stops for good", (code) => {
    send();
    WS.last.hello();
    WS.last.drop(code);
    vi.advanceTimersByTime(120000);
    send(30);
    vi.advanceTimersByTime(120000);
    expect(WS.instances).toHaveLength(1);
    t.beacon();
    expect(dom.beacons).toEqual([]);
  });

  it("4401 before any hello (refused handshake) stops too", () => {
    send();
    WS.last.drop(4401);
    vi.advanceTimersByTime(120000);
    expect(WS.instances).toHaveLength(1);
  });

  it("4400: drops the offending batch, reconnects, sends the rest", () => {
    const first = send(3);
    WS.last.hello();
    const later = send(2);
    WS.last.drop(4400);
    expect(ids(queue.all())).toEqual(later);
    vi.advanceTimersByTime(1000);
    WS.last.hello();
    expect(ids(WS.last.lastBatch())).toEqual(later);
    expect(WS.last.events().map((e) => e.id)).not.toContain(first[0]);
  });

  it("4413: halves the batches, and drops an event that is too large alone", () => {
    const sent = send(40);
    WS.last.hello();
    expect(WS.last.lastBatch()).toHaveLength(40);
    WS.last.drop(4413);
    vi.advanceTimersByTime(1000);
    WS.last.hello();
    expect(ids(WS.last.lastBatch())).toEqual(sent.slice(0, 20));
    WS.last.drop(4413);
    vi.advanceTimersByTime(2000);
    WS.last.hello();
    expect(WS.last.lastBatch()).toHaveLength(10);
    expect(queue.all()).toHaveLength(40);

    for (const size of [5, 2, 1]) {
      WS.last.drop(4413);
      vi.advanceTimersByTime(30000);
      WS.last.hello();
      expect(WS.last.lastBatch()).toHaveLength(size);
    }
    WS.last.drop(4413); // a lone event that is still too large: it can never succeed
    expect(ids(queue.all())).toEqual(sent.slice(1));
  });

  it.each([1011, 1012, 4429, 1006])("%i: reconnects with backoff and re-sends", (code) => {
    const sent = send(3);
    WS.last.hello();
    WS.last.drop(code);
    vi.advanceTimersByTime(999);
    expect(WS.instances).toHaveLength(1);
    vi.advanceTimersByTime(1);
    WS.last.hello();
    expect(ids(WS.last.lastBatch())).toEqual(sent);
    WS.last.drop(code);
    vi.advanceTimersByTime(1999);
    expect(WS.instances).toHaveLength(2);
    vi.advanceTimersByTime(1);
    expect(WS.instances).toHaveLength(3);
  });
});

describe("beacon", () => {
  it("sends every unacked event, in flight or not, to the HTTP fallback as text", () => {
    const [a, b] = send(2);
    WS.last.hello();
    WS.last.ack([a]);
    const [c] = send();
    t.beacon();
    expect(dom.beacons).toEqual([{ url: HTTP_URL, body: { token: "tok", type: "batch", events: expect.any(Array) } }]);
    expect(ids(dom.beacons[0].body.events)).toEqual([b, c]);
  });

  it("splits into batches of 100 and stops when the browser refuses more", () => {
    send(250);
    t.beacon();
    expect(dom.beacons.map((x) => x.body.events.length)).toEqual([100, 100, 50]);

    dom.beacons.length = 0;
    let accepted = 1;
    Object.defineProperty(navigator, "sendBeacon", {
      configurable: true,
      value: (url: string, body: string) => accepted-- > 0 && dom.beacons.push({ url, body: JSON.parse(body) }) > 0,
    });
    t.beacon();
    expect(dom.beacons).toHaveLength(1);
  });

  it("does nothing without sendBeacon or without events", () => {
    t.beacon();
    expect(dom.beacons).toEqual([]);
    Object.defineProperty(navigator, "sendBeacon", { configurable: true, value: undefined });
    send();
    expect(() => t.beacon()).not.toThrow();
  });
});
