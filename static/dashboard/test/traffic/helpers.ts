import { mount } from "@vue/test-utils";
import type { Component } from "vue";

import type { Overview, PageRow } from "@/api";
import { appFixture, ME, mockApi, settle, setupApp, storeSession } from "../helpers";

export { settle };

type Routes = Parameters<typeof mockApi>[0];

/** `component` mounted at `path` for a logged-in user of app 3, the API answering `routes`. */
export async function mountAt(component: Component, path: string, routes: Routes, stubs: Record<string, Component> = {}) {
  storeSession();
  const api = mockApi({
    "GET /api/v1/me": { body: ME },
    "GET /api/v1/apps/3": { body: appFixture() },
    ...routes,
  });
  const { pinia, router } = await setupApp(path);
  const wrapper = mount(component, { global: { plugins: [pinia, router], stubs }, attachTo: document.body });
  await settle();
  return { wrapper, router, ...api };
}

/** The calls made to an insights endpoint of app 3. */
export const callsTo = (calls: ReturnType<typeof mockApi>["calls"], insight: string) =>
  calls.filter((call) => call.path === `/api/v1/apps/3/insights/${insight}`);

export const RANGE = "from=2026-11-01&to=2026-11-07";

export function overviewFixture(overrides: Partial<Overview> = {}): Overview {
  const point = (t: string, visitors: number) => ({
    t,
    pageviews: visitors * 3,
    visitors,
    sessions: visitors + 1,
    bounce_rate: 0.3,
    avg_session_seconds: 60,
  });
  return {
    pageviews: 3300,
    visitors: 1100,
    sessions: 1200,
    bounce_rate: 0.3,
    avg_session_seconds: 95,
    interval: "day",
    series: ["2026-11-01", "2026-11-02", "2026-11-03"].map((t, i) => point(t, 100 * (i + 1))),
    previous: {
      from: "2026-10-25",
      to: "2026-10-31",
      pageviews: 3000,
      visitors: 1000,
      sessions: 1250,
      bounce_rate: 0.32,
      avg_session_seconds: 100,
    },
    ...overrides,
  };
}

export const page = (path: string, pageviews: number, entries: number, exits: number): PageRow => ({
  path,
  pageviews,
  visitors: Math.round(pageviews / 2),
  avg_seconds: pageviews % 2 ? null : 30,
  entries,
  exits,
});

export const PAGES: PageRow[] = [
  page("/", 500, 300, 100),
  page("/pricing", 200, 20, 150),
  page("/docs", 100, 50, 10),
  page("/blog/launch", 40, 0, 30),
];

/** What a screen reader reads of `element` (a button's name): its text without aria-hidden
 * parts, the texts of its elements apart. */
export function spoken(element: Element): string {
  const parts: string[] = [];
  const walk = (node: Node) => {
    if (node instanceof Element && node.getAttribute("aria-hidden") === "true") return;
    if (node.nodeType === Node.TEXT_NODE) parts.push(node.textContent ?? "");
    else node.childNodes.forEach((child) => parts.push(" ", ...(walk(child), [])));
  };
  walk(element);
  return parts.join("").replace(/\s+/g, " ").replace(/ ([,;])/g, "$1").trim();
}
