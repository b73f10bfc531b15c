import { describe, expect, it } from "vitest";

import PagesView from "@/views/app/PagesView.vue";
import { mountAt, PAGES, RANGE, settle } from "./helpers";

const routes = { "GET /api/v1/apps/3/insights/pages": { body: { results: PAGES } } };
const mountPages = (query = "") => mountAt(PagesView, `/apps/3/pages?${RANGE}${query}`, routes);
type Wrapper = Awaited<ReturnType<typeof mountPages>>["wrapper"];

const rowNames = (wrapper: Wrapper) => wrapper.findAll('tbody th[scope="row"]').map((cell) => cell.text());
const header = (wrapper: Wrapper, name: string) =>
  wrapper.findAll('thead th[scope="col"]').find((cell) => cell.text().startsWith(name))!;
const searchField = (wrapper: Wrapper) => {
  const label = wrapper.findAll("label").find((item) => item.find(".field-label").text() === "Search pages")!;
  return label.find("input");
};

describe("pages screen", () => {
  it("lists every page with its figures, most viewed first", async () => {
    const { wrapper } = await mountPages();
    expect(wrapper.find("h1").text()).toBe("Pages");
    expect(wrapper.findAll('thead th[scope="col"]').map((cell) => cell.text())).toEqual([
      "Page",
      "Page views",
      "Visitors",
      "Time on page",
      "Entries",
      "Exits",
      "Share",
    ]);
    expect(rowNames(wrapper)).toEqual(["/", "/pricing", "/docs", "/blog/launch"]);
    expect(wrapper.find("tbody tr").findAll("td").map((cell) => cell.text())).toEqual(["500", "250", "30s", "300", "100", "59.5%"]);
    expect(wrapper.findAll("button").some((b) => b.attributes("aria-label") === "Download pages as CSV")).toBe(true);
  });

  it("sorts by a column clicked, and keeps the order in the URL", async () => {
    const { wrapper, router } = await mountPages();
    await header(wrapper, "Exits").find("button").trigger("click");
    await settle();
    expect(router.currentRoute.value.query).toMatchObject({ sort: "exits" });
    expect(router.currentRoute.value.query.order).toBeUndefined();
    expect(header(wrapper, "Exits").attributes("aria-sort")).toBe("descending");
    expect(rowNames(wrapper)).toEqual(["/pricing", "/", "/blog/launch", "/docs"]);

    await header(wrapper, "Exits").find("button").trigger("click");
    await settle();
    expect(router.currentRoute.value.query).toMatchObject({ sort: "exits", order: "asc" });
    expect(rowNames(wrapper)).toEqual(["/docs", "/blog/launch", "/", "/pricing"]);
  });

  it("opens a copied link's tab, order and search as they were", async () => {
    const { wrapper } = await mountPages("&tab=exits&sort=exit_rate&order=desc&search=o");
    const tab = wrapper.find('[role="tab"][aria-selected="true"]');
    expect(tab.attributes("aria-label")).toBe("Exit pages");
    expect(wrapper.find("h2").text()).toBe("Exit pages");
    expect(header(wrapper, "Exit rate").attributes("aria-sort")).toBe("descending");
    expect(rowNames(wrapper)).toEqual(["/blog/launch", "/docs"]);
    expect((searchField(wrapper).element as HTMLInputElement).value).toBe("o");
  });

  it("searches the paths, writing the search to the URL, shares still of all pages", async () => {
    const { wrapper, router } = await mountPages();
    await searchField(wrapper).setValue("PRIC");
    await settle();
    expect(router.currentRoute.value.query.search).toBe("PRIC");
    expect(rowNames(wrapper)).toEqual(["/pricing"]);
    expect(wrapper.find("tbody td.share-col").text()).toBe("23.8%");
    expect(wrapper.text()).toContain("1 of 4 pages");

    await searchField(wrapper).setValue("nothing");
    await settle();
    expect(wrapper.text()).toContain("No page matches “nothing”.");
  });

  it("filters every widget by a page clicked", async () => {
    const { wrapper, router } = await mountPages("&tab=entries");
    expect(rowNames(wrapper)).toEqual(["/", "/docs", "/pricing"]);
    await wrapper.find('button[aria-label="Filter by page /docs"]').trigger("click");
    await settle();
    expect(router.currentRoute.value.query).toMatchObject({ tab: "entries", path: "/docs", from: "2026-11-01" });
  });
});
