import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { defineComponent, h } from "vue";

import TrafficCard from "@/components/traffic/TrafficCard.vue";
import { callsTo, mountAt, overviewFixture, RANGE, settle, spoken } from "./helpers";

/** The chart (a canvas) stands in as what it was asked to draw. */
const ChartStub = defineComponent({
  props: ["metric", "label", "previous", "lastBucket", "description", "points", "selectHint"],
  emits: ["select"],
  setup: (props, { emit }) => () =>
    h(
      "div",
      {
        role: "img",
        "aria-label": props.description,
        "data-metric": props.metric,
        "data-previous": props.previous ? props.previous.length : "none",
        "data-last": String(props.lastBucket),
      },
      props.selectHint ? [h("button", { onClick: () => emit("select", props.points[1]) }, props.selectHint)] : [],
    ),
});

const mountCard = (query: string, overview = overviewFixture(), routes = {}) =>
  mountAt(TrafficCard, `/apps/3?${query}`, { "GET /api/v1/apps/3/insights/overview": { body: overview }, ...routes }, {
    TimeSeriesChart: ChartStub,
  });

const tiles = (wrapper: Awaited<ReturnType<typeof mountCard>>["wrapper"]) =>
  wrapper.findAll('[role="group"] button').map((tile) => ({
    name: spoken(tile.element),
    pressed: tile.attributes("aria-pressed"),
  }));

beforeEach(() => {
  localStorage.clear();
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(new Date("2026-11-20T12:00:00Z"));
});
afterEach(() => vi.useRealTimers());

describe("key figures", () => {
  it("ask for the range and filters in the URL with the previous period, in one request", async () => {
    const { calls } = await mountCard(`${RANGE}&browser=Firefox`);
    const overview = callsTo(calls, "overview");
    expect(overview).toHaveLength(1);
    expect(Object.fromEntries(overview[0]!.query)).toEqual({
      from: "2026-11-01",
      to: "2026-11-07",
      browser: "Firefox",
      compare: "previous",
    });
  });

  it("show each figure with its change, bounce rate in points, visitors plotted by default", async () => {
    const { wrapper } = await mountCard(RANGE);
    const shown = tiles(wrapper);
    expect(shown.map((tile) => tile.name)).toEqual([
      "Unique visitors 1,100, up 10% from the previous period; Previous period (Oct 25 – 31, 2026): 1,000",
      "Page views 3,300, up 10% from the previous period; Previous period (Oct 25 – 31, 2026): 3,000",
      "Sessions 1,200, down 4% from the previous period; Previous period (Oct 25 – 31, 2026): 1,250",
      "Bounce rate 30%, down 2 percentage points from the previous period; Previous period (Oct 25 – 31, 2026): 32%",
      "Session duration 1m 35s, down 5% from the previous period; Previous period (Oct 25 – 31, 2026): 1m 40s",
    ]);
    expect(shown.map((tile) => tile.pressed)).toEqual(["true", "false", "false", "false", "false"]);
    expect(wrapper.find('[role="img"]').attributes("data-metric")).toBe("visitors");
    expect(wrapper.find("h3").text()).toBe("Unique visitors per day");
  });

  it("plot the figure clicked, and put it in the URL for a copied link", async () => {
    const { wrapper, router } = await mountCard(RANGE);
    const bounce = wrapper.findAll('[role="group"] button').find((tile) => tile.text().startsWith("Bounce rate"))!;
    await bounce.trigger("click");
    await settle();
    expect(router.currentRoute.value.query).toMatchObject({ from: "2026-11-01", to: "2026-11-07", metric: "bounce_rate" });
    expect(bounce.attributes("aria-pressed")).toBe("true");
    expect(wrapper.find('[role="img"]').attributes("data-metric")).toBe("bounce_rate");
    expect(wrapper.find('[role="img"]').attributes("aria-label")).toMatch(/^Bounce rate of the sessions started per day/);
  });

  it("open a day chosen in the chart hour by hour", async () => {
    const { wrapper, router } = await mountCard(`${RANGE}&metric=sessions`);
    await wrapper.find('[role="img"] button').trigger("click");
    await settle();
    expect(router.currentRoute.value.query).toMatchObject({ from: "2026-11-02", to: "2026-11-02", metric: "sessions" });
  });

  it("open with the figure a copied link names", async () => {
    const { wrapper } = await mountCard(`${RANGE}&metric=pageviews`);
    expect(tiles(wrapper)[1]!.pressed).toBe("true");
    expect(wrapper.find('[role="img"]').attributes("data-metric")).toBe("pageviews");
  });

  it("compare no rate with a previous period that had no sessions", async () => {
    const quiet = overviewFixture();
    quiet.previous = { ...quiet.previous!, pageviews: 0, visitors: 0, sessions: 0, bounce_rate: 0, avg_session_seconds: 0 };
    const { wrapper } = await mountCard(RANGE, quiet);
    const shown = tiles(wrapper).map((tile) => tile.name);
    expect(shown[0]).toMatch(/, none in the previous period/);
    expect(shown[3]).toBe("Bounce rate 30%");
    expect(shown[4]).toBe("Session duration 1m 35s");
  });

  it("draw the previous period's series on demand, from a second request", async () => {
    const { wrapper, router, calls } = await mountCard(RANGE, overviewFixture(), {
      "GET /api/v1/apps/3/insights/overview": (call: { query: URLSearchParams }) => ({
        body: call.query.get("from") === "2026-10-25" ? overviewFixture({ previous: undefined }) : overviewFixture(),
      }),
    });
    expect(wrapper.find('[role="img"]').attributes("data-previous")).toBe("none");
    await wrapper.find('input[type="checkbox"]').setValue(true);
    await settle();
    expect(router.currentRoute.value.query.compare).toBe("previous");
    const previous = callsTo(calls, "overview").find((call) => call.query.get("from") === "2026-10-25")!;
    expect(Object.fromEntries(previous.query)).toEqual({ from: "2026-10-25", to: "2026-10-31" });
    expect(wrapper.find('[role="img"]').attributes("data-previous")).toBe("3");
  });

  it("draw nothing past the bucket in progress of a range that ends today", async () => {
    vi.setSystemTime(new Date("2026-11-02T12:00:00Z"));
    const { wrapper } = await mountCard("from=2026-11-01&to=2026-11-03");
    expect(wrapper.find('[role="img"]').attributes("data-last")).toBe("1");
  });

  it("say how to get data when there is none", async () => {
    const empty = overviewFixture({ visitors: 0, pageviews: 0, sessions: 0, previous: undefined });
    const { wrapper } = await mountCard(RANGE, empty);
    expect(wrapper.text()).toContain("No visits in this range. Install the snippet on your site to start counting.");
    const install = wrapper.findAll("a").find((link) => link.text() === "Install the snippet")!;
    expect(install.attributes("href")).toBe("/apps/3/install");

    const filtered = await mountCard(`${RANGE}&os=Linux`, empty);
    expect(filtered.wrapper.text()).toContain("No visits match the filters in this range.");
  });

  it("fail on their own, with a retry", async () => {
    let fail = true;
    const { wrapper } = await mountCard(RANGE, overviewFixture(), {
      "GET /api/v1/apps/3/insights/overview": () =>
        fail ? { status: 502, body: { error: { code: "server_error", message: "The server failed." } } } : { body: overviewFixture() },
    });
    expect(wrapper.find('[role="alert"]').text()).toContain("The server failed.");
    fail = false;
    await wrapper.find('[role="alert"] button').trigger("click");
    await settle();
    expect(tiles(wrapper)).toHaveLength(5);
  });
});
