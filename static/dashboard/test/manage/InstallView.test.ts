import { flushPromises } from "@vue/test-utils";
import { describe, expect, it } from "vitest";

import { appFixture, mockApi, settle } from "../helpers";
import { button, buttons, LiveSocket, ME_ROUTE, memberApp, mountRoute, freshPagePerTest } from "./helpers";

const TOKEN = {
  token: "app-token-1",
  snippet: '<script async src="https://datalab.example.com/static/datalab.js" data-token="app-token-1"></script>',
  epoch: 1,
  issued_at: "2026-12-01T10:00:00Z",
};
const NO_TOKEN = { status: 404, body: { error: { code: "no_token", message: "The app has no token yet." } } };
const QUIET = {
  "GET /api/v1/apps/3/insights/live": { body: { visitors: 0, pages: [], events: [] } },
  "GET /api/v1/apps/3/insights/overview": { body: { pageviews: 0, visitors: 0, sessions: 0, bounce_rate: 0, avg_session_seconds: 0, series: [], interval: "day" } },
};
const locked = (app: ReturnType<typeof appFixture>) => ({ ...app, locked: true });

freshPagePerTest();

const text = () => document.body.textContent!.replace(/\s+/g, " ");

describe("install screen", () => {
  it("shows the owner the token actions, and the snippet, npm and guide to everyone", async () => {
    mockApi({ ...ME_ROUTE, ...QUIET, "GET /api/v1/apps/3": { body: locked(appFixture()) }, "GET /api/v1/apps/3/token": { body: TOKEN } });
    await mountRoute("/apps/3/install");

    expect(buttons()).toEqual(expect.arrayContaining(["Rotate token…", "Revoke token…", "Copy the script tag", "Copy the install command"]));
    expect(text()).toContain(TOKEN.snippet);
    expect(text()).toContain("npm install datalab-client");
    expect(text()).toContain('init({ token: "app-token-1", host: "https://datalab.example.com" });');
    expect(text()).toContain("connect-src wss://datalab.example.com https://datalab.example.com");
  });

  it("hides the token actions from others and names the owner", async () => {
    mockApi({ ...ME_ROUTE, ...QUIET, "GET /api/v1/apps/3": { body: locked(memberApp()) }, "GET /api/v1/apps/3/token": { body: TOKEN } });
    await mountRoute("/apps/3/install");

    expect(buttons().filter((name) => /token/i.test(name))).toEqual([]);
    expect(text()).toContain("Only the owner, Ada Lovelace, can issue, rotate or revoke the token.");
    expect(text()).toContain(TOKEN.snippet);
  });

  it("issues the token after a confirmation that says it locks the configuration", async () => {
    let issued = false;
    const { calls } = mockApi({
      ...ME_ROUTE,
      ...QUIET,
      "GET /api/v1/apps/3": () => ({ body: issued ? locked(appFixture()) : appFixture() }),
      "GET /api/v1/apps/3/token": NO_TOKEN,
      "POST /api/v1/apps/3/token": () => {
        issued = true;
        return { status: 201, body: TOKEN };
      },
    });
    await mountRoute("/apps/3/install");
    expect(text()).toContain("The snippet appears here once you issue the token");

    button("Issue token…").click();
    await settle();
    expect(document.querySelector("dialog")!.textContent).toContain("Issuing the token locks the configuration");
    button("Issue token and lock").click();
    await settle();

    expect(calls.filter((call) => call.method === "POST")).toHaveLength(1);
    expect(text()).toContain("Token issued: the configuration is locked.");
    expect(text()).toContain(TOKEN.snippet);
    expect(buttons()).toContain("Rotate token…");
  });

  it("explains rotation's 24 hours and revocation's stop before doing them", async () => {
    mockApi({ ...ME_ROUTE, ...QUIET, "GET /api/v1/apps/3": { body: locked(appFixture()) }, "GET /api/v1/apps/3/token": { body: TOKEN } });
    await mountRoute("/apps/3/install");

    button("Rotate token…").click();
    await settle();
    expect(document.querySelector("dialog")!.textContent).toContain("The current token keeps working for 24 hours");
    button("Cancel").click();
    await settle();
    button("Revoke token…").click();
    await settle();
    expect(document.querySelector("dialog")!.textContent).toContain("collection stops until you issue a new token");
  });

  it("turns the connection check green when /ws/live pushes the app's first event", async () => {
    mockApi({ ...ME_ROUTE, ...QUIET, "GET /api/v1/apps/3": { body: locked(appFixture()) }, "GET /api/v1/apps/3/token": { body: TOKEN } });
    await mountRoute("/apps/3/install");
    expect(text()).toContain("Waiting for the first event…");
    expect(LiveSocket.current!.sent).toContainEqual({ type: "subscribe", app: 3 });

    LiveSocket.current!.push({
      type: "realtime",
      app: 3,
      visitors: 1,
      events_per_second: 0.2,
      latest: [{ ts: Date.now(), type: "pageview", path: "/pricing", stages: [] }],
    });
    await flushPromises();

    expect(text()).toContain("Connected: events are arriving.");
    expect(text()).toContain("1 visitor in the last 5 minutes");
  });

  it("is green at once for an app that already has traffic", async () => {
    mockApi({
      ...ME_ROUTE,
      ...QUIET,
      "GET /api/v1/apps/3": { body: locked(appFixture()) },
      "GET /api/v1/apps/3/token": { body: TOKEN },
      "GET /api/v1/apps/3/insights/overview": { body: { ...QUIET["GET /api/v1/apps/3/insights/overview"].body, pageviews: 1234 } },
    });
    await mountRoute("/apps/3/install");
    expect(text()).toContain("Connected: events have arrived.");
    expect(text()).toContain("1,234 page views in the last 30 days");
  });
});
