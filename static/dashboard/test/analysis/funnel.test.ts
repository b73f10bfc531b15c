import { describe, expect, it } from "vitest";

import type { FunnelReport } from "@/api";
import { formatWindow, stageRows } from "@/components/funnel/funnel";
import FunnelView from "@/views/app/FunnelView.vue";
import { byLabel, callsTo, mountScreen, settle } from "./helpers";

const RANGE = "from=2026-11-01&to=2026-11-30";

const report: FunnelReport = {
  order: "ordered",
  window_seconds: 3600,
  unit: "visitor",
  stages: [
    { name: "Landing", visitors: 200, conversion_from_start: 1, conversion_from_previous: 1, drop_off: 0, median_seconds_from_previous: null },
    { name: "Product", visitors: 120, conversion_from_start: 0.6, conversion_from_previous: 0.6, drop_off: 80, median_seconds_from_previous: 32 },
    { name: "Signup", visitors: 30, conversion_from_start: 0.15, conversion_from_previous: 0.25, drop_off: 90, median_seconds_from_previous: 95.5 },
  ],
};

const config = {
  version: 2,
  locked: true,
  funnel: {
    order: "ordered",
    window_seconds: 3600,
    stages: [
      { name: "Landing", kind: "page", match: "/" },
      { name: "Product", kind: "page", match: "/products/{id}" },
      { name: "Signup", kind: "event", match: "signup" },
    ],
  },
  campaigns: [],
  elements: [],
};

const funnelRoutes = (body: unknown = report) => ({
  "GET /api/v1/apps/3/config": { body: config },
  "GET /api/v1/apps/3/insights/funnel": { body },
  "GET /api/v1/apps/3/insights/funnel/dropoffs": {
    body: {
      stage: 3,
      visitors: [{ visitor: "v-42", last_page: "/products/7", last_seen: Date.UTC(2026, 10, 30, 23, 30) }],
    },
  },
});

describe("funnel stage math", () => {
  it("scales the bars to the first stage and marks what dropped off since the previous one", () => {
    const rows = stageRows(report, config.funnel.stages as never);
    expect(rows.map((row) => row.share)).toEqual([1, 0.6, 0.15]);
    const dropped = rows.map((row) => row.droppedShare);
    expect(dropped[0]).toBe(0);
    expect(dropped[1]).toBeCloseTo(0.4);
    expect(dropped[2]).toBeCloseTo(0.45);
    expect(rows.map((row) => row.fromPrevious)).toEqual([null, 0.6, 0.25]);
    expect(rows.map((row) => row.dropOff)).toEqual([null, 80, 90]);
    expect(rows[1]!.matches).toBe("Page /products/{id}");
  });

  it("scales first-entry counts to the largest, without conversions", () => {
    const rows = stageRows(
      { ...report, distinct: true, stages: [{ name: "A", visitors: 50 }, { name: "B", visitors: 100 }] },
      [],
    );
    expect(rows.map((row) => [row.share, row.droppedShare, row.fromStart, row.dropOff])).toEqual([
      [0.5, 0, null, null],
      [1, 0, null, null],
    ]);
  });

  it("does not describe stages that no longer line up with the configuration", () => {
    const rows = stageRows(report, [{ name: "Home", kind: "page", match: "/" }]);
    expect(rows[0]!.matches).toBeNull();
  });

  it("says the window in words", () => {
    expect(formatWindow(3600)).toBe("1 hour");
    expect(formatWindow(5400)).toBe("1 hour 30 minutes");
    expect(formatWindow(7_776_000)).toBe("90 days");
  });
});

