import { mount } from "@vue/test-utils";
import { afterEach, describe, expect, it, vi } from "vitest";

import type { LiveSnapshot } from "@/api";
import LiveCounter from "@/components/LiveCounter.vue";
import { mergeEvents } from "@/components/live/feed";
import { REFRESH_AFTER_PUSH_MS } from "@/components/live/useLiveFeed";
import { STALE_AFTER_MS, useLiveStore } from "@/stores/live";
import LiveView from "@/views/app/LiveView.vue";
import { callsTo, FakeSocket, mountScreen, settle, spokenText } from "./helpers";

const T = Date.UTC(2026, 11, 5, 9, 15, 0);

const snapshot: LiveSnapshot = {
  visitors: 2,
  pages: [
    { path: "/pricing", visitors: 1 },
    { path: "/", visitors: 1 },
  ],
  events: [
    { ts: T, type: "element", path: "", name: "Pricing CTA", stages: [] },
    { ts: T - 5000, type: "pageview", path: "/", name: "", stages: ["Landing"] },
  ],
};

const push = {
  type: "realtime",
  app: 3,
  visitors: 3,
  events_per_second: 1.5,
  latest: [
    { ts: T + 2000, type: "click", path: "/products/1", stages: ["Buy"] },
    { ts: T, type: "element", path: "", stages: [] }, // the snapshot's, without its name
  ],
};

afterEach(() => vi.useRealTimers());

async function openLive(timezone = "UTC") {
  const screen = await mountScreen(LiveView, "/apps/3/live", { "GET /api/v1/apps/3/insights/live": { body: snapshot } }, { timezone });
  return { ...screen, socket: FakeSocket.latest() };
}

const figure = (wrapper: Awaited<ReturnType<typeof openLive>>["wrapper"], term: string) =>
  wrapper.findAll("dl.figures > div").find((item) => item.find("dt").text() === term)!.find("dd").text();
const eventTexts = (wrapper: Awaited<ReturnType<typeof openLive>>["wrapper"]) =>
  wrapper.find('[aria-label="Latest events"]').findAll("li").map((li) => spokenText(li.element));

describe("live feed", () => {
  it("keeps each event once, the copy with a name, newest first", () => {
    const merged = mergeEvents(push.latest, snapshot.events);
    expect(merged.map((event) => [event.type, event.name ?? ""])).toEqual([
      ["click", ""],
      ["element", "Pricing CTA"],
      ["pageview", ""],
    ]);
    expect(mergeEvents(push.latest, snapshot.events, 2)).toHaveLength(2);
  });
});

describe("the visitors figure every screen shows", () => {
  it("is the pushed one while pushes flow, else the newest read from the API", async () => {
    const { socket, pinia } = await openLive();
    const live = useLiveStore(pinia);
    socket.open();
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(T);
    socket.receive({ ...push, visitors: 4 });
    live.notePolled(3, 5); // read a moment later, from the event store
    expect(live.visitorsNow(3)).toBe(4);

    vi.setSystemTime(T + STALE_AFTER_MS); // no push for a minute: the count may have decayed
    live.notePolled(3, 1);
    expect(live.visitorsNow(3)).toBe(1);

    socket.receive({ ...push, visitors: 2 });
    expect(live.visitorsNow(3)).toBe(2);
  });
});

describe("live screen", () => {
  it("opens with the API's snapshot, in the app's time zone", async () => {
    const { wrapper } = await openLive("Europe/Berlin");
    expect(figure(wrapper, "Visitors in the last 5 minutes")).toBe("2");
    expect(wrapper.findAll("tbody th").map((th) => th.text())).toEqual(["/pricing", "/"]);
    expect(eventTexts(wrapper)).toEqual(["10:15:00 Element Pricing CTA", "10:14:55 Page view / reached Landing"]);
  });

  it("applies a pushed snapshot without reloading, and agrees with the header's counter", async () => {
    const { wrapper, socket, pinia, router } = await openLive();
    socket.open();
    expect(socket.sent).toContainEqual({ type: "subscribe", app: 3 });
    socket.receive(push);
    await settle();

    expect(figure(wrapper, "Visitors in the last 5 minutes")).toBe("3");
    expect(figure(wrapper, "Events per second")).toBe("1.5");
    expect(eventTexts(wrapper)).toEqual([
      "09:15:02 Click /products/1 reached Buy",
      "09:15:00 Element Pricing CTA",
      "09:14:55 Page view / reached Landing",
    ]);
    const counter = mount(LiveCounter, { props: { appId: 3 }, global: { plugins: [pinia, router] } });
    expect(counter.find("a").attributes("aria-label")).toBe("3 visitors in the last 5 minutes");
  });

  it("reads the pages again shortly after a push (pushes carry none)", async () => {
    const { socket, calls } = await openLive();
    socket.open();
    vi.useFakeTimers();
    const before = callsTo(calls, "live").length;
    socket.receive(push);
    await vi.advanceTimersByTimeAsync(REFRESH_AFTER_PUSH_MS);
    expect(callsTo(calls, "live").length).toBe(before + 1);
  });

  it("says whether it is live", async () => {
    const { wrapper, socket } = await openLive();
    const status = () => wrapper.find('[role="status"]').text();
    expect(status()).toContain("Connecting…");
    socket.open();
    await settle();
    expect(status()).toBe("Live");
    socket.close(1006);
    await settle();
    expect(status()).toContain("Reconnecting…");
  });
});
