import { mount } from "@vue/test-utils";
import { afterEach, describe, expect, it } from "vitest";

import DateRangePicker from "@/components/DateRangePicker.vue";

function mountPicker(props: Partial<InstanceType<typeof DateRangePicker>["$props"]> = {}) {
  return mount(DateRangePicker, {
    attachTo: document.body,
    props: {
      range: { from: "2026-11-01", to: "2026-11-30" },
      preset: "last-month",
      label: "Last month",
      today: "2026-12-05",
      canGoForward: true,
      timeZone: "Europe/Berlin",
      ...props,
    },
  });
}

function button(wrapper: ReturnType<typeof mountPicker>, name: string) {
  const found = wrapper.findAll("button").find((b) => (b.attributes("aria-label") ?? b.text()).includes(name));
  if (!found) throw new Error(`no button named ${name}`);
  return found;
}

afterEach(() => {
  document.body.innerHTML = "";
});

describe("DateRangePicker", () => {
  it("shows the range's name and opens the presets", async () => {
    const wrapper = mountPicker();
    const trigger = button(wrapper, "Last month");
    expect(trigger.attributes("aria-expanded")).toBe("false");

    await trigger.trigger("click");

    expect(trigger.attributes("aria-expanded")).toBe("true");
    const presets = wrapper.findAll(".preset").map((b) => b.find("span").text());
    expect(presets).toEqual([
      "Today",
      "Yesterday",
      "Last 7 days",
      "Last 30 days",
      "This month",
      "Last month",
      "Last 12 months",
    ]);
    const pressed = wrapper.findAll(".preset").filter((b) => b.attributes("aria-pressed") === "true");
    expect(pressed.map((b) => b.find("span").text())).toEqual(["Last month"]);
  });

  it("emits the preset chosen and closes", async () => {
    const wrapper = mountPicker();
    await button(wrapper, "Last month").trigger("click");

    await wrapper.findAll(".preset").find((b) => b.text().includes("Last 7 days"))!.trigger("click");

    expect(wrapper.emitted("preset")).toEqual([["7d"]]);
    expect(wrapper.find(".panel").exists()).toBe(false);
  });

  it("applies a custom range, and says in words what is wrong with one", async () => {
    const wrapper = mountPicker();
    await button(wrapper, "Last month").trigger("click");
    const inputs = wrapper.findAll<HTMLInputElement>('input[type="date"]');
    expect(inputs).toHaveLength(2);
    expect(wrapper.find("label").attributes("for")).toBe(inputs[0]!.attributes("id"));

    await inputs[0]!.setValue("2026-11-20");
    await inputs[1]!.setValue("2026-11-10");
    await wrapper.find("form").trigger("submit");
    const error = wrapper.find('[role="alert"]');
    expect(error.text()).toBe("The start date must not be after the end date.");
    expect(inputs[0]!.attributes("aria-invalid")).toBe("true");
    expect(inputs[0]!.attributes("aria-describedby")).toBe(error.attributes("id"));
    expect(wrapper.emitted("range")).toBeUndefined();

    await inputs[1]!.setValue("2026-11-25");
    await wrapper.find("form").trigger("submit");
    expect(wrapper.emitted("range")).toEqual([[{ from: "2026-11-20", to: "2026-11-25" }]]);
  });

  it("labels the custom dates and names the time zone they are in", async () => {
    const wrapper = mountPicker();
    await button(wrapper, "Last month").trigger("click");
    const labels = wrapper.findAll("label").map((label) => label.text());
    expect(labels).toEqual(["From", "To"]);
    expect(wrapper.text()).toContain("Europe/Berlin");
  });

  it("refuses ranges longer than the API allows", async () => {
    const wrapper = mountPicker();
    await button(wrapper, "Last month").trigger("click");
    const inputs = wrapper.findAll<HTMLInputElement>('input[type="date"]');
    await inputs[0]!.setValue("2024-01-01");
    await inputs[1]!.setValue("2026-01-01");
    await wrapper.find("form").trigger("submit");
    expect(wrapper.find('[role="alert"]').text()).toBe("Choose at most 366 days.");
  });

  it("closes on Escape and gives focus back to its button", async () => {
    const wrapper = mountPicker();
    const trigger = button(wrapper, "Last month");
    await trigger.trigger("click");

    await wrapper.find(".panel").trigger("keydown", { key: "Escape" });
    await wrapper.vm.$nextTick();

    expect(wrapper.find(".panel").exists()).toBe(false);
    expect(document.activeElement).toBe(trigger.element);
  });

  it("moves to the previous and next period, but not into the future", async () => {
    const wrapper = mountPicker({ canGoForward: false });
    await button(wrapper, "Previous period").trigger("click");
    expect(wrapper.emitted("shift")).toEqual([[-1]]);
    expect(button(wrapper, "Next period").attributes("disabled")).toBeDefined();
  });
});
