import { describe, expect, it } from "vitest";

import PagesCard from "@/components/traffic/PagesCard.vue";
import SourcesCard from "@/components/traffic/SourcesCard.vue";
import TechnologyCard from "@/components/traffic/TechnologyCard.vue";
import { mountAt, PAGES, RANGE, settle } from "./helpers";

const rowNames = (wrapper: Awaited<ReturnType<typeof mountAt>>["wrapper"]) =>
  wrapper.findAll('tbody th[scope="row"]').map((cell) => cell.text());
const button = (wrapper: Awaited<ReturnType<typeof mountAt>>["wrapper"], name: string) =>
  wrapper.findAll("button").find((item) => (item.attributes("aria-label") ?? item.text()) === name);

const technology = {
  browsers: [
    { name: "Firefox", visitors: 60, pageviews: 200 },
    { name: "Chrome", visitors: 30, pageviews: 90 },
    { name: "(unknown)", visitors: 10, pageviews: 12 },
  ],
  os: [{ name: "Linux", visitors: 100, pageviews: 302 }],
  devices: [{ name: "desktop", visitors: 100, pageviews: 302 }],
};

describe("the overview's tables", () => {
  it("add a row as a filter when it is clicked, keeping the range", async () => {
    const { wrapper, router } = await mountAt(PagesCard, `/apps/3?${RANGE}`, {
      "GET /api/v1/apps/3/insights/pages": { body: { results: PAGES } },
    });
    expect(rowNames(wrapper)).toEqual(["/", "/pricing", "/docs", "/blog/launch"]);
    await button(wrapper, "Filter by page /pricing")!.trigger("click");
    await settle();
    expect(router.currentRoute.value.query).toMatchObject({ from: "2026-11-01", to: "2026-11-07", path: "/pricing" });
  });

  it("show entry and exit pages as tabs kept in the URL, most common first, shares of all", async () => {
    const { wrapper, router } = await mountAt(PagesCard, `/apps/3?${RANGE}&pages=exits`, {
      "GET /api/v1/apps/3/insights/pages": { body: { results: PAGES } },
    });
    const tab = (name: string) => wrapper.findAll('[role="tab"]').find((item) => item.attributes("aria-label") === name)!;
    expect(tab("Exit pages").attributes("aria-selected")).toBe("true");
    expect(rowNames(wrapper)).toEqual(["/pricing", "/", "/blog/launch", "/docs"]);
    expect(wrapper.findAll("tbody td.share-col").map((cell) => cell.text())).toEqual(["51.7%", "34.5%", "10.3%", "3.4%"]);
    const panel = wrapper.find('[role="tabpanel"]');
    expect(panel.attributes("aria-labelledby")).toBe(tab("Exit pages").attributes("id"));

    await tab("Entry pages").trigger("click");
    await settle();
    expect(router.currentRoute.value.query.pages).toBe("entries");
    expect(rowNames(wrapper)).toEqual(["/", "/docs", "/pricing"]);
    expect(wrapper.find("a").attributes("href")).toBe(`/apps/3/pages?from=2026-11-01&to=2026-11-07&tab=entries`);
  });

  it("move between tabs with the arrow keys", async () => {
    const { wrapper, router } = await mountAt(SourcesCard, `/apps/3?${RANGE}`, {
      "GET /api/v1/apps/3/insights/sources": {
        body: { referrers: [{ name: "(direct)", visitors: 5 }], campaigns: [{ name: "Spring", visitors: 4, conversions: 1 }] },
      },
    });
    await wrapper.find('[role="tab"][aria-selected="true"]').trigger("keydown", { key: "ArrowRight" });
    await settle();
    expect(router.currentRoute.value.query.sources).toBe("campaigns");
    expect(wrapper.find("tbody tr").findAll("td").map((cell) => cell.text())).toEqual(["4", "1", "25%", "100%"]);
    await button(wrapper, "Filter by campaign Spring")!.trigger("click");
    await settle();
    expect(router.currentRoute.value.query.campaign).toBe("Spring");
  });

  it("say where campaigns come from when there are none", async () => {
    const { wrapper } = await mountAt(SourcesCard, `/apps/3?${RANGE}&sources=campaigns`, {
      "GET /api/v1/apps/3/insights/sources": { body: { referrers: [{ name: "(direct)", visitors: 5 }], campaigns: [] } },
    });
    expect(wrapper.text()).toContain("No campaign visits in this range");
    expect(wrapper.find('a[href="/apps/3/configuration"]').exists()).toBe(true);
  });

  it("filter by browser, operating system and device, but not by an unknown one", async () => {
    const { wrapper, router } = await mountAt(TechnologyCard, `/apps/3?${RANGE}`, {
      "GET /api/v1/apps/3/insights/technology": { body: technology },
    });
    expect(button(wrapper, "Filter by browser (unknown)")).toBeUndefined();
    expect(rowNames(wrapper)).toContain("(unknown)");
    expect(rowNames(wrapper)).toContain("Desktop");
    await button(wrapper, "Filter by device desktop")!.trigger("click");
    await settle();
    expect(router.currentRoute.value.query.device).toBe("desktop");
    await button(wrapper, "Filter by operating system Linux")!.trigger("click");
    await settle();
    expect(router.currentRoute.value.query).toMatchObject({ device: "desktop", os: "Linux" });
    expect(button(wrapper, "Download technology as CSV")).toBeDefined();
  });
});
