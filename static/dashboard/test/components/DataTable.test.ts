import { mount } from "@vue/test-utils";
import { describe, expect, it } from "vitest";

import DataTable from "@/components/DataTable.vue";

const rows = [
  { name: "Firefox", visitors: 60, pageviews: 300 },
  { name: "Chrome", visitors: 30, pageviews: 90 },
  { name: "Safari", visitors: 10, pageviews: 12 },
];
const columns = [
  { key: "name" as const, label: "Browser" },
  { key: "visitors" as const, label: "Visitors" },
  { key: "pageviews" as const, label: "Page views" },
];

function widths(wrapper: ReturnType<typeof mount>) {
  return wrapper.findAll('[data-testid="share-bar"]').map((bar) => (bar.element as HTMLElement).style.inlineSize);
}

describe("DataTable", () => {
  it("is a table with a caption and column and row headers", () => {
    const wrapper = mount(DataTable, { props: { caption: "Browsers", columns, rows, rowKey: "name" } });
    expect(wrapper.find("caption").text()).toBe("Browsers");
    expect(wrapper.findAll('thead th[scope="col"]').map((th) => th.text())).toEqual(["Browser", "Visitors", "Page views"]);
    expect(wrapper.findAll('tbody th[scope="row"]').map((th) => th.text())).toEqual(["Firefox", "Chrome", "Safari"]);
    expect(wrapper.findAll("tbody tr")[0]!.findAll("td").map((td) => td.text())).toEqual(["60", "300"]);
  });

  it("draws share bars as wide as each row's share of the total", () => {
    const wrapper = mount(DataTable, {
      props: { caption: "Browsers", columns, rows, rowKey: "name", share: { key: "visitors" } },
    });
    expect(widths(wrapper)).toEqual(["60.00%", "30.00%", "10.00%"]);
    expect(wrapper.findAll("tbody td.share-col").map((td) => td.text())).toEqual(["60%", "30%", "10%"]);
  });

  it("takes the total it is given (visitors overall, not the sum of rows)", () => {
    const wrapper = mount(DataTable, {
      props: { caption: "Pages", columns, rows, rowKey: "name", share: { key: "visitors", total: 80 } },
    });
    expect(widths(wrapper)).toEqual(["75.00%", "37.50%", "12.50%"]);
  });

  it("has no bars without a total", () => {
    const empty = rows.map((row) => ({ ...row, visitors: 0 }));
    const wrapper = mount(DataTable, {
      props: { caption: "Browsers", columns, rows: empty, rowKey: "name", share: { key: "visitors" } },
    });
    expect(widths(wrapper)).toEqual(["0.00%", "0.00%", "0.00%"]);
  });

  it("lets a row be chosen (to filter by it) through a named button", async () => {
    const wrapper = mount(DataTable, {
      props: {
        caption: "Browsers",
        columns,
        rows,
        rowKey: "name",
        selectable: true,
        selectLabel: (row: Record<string, unknown>) => `Filter by browser ${String(row.name)}`,
      },
    });
    await wrapper.find('button[aria-label="Filter by browser Chrome"]').trigger("click");
    expect(wrapper.emitted("select")).toEqual([[rows[1]]]);
  });

  it("shows the first rows of a long table and the rest on demand", async () => {
    const wrapper = mount(DataTable, { props: { caption: "Browsers", columns, rows, rowKey: "name", limit: 2 } });
    expect(wrapper.findAll("tbody tr")).toHaveLength(2);
    const more = wrapper.findAll("button").find((b) => b.text() === "Show all 3")!;
    expect(more.attributes("aria-expanded")).toBe("false");
    await more.trigger("click");
    expect(wrapper.findAll("tbody tr")).toHaveLength(3);
  });
});
