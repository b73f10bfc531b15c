import { mount } from "@vue/test-utils";
import { describe, expect, it } from "vitest";

import { ApiError } from "@/api";
import WidgetCard from "@/components/WidgetCard.vue";

const slots = { default: "<p>The table</p>" };

describe("WidgetCard", () => {
  it("is a region named by its title", () => {
    const wrapper = mount(WidgetCard, { props: { title: "Top pages" }, slots });
    const region = wrapper.find("section");
    const title = wrapper.find("h2");
    expect(region.attributes("aria-labelledby")).toBe(title.attributes("id"));
    expect(title.text()).toBe("Top pages");
    expect(wrapper.text()).toContain("The table");
  });

  it("shows a skeleton while loading, announced as loading", () => {
    const wrapper = mount(WidgetCard, { props: { title: "Top pages", state: "loading" }, slots });
    expect(wrapper.find('[role="status"]').text()).toBe("Loading Top pages…");
    expect(wrapper.findAll(".skeleton").length).toBeGreaterThan(0);
    expect(wrapper.find("section").attributes("aria-busy")).toBe("true");
    expect(wrapper.text()).not.toContain("The table");
  });

  it("shows the error in words with a retry button", async () => {
    const error = new ApiError({ status: 502, code: "server_error", detail: "The server failed to answer (502)." });
    const wrapper = mount(WidgetCard, { props: { title: "Top pages", state: "error", error }, slots });
    expect(wrapper.find('[role="alert"]').text()).toContain("The server failed to answer (502).");
    await wrapper.find("button").trigger("click");
    expect(wrapper.emitted("retry")).toHaveLength(1);
  });

  it("says how to get data when there is none", () => {
    const wrapper = mount(WidgetCard, {
      props: { title: "Top pages", state: "empty", emptyText: "No page views yet: install the snippet." },
      slots,
    });
    expect(wrapper.text()).toContain("No page views yet: install the snippet.");
    expect(wrapper.text()).not.toContain("The table");
  });

  it("keeps the data shown, dimmed, while fresh data loads", () => {
    const wrapper = mount(WidgetCard, { props: { title: "Top pages", state: "ready", busy: true }, slots });
    expect(wrapper.text()).toContain("The table");
    expect(wrapper.find("section").attributes("aria-busy")).toBe("true");
  });
});
