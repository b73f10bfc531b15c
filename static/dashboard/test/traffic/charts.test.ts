import { mount } from "@vue/test-utils";
import { describe, expect, it } from "vitest";

import type { SeriesPoint } from "@/api";
import DataTable from "@/components/DataTable.vue";
import { bucketDetails, bucketTick, timeSeriesOption, type ChartTheme } from "@/composables/useEcharts";

const theme: ChartTheme = { font: "sans", text: "#000", muted: "#777", border: "#ddd", surface: "#fff", series: ["#44f"] };
const point = (t: string, visitors: number, sessions = visitors): SeriesPoint => ({
  t,
  visitors,
  pageviews: visitors * 2,
  sessions,
  bounce_rate: sessions ? 0.5 : 0,
  avg_session_seconds: sessions ? 30 : 0,
});
const points = [point("2026-11-01", 10), point("2026-11-02", 0, 0), point("2026-11-03", 30), point("2026-11-04", 5)];
type Series = { id: string; data: (number | null)[] };
const seriesOf = (option: Record<string, unknown>) => option.series as Series[];

describe("time series chart", () => {
  it("draws the bucket in progress dashed and nothing after it", () => {
    const option = timeSeriesOption({ points, metric: "visitors", label: "Visitors", interval: "day", lastBucket: 2 }, theme);
    const [current, partial] = seriesOf(option as Record<string, unknown>);
    expect(current!.data).toEqual([10, 0, null, null]);
    expect(partial!.id).toBe("partial");
    expect(partial!.data).toEqual([null, 0, 30, null]);
  });

  it("leaves a gap where a bucket has no sessions to have a rate", () => {
    const option = timeSeriesOption({ points, metric: "bounce_rate", label: "Bounce rate", interval: "day", format: "percent" }, theme);
    expect(seriesOf(option as Record<string, unknown>)[0]!.data).toEqual([0.5, null, 0.5, 0.5]);
  });

  it("details a bucket with the previous period's value and day", () => {
    const previous = points.map((item, index) => point(`2026-10-${28 + index}`, item.visitors + 1));
    const input = { points, previous, metric: "visitors" as const, label: "Visitors", interval: "day" as const, lastBucket: 2 };
    const details = bucketDetails(input, theme, 2)!;
    expect(details.title).toMatch(/Nov 3, 2026/);
    expect(details.values.map((item) => [item.name, item.value])).toEqual([
      ["Visitors (so far)", "30"],
      [expect.stringMatching(/Oct 30, 2026/), "31"],
    ]);
    expect(bucketDetails(input, theme, 3)).toBeNull();
  });

  it("labels midnight with its day on an hourly axis over two days", () => {
    expect(bucketTick("2026-11-02T00:00:00+01:00", "hour", 2)).toMatch(/Nov 2/);
    expect(bucketTick("2026-11-02T13:00:00+01:00", "hour", 2)).toBe("13:00");
    expect(bucketTick("2026-11-02T00:00:00+01:00", "hour", 1)).toBe("00:00");
  });
});

describe("sortable table", () => {
  const rows = [
    { name: "b", visitors: 5, seconds: null },
    { name: "a", visitors: 20, seconds: 3 },
    { name: "c", visitors: 10, seconds: 7 },
  ];
  const columns = [
    { key: "name" as const, label: "Name" },
    { key: "visitors" as const, label: "Visitors" },
    { key: "seconds" as const, label: "Seconds" },
  ];
  const names = (wrapper: ReturnType<typeof mount>) => wrapper.findAll("tbody th").map((cell) => cell.text());
  const sortButton = (wrapper: ReturnType<typeof mount>, label: string) =>
    wrapper.findAll("thead button").find((item) => item.text().startsWith(label))!;

  it("sorts numbers most first, names A to Z, and the other way on a second click", async () => {
    const wrapper = mount(DataTable, { props: { caption: "T", columns, rows, rowKey: "name", sortable: true } });
    expect(names(wrapper)).toEqual(["b", "a", "c"]);
    await sortButton(wrapper, "Visitors").trigger("click");
    expect(names(wrapper)).toEqual(["a", "c", "b"]);
    expect(wrapper.emitted("update:sort")).toEqual([[{ key: "visitors", direction: "desc" }]]);
    await sortButton(wrapper, "Visitors").trigger("click");
    expect(names(wrapper)).toEqual(["b", "c", "a"]);
    await sortButton(wrapper, "Name").trigger("click");
    expect(names(wrapper)).toEqual(["a", "b", "c"]);
    expect(wrapper.find("thead th[aria-sort]").text()).toMatch(/^Name/);
    expect(wrapper.find("thead th[aria-sort]").attributes("aria-sort")).toBe("ascending");
  });

  it("puts rows without a value last, either way", async () => {
    const wrapper = mount(DataTable, {
      props: { caption: "T", columns, rows, rowKey: "name", sortable: true, sort: { key: "seconds", direction: "asc" } },
    });
    expect(names(wrapper)).toEqual(["a", "c", "b"]);
    await wrapper.setProps({ sort: { key: "seconds", direction: "desc" } });
    expect(names(wrapper)).toEqual(["c", "a", "b"]);
  });

  it("has plain headers unless sortable", () => {
    const wrapper = mount(DataTable, { props: { caption: "T", columns, rows, rowKey: "name" } });
    expect(wrapper.findAll("thead button")).toHaveLength(0);
    expect(wrapper.find("thead th[aria-sort]").exists()).toBe(false);
  });
});
