import { mount } from "@vue/test-utils";
import { describe, expect, it } from "vitest";

import FilterChips from "@/components/FilterChips.vue";

describe("FilterChips", () => {
  it("shows each filter in words with a named remove button", async () => {
    const wrapper = mount(FilterChips, { props: { filters: { path: "/pricing", browser: "Firefox" } } });

    const chips = wrapper.findAll("li").map((li) => li.find(".chip-text").text().replace(/\s+/g, " "));
    expect(chips).toEqual(["Browser is Firefox", "Page is /pricing"]);

    const remove = wrapper.find('button[aria-label="Remove filter Page: /pricing"]');
    await remove.trigger("click");
    expect(wrapper.emitted("remove")).toEqual([["path"]]);
  });

  it("offers to clear all filters when there are several", async () => {
    const wrapper = mount(FilterChips, { props: { filters: { os: "Linux", device: "Desktop" } } });
    const clear = wrapper.findAll("button").find((b) => b.text() === "Clear all filters");
    await clear!.trigger("click");
    expect(wrapper.emitted("clear")).toHaveLength(1);

    await wrapper.setProps({ filters: { os: "Linux" } });
    expect(wrapper.findAll("button").some((b) => b.text() === "Clear all filters")).toBe(false);
  });

  it("renders nothing without filters", () => {
    const wrapper = mount(FilterChips, { props: { filters: {} } });
    expect(wrapper.find('[role="group"]').exists()).toBe(false);
  });
});
