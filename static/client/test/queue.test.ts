import { webcrypto } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { chunk, createQueue, size, STORAGE_KEY, type Ev } from "../src/queue";
import { uuid } from "../src/util";
import { freshDom } from "./helpers";

const ev = (i: number, extra: Record<string, unknown> = {}): Ev => ({ id: `id-${i}`, type: "event", ts: 1, name: "n", ...extra });
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

beforeEach(() => {
  freshDom();
});
afterEach(() => {
  vi.unstubAllGlobals();
});

describe("queue", () => {
  it("keeps events in order and forgets removed ids", () => {
    const q = createQueue();
    [1, 2, 3].forEach((i) => q.push(ev(i)));
    q.remove(["id-2", "unknown"]);
    expect(q.all().map((e) => e.id)).toEqual(["id-1", "id-3"]);
  });

  it("is bounded: beyond 500 events the oldest are dropped", () => {
    const q = createQueue();
    for (let i = 0; i < 520; i++) q.push(ev(i));
    expect(q.all()).toHaveLength(500);
    expect(q.all()[0].id).toBe("id-20");
    expect(q.all()[499].id).toBe("id-519");
  });

  it("survives a reload through sessionStorage", () => {
    const q = createQueue();
    q.push(ev(1));
    q.push(ev(2));
    q.remove(["id-1"]);
    expect(JSON.parse(sessionStorage.getItem(STORAGE_KEY)!)).toHaveLength(1);
    expect(createQueue().all().map((e) => e.id)).toEqual(["id-2"]);
  });

  it("applies the bound to what a previous page left", () => {
    sessionStorage.setItem(STORAGE_KEY, JSON.stringify(Array.from({ length: 600 }, (_, i) => ev(i))));
    expect(createQueue().all()).toHaveLength(500);
  });

  it("ignores garbage in storage and works when storage throws", () => {
    sessionStorage.setItem(STORAGE_KEY, "{not json");
    expect(createQueue().all()).toEqual([]);
    vi.stubGlobal("sessionStorage", {
      getItem() {
        throw new Error("SecurityError");
      },
      setItem() {
        throw new Error("QuotaExceededError");
      },
    });
    const q = createQueue();
    q.push(ev(1));
    expect(q.all()).toHaveLength(1);
  });
});

describe("chunk", () => {
  it("takes at most maxCount events", () => {
    const evs = Array.from({ length: 250 }, (_, i) => ev(i));
    expect(chunk(evs, 100, 65536)).toHaveLength(100);
    expect(chunk(evs.slice(0, 7), 100, 65536)).toHaveLength(7);
    expect(chunk([], 100, 65536)).toEqual([]);
  });

  it("keeps the frame under maxBytes, counting UTF-8 bytes", () => {
    const big = (i: number) => ev(i, { props: { s: "é".repeat(5000) } }); // 10 kB each in UTF-8
    const evs = Array.from({ length: 20 }, (_, i) => big(i));
    const taken = chunk(evs, 100, 65536);
    expect(taken).toHaveLength(6);
    const frame = JSON.stringify({ type: "batch", events: taken });
    expect(new TextEncoder().encode(frame).length).toBeLessThanOrEqual(65536);
    expect(size(evs[0])).toBeGreaterThan(10000);
  });

  it("always takes the first event", () => {
    expect(chunk([ev(1, { s: "x".repeat(1000) })], 100, 10)).toHaveLength(1);
  });
});

describe("uuid", () => {
  it("is a v4 made from crypto.getRandomValues, so that pages on plain http (no randomUUID) have it too", () => {
    vi.stubGlobal("crypto", { getRandomValues: (a: Uint8Array) => a.fill(0xff) });
    expect(uuid()).toBe("ffffffff-ffff-4fff-bfff-ffffffffffff");
    vi.stubGlobal("crypto", { getRandomValues: (a: Uint8Array) => webcrypto.getRandomValues(a) });
    const ids = new Set(Array.from({ length: 100 }, () => uuid()));
    expect(ids.size).toBe(100);
    for (const id of ids) expect(id).toMatch(UUID_V4);
  });
});
