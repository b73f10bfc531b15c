import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { getMe, getPages } from "@/api";
import { useAuthStore } from "@/stores/auth";
import { fakeJwt, ME, mockApi, settle, setupApp, storeSession, type RecordedCall } from "../helpers";

const OLD = fakeJwt("old");
const NEW = fakeJwt("new");

function bearer(call: RecordedCall): string | undefined {
  return call.headers.Authorization?.replace("Bearer ", "");
}

/** /me and /apps/3/insights/pages accept only the new token; /auth/refresh gives it once. */
function apiWithExpiredToken(refreshReply?: () => { status: number; body: unknown }) {
  const unauthorized = { status: 401, body: { error: { code: "not_authenticated", message: "Expired." } } };
  return mockApi({
    "GET /api/v1/me": (call) => (bearer(call) === NEW ? { body: ME } : unauthorized),
    "GET /api/v1/apps/3/insights/pages": (call) =>
      bearer(call) === NEW ? { body: { results: [] } } : unauthorized,
    "POST /api/v1/auth/refresh": () =>
      refreshReply?.() ?? { status: 200, body: { access: NEW, refresh: "refresh-2" } },
  });
}

beforeEach(() => localStorage.clear());
afterEach(() => localStorage.clear());

describe("auth store", () => {
  it("renews the access token on 401 and retries the request", async () => {
    storeSession(OLD, "refresh-1");
    await setupApp("/login");
    const { calls } = apiWithExpiredToken();
    const auth = useAuthStore();

    await expect(auth.loadMe()).resolves.toEqual(ME);

    expect(calls.map((c) => `${c.method} ${c.path}`)).toEqual([
      "GET /api/v1/me",
      "POST /api/v1/auth/refresh",
      "GET /api/v1/me",
    ]);
    expect(calls[1]?.body).toEqual({ refresh: "refresh-1" });
    expect(auth.tokens).toEqual({ access: NEW, refresh: "refresh-2" });
    expect(JSON.parse(localStorage.getItem("datalab.session")!)).toEqual({ access: NEW, refresh: "refresh-2" });
  });

  it("shares one renewal between concurrent requests", async () => {
    storeSession(OLD, "refresh-1");
    await setupApp("/login");
    const { calls } = apiWithExpiredToken();
    useAuthStore();

    const answers = await Promise.all([
      getMe(),
      getPages(3, {}),
      getMe(),
      getPages(3, { from: "2026-11-01", to: "2026-11-30" }),
    ]);

    expect(answers).toHaveLength(4);
    expect(calls.filter((c) => c.path === "/api/v1/auth/refresh")).toHaveLength(1);
    const retried = calls.filter((c) => c.path !== "/api/v1/auth/refresh" && bearer(c) === NEW);
    expect(retried).toHaveLength(4);
  });

  it("renews a token about to expire before using it", async () => {
    storeSession(fakeJwt("almost", 10), "refresh-1");
    await setupApp("/login");
    const { calls } = apiWithExpiredToken();
    useAuthStore();

    await getMe();

    expect(calls.map((c) => c.path)).toEqual(["/api/v1/auth/refresh", "/api/v1/me"]);
  });

  it("sends the user to log in, and back afterwards, when the session really ends", async () => {
    storeSession(OLD, "refresh-1");
    const { router } = await setupApp("/login");
    const auth = useAuthStore();
    mockApi({ "GET /api/v1/me": { body: ME } });
    await router.push("/apps/3/pages?from=2026-11-01&to=2026-11-30&browser=Firefox");
    apiWithExpiredToken(() => ({
      status: 401,
      body: { error: { code: "token_reused", message: "This refresh token was already used." } },
    }));

    const failure = await getPages(3, {}).catch((e) => e);
    await settle();

    expect(failure.status).toBe(401);
    expect(auth.isAuthenticated).toBe(false);
    expect(localStorage.getItem("datalab.session")).toBeNull();
    expect(router.currentRoute.value.name).toBe("login");
    expect(router.currentRoute.value.query.next).toBe(
      "/apps/3/pages?from=2026-11-01&to=2026-11-30&browser=Firefox",
    );
  });

  it("keeps the session when the server cannot be reached during a renewal", async () => {
    storeSession(OLD, "refresh-1");
    await setupApp("/login");
    const { fetchMock } = apiWithExpiredToken();
    const auth = useAuthStore();
    fetchMock.mockImplementationOnce(
      async () => new Response(JSON.stringify({ error: { code: "not_authenticated", message: "x" } }), { status: 401 }),
    );
    fetchMock.mockRejectedValueOnce(new TypeError("Failed to fetch"));

    const failure = await getMe().catch((e) => e);

    expect(failure.code).toBe("network_error");
    expect(auth.isAuthenticated).toBe(true);
  });

  it("takes the tokens another tab renewed instead of spending the refresh token again", async () => {
    storeSession(OLD, "refresh-1");
    await setupApp("/login");
    const { calls } = apiWithExpiredToken();
    useAuthStore();
    localStorage.setItem("datalab.session", JSON.stringify({ access: NEW, refresh: "refresh-2" }));

    await expect(getMe()).resolves.toEqual(ME);

    expect(calls.filter((c) => c.path === "/api/v1/auth/refresh")).toHaveLength(0);
  });

  it("logs in, then returns to the page asked for", async () => {
    const { router } = await setupApp("/apps/3/pages?from=2026-11-01");
    expect(router.currentRoute.value.name).toBe("login");
    expect(router.currentRoute.value.query.next).toBe("/apps/3/pages?from=2026-11-01");

    mockApi({
      "POST /api/v1/auth/login": { body: { access: NEW, refresh: "refresh-9" } },
      "GET /api/v1/me": { body: ME },
    });
    const auth = useAuthStore();
    await auth.login({ email: "ada@example.com", password: "secret" });
    await router.push(router.currentRoute.value.query.next as string);

    expect(router.currentRoute.value.fullPath).toBe("/apps/3/pages?from=2026-11-01");
    expect(auth.me?.email).toBe("ada@example.com");
  });

  it("logs out: ends the session on the server and forgets it here", async () => {
    storeSession(OLD, "refresh-1");
    const { calls } = mockApi({ "GET /api/v1/me": { body: ME }, "POST /api/v1/auth/logout": { status: 204 } });
    const { router } = await setupApp("/apps");
    const auth = useAuthStore();

    await auth.logout();

    expect(calls.find((c) => c.path === "/api/v1/auth/logout")?.body).toEqual({ refresh: "refresh-1" });
    expect(auth.isAuthenticated).toBe(false);
    expect(localStorage.getItem("datalab.session")).toBeNull();
    expect(router.currentRoute.value.fullPath).toBe("/login");
  });
});
