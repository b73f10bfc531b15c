import { flushPromises, mount } from "@vue/test-utils";
import { createPinia, setActivePinia } from "pinia";
import { defineComponent, h } from "vue";
import { createMemoryHistory, RouterView } from "vue-router";
import { afterEach, beforeEach, vi } from "vitest";

import type { AppConfig } from "@/api";
import { createAppRouter } from "@/router";
import { appFixture, ME, settle, storeSession } from "../helpers";

/** The /ws/live socket of the tab, played by the test: `push` sends a server message. */
export class LiveSocket {
  static current: LiveSocket | null = null;
  static OPEN = 1;
  readyState = 1;
  sent: Record<string, unknown>[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((event: { data: string }) => void) | null = null;
  onclose: ((event: { code: number }) => void) | null = null;

  constructor() {
    LiveSocket.current = this;
    queueMicrotask(() => this.onopen?.());
  }

  send(data: string): void {
    this.sent.push(JSON.parse(data));
  }

  close(): void {
    this.readyState = 3;
  }

  push(message: object): void {
    this.onmessage?.({ data: JSON.stringify(message) });
  }
}

/** Each test starts logged out, with the fake socket, and leaves an empty page. */
export function freshPagePerTest(): void {
  beforeEach(() => {
    localStorage.clear();
    LiveSocket.current = null;
    vi.stubGlobal("WebSocket", LiveSocket);
  });
  afterEach(() => {
    document.body.innerHTML = "";
  });
}

/** The dashboard at `path`, logged in (mock the API first: /me is answered here when missing). */
export async function mountRoute(path: string) {
  storeSession();
  const pinia = createPinia();
  setActivePinia(pinia);
  const router = createAppRouter(createMemoryHistory());
  const Root = defineComponent({ render: () => h(RouterView) });
  const wrapper = mount(Root, { global: { plugins: [router, pinia] }, attachTo: document.body });
  await router.push(path);
  await router.isReady();
  await settle();
  await flushPromises();
  return { wrapper, router, pinia };
}

/** The app of the tests, as a member (not the owner) sees it. */
export function memberApp(overrides: Record<string, unknown> = {}) {
  return appFixture({
    role: "member",
    can: { view: true, edit_config: true, manage: false, issue_token: false, unlock: false, invite: false, delete: false, leave: true },
    ...overrides,
  });
}

export const ME_ROUTE = { "GET /api/v1/me": { body: ME } };

/** The first element whose accessible label (aria-label or <label for>) includes `text`. */
export function byLabel(text: string): HTMLElement {
  const labelled = [...document.querySelectorAll<HTMLElement>("[aria-label]")].find((element) =>
    element.getAttribute("aria-label")!.includes(text),
  );
  if (labelled) return labelled;
  const label = [...document.querySelectorAll("label")].find((element) => element.textContent!.replace(/\s+/g, " ").includes(text));
  const control = label && document.getElementById(label.htmlFor);
  if (!control) throw new Error(`nothing labelled "${text}"`);
  return control;
}

/** The button whose accessible name (aria-label, else text) is `name`, else includes it. */
export function button(name: string): HTMLButtonElement {
  const all = [...document.querySelectorAll<HTMLButtonElement>("button")];
  const nameOf = (element: HTMLButtonElement) => (element.getAttribute("aria-label") ?? element.textContent ?? "").trim();
  const found = all.find((element) => nameOf(element) === name) ?? all.find((element) => nameOf(element).includes(name));
  if (!found) throw new Error(`no button named "${name}"`);
  return found;
}

export const buttons = () =>
  [...document.querySelectorAll<HTMLButtonElement>("button")].map((element) => element.getAttribute("aria-label") ?? element.textContent!.trim());

/** A configuration with every kind of stage, a campaign and an element. */
export function configFixture(overrides: Partial<AppConfig> = {}): AppConfig {
  return {
    version: 4,
    locked: false,
    funnel: {
      order: "strict",
      window_seconds: 3600,
      stages: [
        { name: "Landing", kind: "page", match: "/pricing", query: { plan: "*" } },
        { name: "Buy", kind: "click", match: "#buy" },
        { name: "Signup", kind: "event", match: "signup" },
      ],
    },
    campaigns: [{ name: "Spring", utm_source: "newsletter", utm_campaign: "spring" }],
    elements: [{ name: "CTA", selector: "#pricing a.cta" }],
    ...overrides,
  };
}
