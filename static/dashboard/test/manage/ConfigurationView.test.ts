import { flushPromises } from "@vue/test-utils";
import { describe, expect, it } from "vitest";

import { appFixture, mockApi, settle } from "../helpers";
import { button, buttons, byLabel, configFixture, LiveSocket, ME_ROUTE, memberApp, mountRoute, freshPagePerTest } from "./helpers";

const PATH = "/apps/3/configuration";

freshPagePerTest();

async function press(element: HTMLElement, key: string): Promise<void> {
  element.dispatchEvent(new KeyboardEvent("keydown", { key, bubbles: true, cancelable: true }));
  await flushPromises();
}

async function click(element: HTMLElement): Promise<void> {
  element.click();
  await settle();
}

async function type(element: HTMLElement, value: string): Promise<void> {
  (element as HTMLInputElement).value = value;
  element.dispatchEvent(new Event("input", { bubbles: true }));
  await flushPromises();
}

/** The stages in order, by their remove buttons' names ("Remove stage Buy"). */
const stageTitles = () =>
  [...document.querySelectorAll("button[aria-label^='Remove stage ']")].map((el) => el.getAttribute("aria-label")!.slice("Remove stage ".length));

describe("configuration screen", () => {
  it("reorders stages by keyboard on the handle, keeps focus there, and saves the new order", async () => {
    const { calls } = mockApi({
      ...ME_ROUTE,
      "GET /api/v1/apps/3": { body: appFixture() },
      "GET /api/v1/apps/3/config": { body: configFixture() },
      "PUT /api/v1/apps/3/config": ({ body }) => ({ body: { ...configFixture(), ...(body as object), version: 5 } }),
    });
    await mountRoute(PATH);
    expect(stageTitles()).toEqual(["Landing", "Buy", "Signup"]);

    const handle = button("Reorder stage Signup");
    handle.focus();
    await press(handle, "ArrowUp");
    await press(document.activeElement as HTMLElement, "ArrowUp");

    expect(stageTitles()).toEqual(["Signup", "Landing", "Buy"]);
    expect(document.activeElement?.getAttribute("aria-label")).toBe("Reorder stage Signup");
    expect(document.querySelector("[aria-live=polite]")?.textContent).toContain("stage Signup moved to position 1 of 3.");

    await click(button("Move stage Buy up"));
    expect(stageTitles()).toEqual(["Signup", "Buy", "Landing"]);
    expect(document.activeElement?.getAttribute("aria-label")).toBe("Move stage Buy up");

    await click(button("Save configuration"));
    const put = calls.find((call) => call.method === "PUT")!;
    expect(put.body).toMatchObject({ version: 4, funnel: { order: "strict", window_seconds: 3600 } });
    expect((put.body as { funnel: { stages: { name: string }[] } }).funnel.stages.map((s) => s.name)).toEqual([
      "Signup",
      "Buy",
      "Landing",
    ]);
    expect(document.body.textContent).toContain("Configuration saved (version 5).");
  });

  it("shows the API's messages next to the fields they concern, and moves them with their stage", async () => {
    mockApi({
      ...ME_ROUTE,
      "GET /api/v1/apps/3": { body: appFixture() },
      "GET /api/v1/apps/3/config": { body: configFixture() },
      "PUT /api/v1/apps/3/config": {
        status: 400,
        body: {
          error: {
            code: "invalid",
            message: "The configuration is not valid.",
            fields: {
              "funnel.stages.1.match": ["Expected a selector at position 1, found '['."],
              "campaigns.0": ["Give at least one of: utm_source, utm_medium, utm_campaign, utm_term, utm_content."],
            },
          },
        },
      },
    });
    await mountRoute(PATH);
    await type(byLabel("Stage 2 CSS selector"), "[");
    await click(button("Save configuration"));

    const match = byLabel("Stage 2 CSS selector");
    expect(match.getAttribute("aria-invalid")).toBe("true");
    const described = match.getAttribute("aria-describedby")!.split(" ").map((id) => document.getElementById(id)?.textContent);
    expect(described).toContain("Expected a selector at position 1, found '['.");
    expect(byLabel("Stage 1 Page path").getAttribute("aria-invalid")).toBeNull();
    expect(document.activeElement).toBe(match);
    expect(document.body.textContent).toContain("The configuration was not saved: 2 fields need attention.");
    expect(document.body.textContent).toContain("Give at least one of: utm_source");

    await click(button("Move stage Buy up"));
    expect(byLabel("Stage 1 CSS selector").getAttribute("aria-invalid")).toBe("true");
    expect(byLabel("Stage 2 Page path").getAttribute("aria-invalid")).toBeNull();

    await type(byLabel("Stage 1 CSS selector"), "#buy");
    expect(byLabel("Stage 1 CSS selector").getAttribute("aria-invalid")).toBeNull();
  });

  it("is read-only while locked, says why and that only the owner, named, can unlock", async () => {
    mockApi({
      ...ME_ROUTE,
      "GET /api/v1/apps/3": { body: memberApp({ locked: true, locked_at: "2026-12-01T10:00:00Z" }) },
      "GET /api/v1/apps/3/config": { body: configFixture({ locked: true }) },
    });
    await mountRoute(PATH);

    expect(document.querySelectorAll("input, select, textarea")).toHaveLength(0);
    expect(buttons()).not.toContain("Save configuration");
    const banner = document.querySelector("[aria-label='Locked configuration']")!.textContent!;
    expect(banner).toContain("A token was issued for this app, so data is being collected with this configuration");
    expect(banner).toContain("Only the owner, Ada Lovelace, can unlock it.");
    expect(buttons().some((name) => name.startsWith("Unlock"))).toBe(false);
    expect(document.body.textContent).toContain("/pricing");
  });

  it("offers the owner to unlock, explaining the new data epoch, then edits", async () => {
    const locked = appFixture({ locked: true, epoch: 2, can: { ...appFixture().can, unlock: true } });
    const { calls } = mockApi({
      ...ME_ROUTE,
      "GET /api/v1/apps/3": { body: locked },
      "GET /api/v1/apps/3/config": () => ({
        body: configFixture({ locked: !calls.some((call) => call.path.endsWith("/unlock")) }),
      }),
      "POST /api/v1/apps/3/unlock": { body: appFixture({ locked: false, epoch: 3 }) },
    });
    await mountRoute(PATH);

    await click(button("Unlock…"));
    const dialog = document.querySelector("dialog")!;
    expect(dialog.textContent).toContain("Unlocking starts a new data epoch (epoch 3)");
    expect(dialog.textContent).toContain("The data collected so far (epoch 2) is kept; it is archived later.");
    await click(button("Unlock and start epoch 3"));

    expect(calls.filter((call) => call.path === "/api/v1/apps/3/unlock")).toHaveLength(1);
    expect(byLabel("Stage 1 Name")).toBeTruthy();
  });

  it("says when someone else saved first (409) and reloads the latest version", async () => {
    let version = 4;
    const { calls } = mockApi({
      ...ME_ROUTE,
      "GET /api/v1/apps/3": { body: appFixture() },
      "GET /api/v1/apps/3/config": () => ({ body: configFixture({ version }) }),
      "PUT /api/v1/apps/3/config": () => {
        version = 6;
        return {
          status: 409,
          body: {
            error: {
              code: "version_conflict",
              message: "The configuration changed since you loaded it; reload and apply your edit again.",
              current_version: 6,
            },
          },
        };
      },
    });
    await mountRoute(PATH);
    await type(byLabel("Stage 1 Name"), "Pricing");
    await click(button("Save configuration"));

    const alert = [...document.querySelectorAll("[role=alert]")].map((el) => el.textContent).join(" ");
    expect(alert).toContain("Not saved: someone else saved this configuration (version 6) after you opened it.");

    await click(button("Reload the latest version"));
    expect(calls.filter((call) => call.method === "GET" && call.path.endsWith("/config"))).toHaveLength(2);
    expect((byLabel("Stage 1 Name") as HTMLInputElement).value).toBe("Landing");
    expect(document.querySelector("[role=alert]")).toBeNull();
    expect(document.body.textContent).toContain("Loaded the latest version (6).");
  });

  it("warns while editing when /ws/live says a colleague saved a newer version", async () => {
    mockApi({
      ...ME_ROUTE,
      "GET /api/v1/apps/3": { body: appFixture() },
      "GET /api/v1/apps/3/config": { body: configFixture() },
    });
    await mountRoute(PATH);
    expect(LiveSocket.current!.sent).toContainEqual({ type: "subscribe", app: 3 });
    await type(byLabel("Stage 1 Name"), "Pricing");

    LiveSocket.current!.push({ type: "sync", app: 3, config_version: 5 });
    await flushPromises();

    expect(document.querySelector("[role=alert]")?.textContent).toContain("A colleague just saved a new version (5)");
  });

  it("asks before leaving with unsaved changes", async () => {
    mockApi({
      ...ME_ROUTE,
      "GET /api/v1/apps/3": { body: appFixture() },
      "GET /api/v1/apps/3/config": { body: configFixture() },
      "GET /api/v1/apps/3/members": { body: { owner: appFixture().owner, members: [] } },
    });
    const { router } = await mountRoute(PATH);
    await type(byLabel("Stage 1 Name"), "Pricing");

    const leaving = router.push("/apps/3/team");
    await settle();
    expect(document.querySelector("dialog")?.textContent).toContain("Your changes to the configuration are not saved yet.");
    await click(button("Stay on this page"));
    await leaving;
    expect(router.currentRoute.value.name).toBe("configuration");

    const again = router.push("/apps/3/team");
    await settle();
    await click(button("Leave and drop my changes"));
    await again;
    expect(router.currentRoute.value.name).toBe("team");
  });
});
