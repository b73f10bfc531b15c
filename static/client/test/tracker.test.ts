import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { startTracker, type TrackerOptions } from "../src/tracker";
import type { Config } from "../src/transport";
import { freshDom, type Dom } from "./helpers";

const LANDING = "https://shop.example/landing?utm_source=news&utm_campaign=spring";
const HTML = `<!doctype html><title>Home</title><body>
  <div id="buy"><span id="buy-label">Buy</span></div>
  <button data-plan="pro" id="pro">Pro</button>
  <div id="pricing"><a class="cta" id="cta"><b id="cta-inner">Start</b></a><p id="outside">text</p></div>
  <a class="cta" id="other-cta">Elsewhere</a>
</body>`;

let d: Dom;
let events: { type: string; [k: string]: unknown }[];
let hides: number;
let configure: (c: Config) => void;

const start = (opts: TrackerOptions = {}) => {
  configure = startTracker((type, fields) => events.push({ type, ...fields }), opts, () => hides++);
};
const el = (id: string) => d.window.document.getElementById(id)!;
const fire = (target: Element, type: string, init: MouseEventInit = {}) =>
  target.dispatchEvent(new d.window.MouseEvent(type, { bubbles: true, cancelable: true, ...init }));
const types = () => events.map((e) => e.type);
const last = () => events[events.length - 1];

