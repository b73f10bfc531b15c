import { mount, type VueWrapper } from "@vue/test-utils";
import { vi } from "vitest";
import type { Component } from "vue";

import { appFixture, FakeSocket, ME, mockApi, settle, setupApp, storeSession } from "../helpers";

export { FakeSocket };

type Routes = Parameters<typeof mockApi>[0];

/**
 * `screen` mounted at `path` for a logged-in user, with the app (id 3) in `timezone`, the API
 * answering `routes` (and the user and the app), a fake /ws/live, and `stubs` for children.
 */
export async function mountScreen(
  screen: Component,
  path: string,
  routes: Routes,
  { timezone = "UTC", stubs = {} }: { timezone?: string; stubs?: Record<string, Component> } = {},
) {
  FakeSocket.all = [];
  vi.stubGlobal("WebSocket", FakeSocket);
  storeSession();
  const api = mockApi({
    "GET /api/v1/me": { body: ME },
    "GET /api/v1/apps/3": { body: appFixture({ timezone }) },
    ...routes,
  });
  const { pinia, router } = await setupApp(path);
  const wrapper = mount(screen, { global: { plugins: [pinia, router], stubs } });
  await settle();
  return { wrapper, router, pinia, ...api };
}

/** The calls made to an insights endpoint (`funnel`, `funnel/dropoffs`...) of app 3. */
export const callsTo = (calls: ReturnType<typeof mockApi>["calls"], insight: string) =>
  calls.filter((call) => call.path === `/api/v1/apps/3/insights/${insight}`);

export { settle };

/** The form control labelled `text` (its <label for>), as getByLabel finds it. */
export function byLabel(wrapper: VueWrapper, text: string) {
  const label = wrapper.findAll("label").find((item) => item.text() === text);
  if (!label) throw new Error(`no label "${text}"`);
  return wrapper.find(`[id="${label.attributes("for")}"]`);
}

/** What a screen reader reads of `element`: its text without aria-hidden parts, the texts of
 * its elements separated by spaces. */
export function spokenText(element: Element): string {
  const parts: string[] = [];
  const walk = (node: Node) => {
    if (node instanceof Element && node.getAttribute("aria-hidden") === "true") return;
    if (node.nodeType === Node.TEXT_NODE) parts.push(node.textContent ?? "");
    else
      node.childNodes.forEach((child) => {
        walk(child);
        parts.push(" ");
      });
  };
  walk(element);
  return parts.join("").replace(/\s+/g, " ").trim();
}
