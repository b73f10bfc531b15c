import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { useAppsStore } from "@/stores/apps";
import { useFiltersStore } from "@/stores/filters";
import { appFixture, ME, mockApi, settle, setupApp, storeSession } from "../helpers";

/** 2026-11-30 20:00 UTC: already December 1st in Auckland, still November 30th in Los Angeles. */
const INSTANT = new Date("2026-11-30T20:00:00Z");

async function openApp(path: string, timezone = "UTC") {
  storeSession();
  mockApi({
    "GET /api/v1/me": { body: ME },
    "GET /api/v1/apps/3": { body: appFixture({ timezone }) },
  });
  const context = await setupApp(path);
  const apps = useAppsStore();
  await settle();
  expect(apps.current?.timezone).toBe(timezone);
  return { ...context, filters: useFiltersStore() };
}

beforeEach(() => {
  localStorage.clear();
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(INSTANT);
});
afterEach(() => vi.useRealTimers());

describe("filters store", () => {
  it("reads the range and the filters from the URL", async () => {
    const { filters } = await openApp("/apps/3/pages?from=2026-11-01&to=2026-11-15&browser=Firefox&path=/pricing&os=");

    expect(filters.range).toEqual({ from: "2026-11-01", to: "2026-11-15" });
    expect(filters.preset).toBe("custom");
    expect(filters.filters).toEqual({ browser: "Firefox", path: "/pricing" });
    expect(filters.params).toEqual({ from: "2026-11-01", to: "2026-11-15", browser: "Firefox", path: "/pricing" });
  });

  it("writes what the user chooses to the URL, keeping the rest", async () => {
    const { filters, router } = await openApp("/apps/3/pages?from=2026-11-01&to=2026-11-15&tab=entries");

    await filters.setFilter("browser", "Firefox");
    await filters.setFilter("path", "/pricing");
    expect(router.currentRoute.value.query).toEqual({
      from: "2026-11-01",
      to: "2026-11-15",
      tab: "entries",
      browser: "Firefox",
      path: "/pricing",
    });

    await filters.removeFilter("browser");
    expect(router.currentRoute.value.query.browser).toBeUndefined();
    await filters.setPreset("7d");
    expect(router.currentRoute.value.query).toMatchObject({ from: "2026-11-24", to: "2026-11-30", path: "/pricing" });
    await filters.clearFilters();
    expect(router.currentRoute.value.query).toEqual({ from: "2026-11-24", to: "2026-11-30", tab: "entries" });
  });

  it("gives a colleague opening the copied URL the same state", async () => {
    const first = await openApp("/apps/3");
    await first.filters.setRange({ from: "2026-10-01", to: "2026-10-31" });
    await first.filters.setFilter("referrer", "news.example.org");
    const url = first.router.currentRoute.value.fullPath;

    const second = await openApp(url);

    expect(second.filters.range).toEqual({ from: "2026-10-01", to: "2026-10-31" });
    expect(second.filters.filters).toEqual({ referrer: "news.example.org" });
    expect(second.filters.preset).toBe("last-month");
  });

  it("counts presets in the app's time zone, not the browser's", async () => {
    const auckland = await openApp("/apps/3", "Pacific/Auckland");
    expect(auckland.filters.today).toBe("2026-12-01");
    await auckland.filters.setPreset("today");
    expect(auckland.filters.range).toEqual({ from: "2026-12-01", to: "2026-12-01" });
    await auckland.filters.setPreset("month");
    expect(auckland.filters.range).toEqual({ from: "2026-12-01", to: "2026-12-01" });

    const losAngeles = await openApp("/apps/3", "America/Los_Angeles");
    expect(losAngeles.filters.today).toBe("2026-11-30");
    await losAngeles.filters.setPreset("today");
    expect(losAngeles.filters.range).toEqual({ from: "2026-11-30", to: "2026-11-30" });
    await losAngeles.filters.setPreset("last-month");
    expect(losAngeles.filters.range).toEqual({ from: "2026-10-01", to: "2026-10-31" });
  });

  it("defaults to the last 30 days of the app's time zone, as the API does", async () => {
    const { filters } = await openApp("/apps/3", "Pacific/Auckland");
    expect(filters.preset).toBe("30d");
    expect(filters.range).toEqual({ from: "2026-11-02", to: "2026-12-01" });
  });

  it("compares with the previous period of the same length", async () => {
    const { filters } = await openApp("/apps/3?from=2026-11-10&to=2026-11-16&device=Mobile");
    expect(filters.previous).toEqual({ from: "2026-11-03", to: "2026-11-09" });
    expect(filters.previousParams).toEqual({ from: "2026-11-03", to: "2026-11-09", device: "Mobile" });
  });

  it("moves whole months by a month and other ranges by their length", async () => {
    const { filters } = await openApp("/apps/3?from=2026-10-01&to=2026-10-31");
    await filters.shift(-1);
    expect(filters.range).toEqual({ from: "2026-09-01", to: "2026-09-30" });
    await filters.setRange({ from: "2026-11-20", to: "2026-11-22" });
    await filters.shift(1);
    expect(filters.range).toEqual({ from: "2026-11-23", to: "2026-11-25" });
  });

  it("ignores a range the API would refuse", async () => {
    for (const query of ["from=2026-11-30&to=2026-11-01", "from=2026-02-30", "from=2024-01-01&to=2026-01-01"]) {
      const { filters } = await openApp(`/apps/3?${query}`);
      expect(filters.preset).toBe("30d");
    }
  });

  it("fills a missing end or start as the API does", async () => {
    const { filters } = await openApp("/apps/3?to=2026-11-15");
    expect(filters.range).toEqual({ from: "2026-10-17", to: "2026-11-15" });
  });
});