beforeEach(() => {
  vi.useFakeTimers();
  d = freshDom({ html: HTML });
  events = [];
  hides = 0;
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe("page views", () => {
  it("reports the landing page with its full URL, referrer, title, screen and language", () => {
    start();
    expect(events).toEqual([
      { type: "pageview", url: LANDING, referrer: "https://search.example/?q=shop", title: "Home", screen: 1280, lang: "en-US" },
    ]);
  });

  it("follows pushState, with the title the router sets after pushing, and reports leave for the previous page", () => {
    start();
    vi.advanceTimersByTime(3000);
    history.pushState({}, "", "/pricing?plan=pro");
    document.title = "Pricing";
    vi.advanceTimersByTime(0);
    expect(events.slice(1)).toEqual([
      { type: "leave", url: LANDING, duration: 3000 },
      { type: "pageview", url: "https://shop.example/pricing?plan=pro", referrer: LANDING, title: "Pricing", screen: 1280, lang: "en-US" },
    ]);
  });

  it("follows replaceState, popstate and hashchange", () => {
    start();
    history.replaceState(null, "", "/a");
    vi.advanceTimersByTime(0);
    d.go("https://shop.example/b", "popstate");
    vi.advanceTimersByTime(0);
    d.go("https://shop.example/b#details", "hashchange");
    vi.advanceTimersByTime(0);
    const urls = events.filter((e) => e.type == "pageview").map((e) => e.url);
    expect(urls).toEqual([LANDING, "https://shop.example/a", "https://shop.example/b", "https://shop.example/b#details"]);
  });

  it("does not report a page view when the URL did not change", () => {
    start();
    history.replaceState({ scroll: 10 }, "");
    history.pushState({}, "", LANDING);
    d.window.dispatchEvent(new d.window.Event("popstate"));
    vi.advanceTimersByTime(0);
    history.pushState({}, "", "/next");
    d.window.dispatchEvent(new d.window.Event("hashchange")); // the same navigation seen twice
    vi.advanceTimersByTime(0);
    expect(types()).toEqual(["pageview", "leave", "pageview"]);
  });

  it("ignores #hash changes with hash: false", () => {
    start({ hash: false });
    d.go(LANDING + "#faq", "hashchange");
    history.pushState({}, "", "#top");
    vi.advanceTimersByTime(0);
    expect(types()).toEqual(["pageview"]);
    history.pushState({}, "", "/other#x");
    vi.advanceTimersByTime(0);
    expect(last()).toMatchObject({ type: "pageview", url: "https://shop.example/other" });
  });

  it("leaves history alone with spa: false", () => {
    const push = history.pushState;
    start({ spa: false });
    expect(history.pushState).toBe(push);
    history.pushState({}, "", "/x");
    d.go("https://shop.example/y");
    vi.advanceTimersByTime(0);
    expect(types()).toEqual(["pageview"]);
  });

  it("keeps pushState's behaviour: its result, its URL change and its errors", () => {
    start();
    expect(history.pushState({ a: 1 }, "", "/z")).toBeUndefined();
    expect(location.pathname).toBe("/z");
    expect(history.state).toEqual({ a: 1 });
    expect(() => history.pushState({}, "", "https://elsewhere.example/")).toThrow();
  });
});

describe("time on page", () => {
  it("reports leave when the page is hidden, once, and counts visible time only", () => {
    start();
    vi.advanceTimersByTime(4000);
    d.setVisible(false);
    d.window.dispatchEvent(new d.window.Event("pagehide"));
    expect(events.slice(1)).toEqual([{ type: "leave", url: LANDING, duration: 4000 }]);
    expect(hides).toBe(1);

    vi.advanceTimersByTime(60000); // hidden: not counted
    d.setVisible(true);
    vi.advanceTimersByTime(2500);
    d.window.dispatchEvent(new d.window.Event("pagehide")); // the tab is closed
    expect(last()).toEqual({ type: "leave", url: LANDING, duration: 2500 });
    expect(hides).toBe(2);
  });

  it("hands unsent events to the beacon even when the page was never visible", () => {
    d.setVisible(false);
    start();
    d.window.dispatchEvent(new d.window.Event("pagehide"));
    expect(types()).toEqual(["pageview"]);
    expect(hides).toBe(1);
  });
});

describe("clicks", () => {
  it("reports clicks on the hello's selectors, through event delegation", () => {
    start();
    configure({ clicks: ["#buy", "button[data-plan=pro]"] });
    fire(el("buy-label"), "click");
    fire(el("pro"), "click");
    fire(el("outside"), "click");
    expect(events.slice(1)).toEqual([
      { type: "click", url: LANDING, selector: "#buy" },
      { type: "click", url: LANDING, selector: "button[data-plan=pro]" },
    ]);
  });

  it("still sees clicks that the page stops from propagating, and survives invalid selectors", () => {
    start();
    configure({ clicks: ["#buy", "::nonsense((", "#buy span"] });
    el("buy-label").addEventListener("click", (e) => e.stopPropagation());
    expect(() => fire(el("buy-label"), "click")).not.toThrow();
    expect(events.slice(1).map((e) => e.selector)).toEqual(["#buy", "#buy span"]);
  });

  it("reports nothing before the hello", () => {
    start();
    fire(el("buy"), "click");
    expect(types()).toEqual(["pageview"]);
  });
});

describe("tracked elements", () => {
  beforeEach(() => {
    start();
    configure({ elements: [{ name: "pricing-cta", selector: "#pricing a.cta" }] });
  });

  it("reports a hover that ends in a click, with its duration, and no leave after it", () => {
    fire(el("cta-inner"), "mouseover", { relatedTarget: el("outside") });
    vi.advanceTimersByTime(700);
    fire(el("cta-inner"), "mouseout", { relatedTarget: el("cta") }); // moving inside the element
    fire(el("cta"), "mouseover", { relatedTarget: el("cta-inner") });
    vi.advanceTimersByTime(800);
    fire(el("cta-inner"), "click");
    fire(el("cta"), "mouseout", { relatedTarget: el("outside") });
    expect(events.slice(1)).toEqual([{ type: "element", name: "pricing-cta", action: "click", duration: 1500 }]);
  });

  it("reports a hover that ends in leaving", () => {
    fire(el("cta"), "mouseover", { relatedTarget: el("outside") });
    vi.advanceTimersByTime(1200);
    fire(el("cta"), "mouseout", { relatedTarget: el("outside") });
    expect(events.slice(1)).toEqual([{ type: "element", name: "pricing-cta", action: "leave", duration: 1200 }]);
    fire(el("cta"), "mouseover", { relatedTarget: el("outside") }); // a new hover
    vi.advanceTimersByTime(300);
    fire(el("cta"), "mouseout", { relatedTarget: null }); // out of the window
    expect(last()).toEqual({ type: "element", name: "pricing-cta", action: "leave", duration: 300 });
  });

  it("reports a click without hover (touch) with duration 0, and ignores untracked elements", () => {
    fire(el("other-cta"), "mouseover");
    fire(el("other-cta"), "click");
    fire(el("cta"), "click");
    expect(events.slice(1)).toEqual([{ type: "element", name: "pricing-cta", action: "click", duration: 0 }]);
  });
});
