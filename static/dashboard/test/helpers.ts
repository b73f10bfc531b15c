import { createPinia, setActivePinia, type Pinia } from "pinia";
import { createApp, type App } from "vue";
import { createMemoryHistory, type Router } from "vue-router";
import { vi } from "vitest";

import { createAppRouter } from "@/router";

/** A JWT-shaped token (not signed: the client only reads `exp`). */
export function fakeJwt(name: string, expiresInSeconds = 900): string {
  const encode = (value: object) =>
    btoa(JSON.stringify(value)).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
  const exp = Math.floor(Date.now() / 1000) + expiresInSeconds;
  return `${encode({ alg: "HS256", typ: "JWT" })}.${encode({ sub: "1", name, exp })}.signature`;
}

export interface RecordedCall {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string>;
  body: unknown;
}

type Reply = { status?: number; body?: unknown; text?: string; delay?: Promise<unknown> };
type Handler = (call: RecordedCall) => Reply | Promise<Reply>;

/**
 * Replaces `fetch` with the given routes ("GET /api/v1/me" -> handler). Unknown requests answer
 * the API's JSON 404. Returns the calls made, in order.
 */
export function mockApi(routes: Record<string, Handler | Reply>) {
  const calls: RecordedCall[] = [];
  const fetchMock = vi.fn(async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const url = new URL(String(input), "http://localhost");
    const call: RecordedCall = {
      method: (init.method ?? "GET").toUpperCase(),
      path: url.pathname,
      query: url.searchParams,
      headers: Object.fromEntries(Object.entries((init.headers as Record<string, string>) ?? {})),
      body: typeof init.body === "string" ? JSON.parse(init.body) : undefined,
    };
    calls.push(call);
    const route = routes[`${call.method} ${call.path}`];
    const reply: Reply = route
      ? typeof route === "function"
        ? await route(call)
        : route
      : { status: 404, body: { error: { code: "not_found", message: "Not found." } } };
    if (reply.delay) await reply.delay;
    const status = reply.status ?? 200;
    const text = reply.text ?? (reply.body === undefined ? "" : JSON.stringify(reply.body));
    return new Response(status === 204 ? null : text, {
      status,
      headers: { "Content-Type": reply.text !== undefined ? "text/html" : "application/json" },
    });
  });
  vi.stubGlobal("fetch", fetchMock);
  return { calls, fetchMock };
}

export interface TestApp {
  app: App;
  pinia: Pinia;
  router: Router;
}

/** An app with Pinia and the dashboard's router (memory history) at `path`. */
export async function setupApp(path = "/login"): Promise<TestApp> {
  const app = createApp({ render: () => null });
  const pinia = createPinia();
  app.use(pinia);
  setActivePinia(pinia);
  const router = createAppRouter(createMemoryHistory());
  app.use(router);
  await router.push(path);
  await router.isReady();
  return { app, pinia, router };
}

/** Stores the session as a logged-in browser has it. */
export function storeSession(access = fakeJwt("access-1"), refresh = "refresh-1"): { access: string; refresh: string } {
  const pair = { access, refresh };
  localStorage.setItem("datalab.session", JSON.stringify(pair));
  return pair;
}

export const ME = {
  id: 1,
  email: "ada@example.com",
  first_name: "Ada",
  last_name: "Lovelace",
  position: "",
  organization: { domain: "example.com", name: "example.com" },
  verified: true,
};

export function appFixture(overrides: Record<string, unknown> = {}) {
  return {
    id: 3,
    name: "Shop",
    url: "https://shop.example.com",
    origin: "https://shop.example.com",
    description: "",
    tags: ["shop"],
    is_public: false,
    timezone: "UTC",
    allow_visitor_id: false,
    locked: false,
    locked_at: null,
    epoch: 1,
    owner: { id: 1, email: "ada@example.com", first_name: "Ada", last_name: "Lovelace" },
    created_at: "2026-11-01T10:00:00Z",
    role: "owner",
    can: {
      view: true,
      edit_config: true,
      manage: true,
      issue_token: true,
      unlock: false,
      invite: true,
      delete: true,
      leave: false,
    },
    ...overrides,
  };
}

/** Resolves once pending promises and timers queued now have run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setTimeout(resolve, 0));
}

/** A /ws/live socket the test plays the server of. */
export class FakeSocket {
  static OPEN = 1;
  static all: FakeSocket[] = [];
  readyState = 0;
  sent: Record<string, unknown>[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((event: { data: string }) => void) | null = null;
  onclose: ((event: { code: number }) => void) | null = null;

  constructor(
    readonly url: string,
    readonly protocols: string[] = [],
  ) {
    FakeSocket.all.push(this);
  }

  send(data: string): void {
    this.sent.push(JSON.parse(data));
  }

  close(code = 1000): void {
    this.readyState = 3;
    this.onclose?.({ code });
  }

  open(): void {
    this.readyState = FakeSocket.OPEN;
    this.onopen?.();
  }

  receive(message: object): void {
    this.onmessage?.({ data: JSON.stringify(message) });
  }

  static latest(): FakeSocket {
    return FakeSocket.all[FakeSocket.all.length - 1]!;
  }
}