describe("funnel screen", () => {
  it("shows each stage's visitors and conversions, the order mode and the window", async () => {
    const { wrapper } = await mountScreen(FunnelView, `/apps/3/funnel?${RANGE}`, funnelRoutes());
    const stages = wrapper.find('ol[aria-label="Funnel stages"]');
    expect(stages.findAll("h3").map((h) => h.text())).toEqual(["Landing", "Product", "Signup"]);
    expect(stages.text()).toContain("120 visitors");
    expect(stages.text()).toContain("15% of the first stage");
    expect(stages.text()).toContain("25% of Product");
    expect(stages.text()).toContain("median 1m 36s to Signup");
    expect(wrapper.find("dl").text()).toMatch(/Order\s*In order\s*Window\s*1 hour/);
  });

  it("lists the visitors who dropped off when a drop-off is clicked, in the app's time zone", async () => {
    const { wrapper, router, calls } = await mountScreen(
      FunnelView,
      `/apps/3/funnel?${RANGE}&browser=Firefox`,
      funnelRoutes(),
      { timezone: "Asia/Tokyo" },
    );
    const button = wrapper.findAll("button").find((b) => b.text().includes("90 dropped off between Product and Signup"))!;
    expect(button.attributes("aria-pressed")).toBe("false");
    await button.trigger("click");
    await settle();

    expect(router.currentRoute.value.query).toMatchObject({ dropoff: "3", browser: "Firefox" });
    const [request] = callsTo(calls, "funnel/dropoffs");
    expect(Object.fromEntries(request!.query)).toEqual({
      from: "2026-11-01",
      to: "2026-11-30",
      browser: "Firefox",
      stage: "3",
    });
    const panel = wrapper.findAll("section").find((section) => section.find("h2").text() === "Dropped off before Signup")!;
    const row = panel.find("tbody tr");
    expect(row.find("th").text()).toBe("v-42");
    expect(row.text()).toContain("/products/7");
    expect(row.text()).toMatch(/Dec 1, 08:30/); // 23:30 UTC is the next morning in Tokyo
    expect(panel.find("thead").text()).toContain("Last seen (Asia/Tokyo)");
  });

  it("keeps the first-entry count in the URL and asks the API for it", async () => {
    const { wrapper, router, calls } = await mountScreen(FunnelView, `/apps/3/funnel?${RANGE}`, funnelRoutes());
    const toggle = byLabel(wrapper, "First entries only");
    expect(toggle.attributes("role")).toBe("switch");
    await toggle.setValue(true);
    await settle();
    expect(router.currentRoute.value.query.distinct).toBe("true");
    expect(callsTo(calls, "funnel").at(-1)!.query.get("distinct")).toBe("true");
  });

  it("says that first-entry counts do not follow the filters", async () => {
    const distinct = { ...report, distinct: true, stages: report.stages.map(({ name, visitors }) => ({ name, visitors })) };
    const { wrapper } = await mountScreen(FunnelView, `/apps/3/funnel?${RANGE}&distinct=true&os=Linux`, funnelRoutes(distinct));
    expect(wrapper.find('ol[aria-label="First entries per stage"]').exists()).toBe(true);
    expect(wrapper.text()).toContain("the filters do not apply to them");
    expect(wrapper.findAll("button").some((button) => button.text().includes("dropped off"))).toBe(false);
  });

  it("links to the configuration when no stage is configured", async () => {
    const { wrapper } = await mountScreen(
      FunnelView,
      `/apps/3/funnel?${RANGE}`,
      funnelRoutes({ ...report, stages: [] }),
    );
    const link = wrapper.findAll("a").find((a) => a.text() === "Configure the funnel")!;
    expect(link.attributes("href")).toBe("/apps/3/configuration");
  });

  it("links to the install guide when nobody reached the first stage", async () => {
    const empty = { ...report, stages: report.stages.map((stage) => ({ ...stage, visitors: 0 })) };
    const { wrapper } = await mountScreen(FunnelView, `/apps/3/funnel?${RANGE}`, funnelRoutes(empty));
    const link = wrapper.findAll("a").find((a) => a.text() === "Install the snippet")!;
    expect(link.attributes("href")).toBe("/apps/3/install");
  });
});
