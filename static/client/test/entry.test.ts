// The two ways in (ESM init/track, the script tag's bundle) and the privacy switches.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { endpoints, start } from "../src/core";
import { FakeWebSocket as WS, freshDom, type Dom, type DomOptions } from "./helpers";

const BUNDLE = fileURLToPath(new URL("../dist/datalab.js", import.meta.url));
const SCRIPT_SRC = "https://analytics.example/static/datalab.js";

let d: Dom;
const setup = (o: DomOptions = {}) => {
  d = freshDom(o);
  WS.install();
};

beforeEach(() => {
  vi.useFakeTimers();
  setup();
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
  vi.resetModules();
});

describe("endpoints", () => {
  it("derive the websocket and HTTP URLs from the host", () => {
    expect(endpoints("analytics.example", "a b")).toEqual(["wss://analytics.example/ws/ingest?token=a%20b", "https://analytics.example/api/v1/ingest"]);
    expect(endpoints(SCRIPT_SRC, "t")).toEqual(["wss://analytics.example/ws/ingest?token=t", "https://analytics.example/api/v1/ingest"]);
    expect(endpoints("http://127.0.0.1:8000", "t")).toEqual(["ws://127.0.0.1:8000/ws/ingest?token=t", "http://127.0.0.1:8000/api/v1/ingest"]);
  });
});

describe("privacy", () => {
  const opts = { token: "tok", host: "analytics.example" };

  it("tracks by default, and sets no cookie", () => {
    start(opts);
    expect(WS.instances).toHaveLength(1);
    WS.last.hello();
    expect(WS.last.lastBatch()[0]).toMatchObject({ type: "pageview" });
    expect(document.cookie).toBe("");
  });

  it.each([
    ["Do-Not-Track", { doNotTrack: "1" }],
    ["Global Privacy Control", { globalPrivacyControl: true }],
  ])("respects %s", (_, nav) => {
    setup({ nav });
    const track = start(opts);
    track("x");
    vi.advanceTimersByTime(5000);
    d.window.dispatchEvent(new d.window.Event("pagehide"));
    expect(WS.instances).toHaveLength(0);
    expect(d.beacons).toEqual([]);
    expect(sessionStorage.length).toBe(0);
  });

  it("ignores DNT and GPC when the site opts out with respectDnt: false", () => {
    setup({ nav: { doNotTrack: "1", globalPrivacyControl: true } });
    start({ ...opts, respectDnt: false });
    expect(WS.instances).toHaveLength(1);
  });

  it("honours the opt-out switch localStorage.datalab_ignore, even with respectDnt: false", () => {
    localStorage.setItem("datalab_ignore", "true");
    start({ ...opts, respectDnt: false });
    expect(WS.instances).toHaveLength(0);
  });

  it("does nothing without a token", () => {
    start({ token: "", host: "analytics.example" });
    expect(WS.instances).toHaveLength(0);
  });
});

describe("the whole snippet", () => {
  it("hands the unacked page view and the leave to sendBeacon when the page is hidden", () => {
    start({ token: "tok", host: "analytics.example" });
    WS.last.hello();
    vi.advanceTimersByTime(2000);
    d.setVisible(false);
    expect(d.beacons).toHaveLength(1);
    expect(d.beacons[0].url).toBe("https://analytics.example/api/v1/ingest");
    expect(d.beacons[0].body.token).toBe("tok");
    expect(d.beacons[0].body.events.map((e: any) => e.type)).toEqual(["pageview", "leave"]);
    // the same events may still go over the socket: the server dedups by id
    WS.last.ackLast();
    vi.advanceTimersByTime(1000);
    expect(WS.last.lastBatch().map((e: any) => e.id)).toEqual([d.beacons[0].body.events[1].id]);
  });

  it("on pagehide alone, hands over only what is unacked (the leave)", () => {
    start({ token: "tok", host: "analytics.example" });
    WS.last.hello();
    WS.last.ackLast();
    d.window.dispatchEvent(new d.window.Event("pagehide")); // hidden without a visibilitychange
    expect(d.beacons.map((b) => b.body.events.map((e: any) => e.type))).toEqual([["leave"]]);
  });
});

