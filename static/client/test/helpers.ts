// Test doubles: a fresh jsdom window per test, installed as the globals the snippet uses,
// and a fake WebSocket driven by the test (the "server" side).
import { JSDOM } from "jsdom";
import { vi } from "vitest";

export interface DomOptions {
  url?: string;
  referrer?: string;
  html?: string;
  nav?: Record<string, unknown>; // extra navigator properties (doNotTrack, globalPrivacyControl)
}

export interface Dom {
  dom: JSDOM;
  window: JSDOM["window"];
  beacons: { url: string; body: any }[];
  setVisible(visible: boolean): void;
  go(url: string, event?: "popstate" | "hashchange"): void;
}

/** A new jsdom window installed as window, document, location, history, navigator... */
export function freshDom(o: DomOptions = {}): Dom {
  const dom = new JSDOM(o.html || "<!doctype html><title>Home</title><body></body>", {
    url: o.url || "https://shop.example/landing?utm_source=news&utm_campaign=spring",
    referrer: o.referrer ?? "https://search.example/?q=shop",
    pretendToBeVisual: true,
  });
  const w = dom.window;
  const beacons: Dom["beacons"] = [];
  let state = "visible";
  Object.defineProperty(w.document, "visibilityState", { configurable: true, get: () => state });
  Object.defineProperty(w.document, "hidden", { configurable: true, get: () => state != "visible" });
  Object.defineProperty(w.screen, "width", { configurable: true, value: 1280 });
  const navProps: Record<string, unknown> = {
    sendBeacon: (url: string, body: string) => {
      beacons.push({ url, body: JSON.parse(body) });
      return true;
    },
    ...o.nav,
  };
  for (const [k, v] of Object.entries(navProps)) Object.defineProperty(w.navigator, k, { configurable: true, value: v });
  for (const name of ["window", "document", "location", "history", "navigator", "screen", "sessionStorage", "localStorage"]) {
    vi.stubGlobal(name, (w as any)[name]);
  }
  return {
    dom,
    window: w,
    beacons,
    setVisible(visible) {
      state = visible ? "visible" : "hidden";
      w.document.dispatchEvent(new w.Event("visibilitychange"));
    },
    go(url, event = "popstate") {
      dom.reconfigure({ url });
      w.dispatchEvent(new w.Event(event));
    },
  };
}

export class FakeWebSocket {
  static instances: FakeWebSocket[] = [];
  static get last(): FakeWebSocket {
    return FakeWebSocket.instances[FakeWebSocket.instances.length - 1];
  }
  static install() {
    FakeWebSocket.instances = [];
    vi.stubGlobal("WebSocket", FakeWebSocket);
  }

  readyState = 0;
  sent: any[] = [];
  onmessage: ((m: { data: string }) => void) | null = null;
  onclose: ((e: { code: number }) => void) | null = null;
  constructor(public url: string) {
    FakeWebSocket.instances.push(this);
  }

  send(data: string) {
    if (this.readyState !== 1) throw new Error("InvalidStateError");
    this.sent.push(JSON.parse(data));
  }
  close() {
    // a client-side close: the close event comes later, like in browsers
    this.readyState = 2;
    setTimeout(() => this.drop(1005));
  }

  // the server's side
  hello(config: Record<string, unknown> = {}) {
    this.readyState = 1;
    this.message({ type: "hello", config: { clicks: [], elements: [], max_batch: 100, flush_ms: 1000, max_frame_bytes: 65536, visitor_id: false, ...config } });
  }
  message(msg: unknown) {
    this.onmessage?.({ data: JSON.stringify(msg) });
  }
  ack(ids: string[], rejected: { id: string; error: string }[] = []) {
    this.message({ type: "ack", ids, rejected });
  }
  /** Acks every event of the last batch. */
  ackLast() {
    this.ack(this.lastBatch().map((e: any) => e.id));
  }
  drop(code: number) {
    this.readyState = 3;
    this.onclose?.({ code });
  }
  lastBatch(): any[] {
    const b = this.sent[this.sent.length - 1];
    return b ? b.events : [];
  }
  events(): any[] {
    return this.sent.flatMap((b) => b.events);
  }
}
