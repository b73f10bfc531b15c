import { mount } from "@vue/test-utils";
import { describe, expect, it } from "vitest";

import KpiTile from "@/components/KpiTile.vue";

type TileProps = InstanceType<typeof KpiTile>["$props"];
const tile = (props: Partial<TileProps>) => mount(KpiTile, { props: { label: "Unique visitors", value: null, ...props } });
const change = (wrapper: ReturnType<typeof tile>) => wrapper.find(".kpi-change");
const visibleChange = (wrapper: ReturnType<typeof tile>) => change(wrapper).find('[aria-hidden="true"]').text();

describe("KPI tile", () => {
  it("shows an increase against the previous period as good news", () => {
    const wrapper = tile({ value: 1100, previous: 1000 });
    expect(wrapper.find(".kpi-value").text()).toBe("1,100");
    expect(visibleChange(wrapper)).toBe("↑ 10%");
    expect(change(wrapper).classes()).toContain("good");
    expect(change(wrapper).find(".sr-only").text()).toContain("up 10% from the previous period");
  });

  it("shows a decrease as bad news", () => {
    const wrapper = tile({ value: 750, previous: 1000 });
    expect(visibleChange(wrapper)).toBe("↓ 25%");
    expect(change(wrapper).classes()).toContain("bad");
  });

  it("tells a rate's change in percentage points, and a lower bounce rate is good", () => {
    const lower = tile({ label: "Bounce rate", value: 0.3, previous: 0.32, format: "percent", invert: true, change: "points" });
    expect(lower.find(".kpi-value").text()).toBe("30%");
    expect(visibleChange(lower)).toBe("↓ 2 pp");
    expect(change(lower).classes()).toContain("good");
    expect(change(lower).find(".sr-only").text()).toContain("down 2 percentage points from the previous period");

    const higher = tile({ label: "Bounce rate", value: 0.355, previous: 0.32, format: "percent", invert: true, change: "points" });
    expect(visibleChange(higher)).toBe("↑ 3.5 pp");
    expect(change(higher).classes()).toContain("bad");
  });

  it("says there was nothing before rather than an endless increase", () => {
    const wrapper = tile({ value: 40, previous: 0 });
    expect(visibleChange(wrapper)).toBe("none before");
    expect(change(wrapper).classes()).toContain("flat");
    expect(change(wrapper).find(".sr-only").text()).toContain("none in the previous period");
  });

  it("shows no change without a previous value, and none for zero against zero", () => {
    expect(tile({ value: 40 }).find(".kpi-change").exists()).toBe(false);
    expect(tile({ value: 40, previous: null }).find(".kpi-change").exists()).toBe(false);
    expect(tile({ value: 0, previous: 0 }).find(".kpi-change").exists()).toBe(false);
  });

  it("formats durations and names the previous period on hover", () => {
    const wrapper = tile({ label: "Session duration", value: 95, previous: 100, format: "duration", previousLabel: "Oct 25 – 31, 2026" });
    expect(wrapper.find(".kpi-value").text()).toBe("1m 35s");
    expect(visibleChange(wrapper)).toBe("↓ 5%");
    expect(wrapper.attributes("title")).toBe("Previous period (Oct 25 – 31, 2026): 1m 40s");
  });

  it("is a toggle button when it can be chosen", async () => {
    const wrapper = tile({ value: 1, selectable: true, selected: true });
    expect(wrapper.element.tagName).toBe("BUTTON");
    expect(wrapper.attributes("aria-pressed")).toBe("true");
    await wrapper.trigger("click");
    expect(wrapper.emitted("select")).toHaveLength(1);
  });
});