describe("ESM entry", () => {
  it("queues track() calls made before init() and before the socket is open", async () => {
    const { init, track } = await import("../src/index");
    track("early", { plan: "pro" });
    init({ token: "tok", host: "analytics.example" });
    init({ token: "other", host: "elsewhere.example" }); // ignored
    track("signup");
    expect(WS.instances.map((w) => w.url)).toEqual(["wss://analytics.example/ws/ingest?token=tok"]);
    WS.last.hello();
    expect(WS.last.lastBatch().map((e) => [e.type, e.name, e.props])).toEqual([
      ["pageview", undefined, undefined],
      ["event", "early", { plan: "pro" }],
      ["event", "signup", undefined],
    ]);
    for (const e of WS.last.lastBatch()) expect(e.ts).toBe(Date.now());
  });

  it("never throws into the host page", async () => {
    const { init, track } = await import("../src/index");
    vi.stubGlobal("location", undefined); // a hostile environment
    expect(() => init({ token: "tok", host: "analytics.example" })).not.toThrow();
    expect(() => track("x")).not.toThrow();
    expect(() => init(undefined as any)).not.toThrow();
  });
});

describe("ESM build (dist/index.mjs)", () => {
  it("exports init and track", async () => {
    const { init, track } = await import("../dist/index.mjs" as string);
    track("before");
    init({ token: "tok", host: "http://127.0.0.1:8000" });
    expect(WS.last.url).toBe("ws://127.0.0.1:8000/ws/ingest?token=tok");
    WS.last.hello();
    expect(WS.last.lastBatch().map((e: any) => e.type)).toEqual(["pageview", "event"]);
  });
});

describe("script-tag bundle (dist/datalab.js)", () => {
  const load = (attrs = "", stub = "") => {
    setup({ html: `<!doctype html><title>Home</title><script async src="${SCRIPT_SRC}" data-token="tok" ${attrs}></script>` });
    if (stub) new Function(stub)();
    new Function(readFileSync(BUNDLE, "utf8"))();
  };

  it("takes the host from its own URL and the token from data-token", () => {
    load();
    expect(WS.last.url).toBe("wss://analytics.example/ws/ingest?token=tok");
    WS.last.hello();
    expect(WS.last.lastBatch()[0]).toMatchObject({ type: "pageview", url: "https://shop.example/landing?utm_source=news&utm_campaign=spring" });
  });

  it("exposes window.datalab.track and replays the calls of a stub", () => {
    load("", "window.datalab = window.datalab || { q: [], track: function () { this.q.push(arguments) } }; window.datalab.track('stubbed', { a: 1 })");
    (window as any).datalab.track("later");
    WS.last.hello();
    expect(WS.last.lastBatch().map((e) => e.name)).toEqual([undefined, "stubbed", "later"]);
  });

  it("honours data-respect-dnt and DNT", () => {
    setup({ nav: { doNotTrack: "1" } });
    const code = readFileSync(BUNDLE, "utf8");
    const run = (attrs: string) => {
      d.window.document.body.innerHTML = `<script src="${SCRIPT_SRC}" data-token="tok" ${attrs}></script>`;
      delete (window as any).datalab;
      new Function(code)();
    };
    run("");
    expect(WS.instances).toHaveLength(0);
    expect(() => (window as any).datalab.track("x")).not.toThrow();
    run('data-respect-dnt="false"');
    expect(WS.instances).toHaveLength(1);
  });

  it("does nothing without a token, and never throws", () => {
    setup({ html: `<script src="${SCRIPT_SRC}"></script>` });
    vi.stubGlobal("sessionStorage", undefined);
    expect(() => new Function(readFileSync(BUNDLE, "utf8"))()).not.toThrow();
    expect(WS.instances).toHaveLength(0);
  });
});
