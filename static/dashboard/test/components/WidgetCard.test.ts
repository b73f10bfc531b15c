import { mount } from "@vue/test-utils";
import { describe, expect, it, vi } from "vitest";
import { computed, nextTick, ref, shallowRef } from "vue";

import { ApiError } from "@/api";
import WidgetCard from "@/components/WidgetCard.vue";
import type { ResourceState, ResourceStatus } from "@/composables/useResource";

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

  it("shows a resource's states from the resource alone, and retries it", async () => {
    const state = ref<ResourceState>("error");
    const loading = ref(false);
    const reload = vi.fn(async () => {
      state.value = "ready";
      loading.value = true;
    });
    const error = shallowRef<ApiError | null>(new ApiError({ status: 502, code: "server_error", detail: "The server failed to answer (502)." }));
    const resource: ResourceStatus = { state: computed(() => state.value), error, loading, reload };
    const wrapper = mount(WidgetCard, { props: { title: "Top pages", resource }, slots });
    expect(wrapper.find('[role="alert"]').text()).toContain("The server failed to answer (502).");

    await wrapper.find("button").trigger("click");
    await nextTick();

    expect(reload).toHaveBeenCalledTimes(1);
    expect(wrapper.emitted("retry")).toHaveLength(1);
    expect(wrapper.text()).toContain("The table");
    expect(wrapper.find("section").attributes("aria-busy")).toBe("true");
  });

  it("lets a state given besides the resource win (nothing to show in this card)", () => {
    const resource: ResourceStatus = { state: computed(() => "ready"), error: shallowRef(null), loading: ref(false), reload: vi.fn() };
    const wrapper = mount(WidgetCard, { props: { title: "Campaigns", resource, state: "empty", emptyText: "No campaigns." }, slots });
    expect(wrapper.text()).toContain("No campaigns.");
    expect(wrapper.text()).not.toContain("The table");
  });
});
