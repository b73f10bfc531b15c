import { flushPromises } from "@vue/test-utils";
import { describe, expect, it } from "vitest";

import { appFixture, mockApi, settle } from "../helpers";
import { button, buttons, ME_ROUTE, memberApp, mountRoute, freshPagePerTest } from "./helpers";

const ADA = { id: 1, email: "ada@example.com", first_name: "Ada", last_name: "Lovelace" };
const GRACE = { id: 2, email: "grace@example.com", first_name: "Grace", last_name: "Hopper", position: "" };
const ALAN = { id: 4, email: "alan@example.com", first_name: "Alan", last_name: "Turing", position: "Research" };
const hoursAgo = (hours: number) => new Date(Date.now() - hours * 3600_000).toISOString();
const invite = (overrides: Record<string, unknown> = {}) => ({
  id: 9,
  app: { id: 3, name: "Shop", url: "https://shop.example.com" },
  invitee: { id: 5, email: "bob@example.com", first_name: "Bob", last_name: "" },
  invited_by: ADA,
  status: "pending",
  created_at: hoursAgo(2),
  expires_at: new Date(Date.now() + 6 * 86_400_000).toISOString(),
  expired: false,
  responded_at: null,
  last_reminded_at: null,
  ...overrides,
});
const TEAM = { owner: ADA, members: [{ user: GRACE, since: "2026-11-20T10:00:00Z" }], pending: [invite()] };

freshPagePerTest();

const text = () => document.body.textContent!.replace(/\s+/g, " ");
const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function key(element: HTMLElement, name: string): Promise<void> {
  element.dispatchEvent(new KeyboardEvent("keydown", { key: name, bubbles: true, cancelable: true }));
  await flushPromises();
}

describe("team screen", () => {
  it("invites a colleague picked with the keyboard from the search, skipping members", async () => {
    const { calls } = mockApi({
      ...ME_ROUTE,
      "GET /api/v1/apps/3": { body: appFixture() },
      "GET /api/v1/apps/3/members": { body: TEAM },
      "GET /api/v1/org/colleagues": { body: [GRACE, ALAN] },
      "POST /api/v1/apps/3/invites": ({ body }) => ({ status: 201, body: invite({ id: 10, invitee: ALAN, body }) }),
    });
    await mountRoute("/apps/3/team");

    const box = document.querySelector<HTMLInputElement>("[role=combobox]")!;
    expect(document.querySelector(`label[for="${box.id}"]`)!.textContent).toContain("Colleague");
    box.value = "a";
    box.dispatchEvent(new Event("input", { bubbles: true }));
    await wait(250);
    await flushPromises();

    expect(calls.find((call) => call.path === "/api/v1/org/colleagues")!.query.get("search")).toBe("a");
    expect(box.getAttribute("aria-expanded")).toBe("true");
    const options = [...document.querySelectorAll("[role=option]")];
    expect(options.map((option) => option.getAttribute("aria-disabled"))).toEqual(["true", null]);
    expect(options[0]!.textContent).toContain("Member");
    expect(box.getAttribute("aria-activedescendant")).toBe(options[1]!.id);

    await key(box, "ArrowDown");
    expect(box.getAttribute("aria-activedescendant")).toBe(options[1]!.id);
    await key(box, "Enter");
    expect(box.value).toBe("Alan Turing");
    expect(box.getAttribute("aria-expanded")).toBe("false");

    button("Send invitation").click();
    await settle();
    expect(calls.find((call) => call.method === "POST")!.body).toEqual({ user_id: 4 });
    expect(text()).toContain("Invitation sent to Alan Turing.");
  });

  it("shows pending invitations with their status, and reminds at most once a day", async () => {
    mockApi({
      ...ME_ROUTE,
      "GET /api/v1/apps/3": { body: appFixture() },
      "GET /api/v1/apps/3/members": { body: { ...TEAM, pending: [invite(), invite({ id: 11, last_reminded_at: hoursAgo(30), created_at: hoursAgo(50) })] } },
    });
    await mountRoute("/apps/3/team");

    expect(text()).toContain("Invited 2 hours ago by Ada Lovelace · expires in 6 days · not reminded yet");
    expect(text()).toContain("You can send a reminder in 22 hours (one a day at most).");
    const reminds = [...document.querySelectorAll<HTMLButtonElement>("button")].filter((b) => b.getAttribute("aria-label") === "Remind Bob");
    expect(reminds.map((b) => b.disabled)).toEqual([true, false]);
    expect(text()).toContain("reminded yesterday");
  });

  it("hides the owner's actions from members and names the owner", async () => {
    mockApi({
      ...ME_ROUTE,
      "GET /api/v1/apps/3": { body: memberApp() },
      "GET /api/v1/apps/3/members": { body: { owner: ADA, members: TEAM.members } },
    });
    await mountRoute("/apps/3/team");

    expect(document.querySelector("[role=combobox]")).toBeNull();
    expect(buttons().filter((name) => /Remove|Remind|Revoke|Transfer|Send/.test(name))).toEqual([]);
    expect(text()).toContain("Only the owner, Ada Lovelace, can invite colleagues, remove members and transfer ownership.");
    expect(text()).toContain("Grace Hopper");
  });

  it("lets a member leave after a confirmation, then shows their apps without this one", async () => {
    const { calls } = mockApi({
      ...ME_ROUTE,
      "GET /api/v1/apps/3": { body: memberApp() },
      "GET /api/v1/apps/3/members": { body: { owner: ADA, members: TEAM.members } },
      "DELETE /api/v1/apps/3/members/1": { status: 204 },
      "GET /api/v1/apps": { body: [] },
      "GET /api/v1/invites": { body: [] },
    });
    const { router } = await mountRoute("/apps/3/team");

    button("Leave app…").click();
    await settle();
    const dialogs = [...document.querySelectorAll("dialog")].map((dialog) => dialog.textContent).join(" ");
    expect(dialogs).toContain("Leave Shop?");
    expect(calls.some((call) => call.method === "DELETE")).toBe(false);
    button("Leave Shop").click();
    await settle();

    expect(calls.filter((call) => call.method === "DELETE").map((call) => call.path)).toEqual(["/api/v1/apps/3/members/1"]);
    expect(router.currentRoute.value.name).toBe("apps");
  });

  it("offers the owner no way to leave", async () => {
    mockApi({
      ...ME_ROUTE,
      "GET /api/v1/apps/3": { body: appFixture() },
      "GET /api/v1/apps/3/members": { body: TEAM },
    });
    await mountRoute("/apps/3/team");

    expect(buttons().filter((name) => name.startsWith("Leave"))).toEqual([]);
  });

  it("says a public app is open to the whole organization and takes no invitations", async () => {
    mockApi({
      ...ME_ROUTE,
      "GET /api/v1/apps/3": { body: appFixture({ is_public: true, can: { ...appFixture().can, invite: false } }) },
      "GET /api/v1/apps/3/members": { body: { owner: ADA, members: [], pending: [] } },
    });
    await mountRoute("/apps/3/team");

    expect(text()).toContain("Shop is public: everyone in example.com can view it");
    expect(text()).toContain("Invitations are for private apps.");
    expect(buttons()).not.toContain("Send invitation");
    expect(buttons()).toContain("Transfer ownership…");
  });

  it("transfers ownership to a member after a confirmation", async () => {
    const { calls } = mockApi({
      ...ME_ROUTE,
      "GET /api/v1/apps/3": { body: appFixture() },
      "GET /api/v1/apps/3/members": { body: TEAM },
      "POST /api/v1/apps/3/transfer": { body: memberApp() },
    });
    await mountRoute("/apps/3/team");

    const select = document.querySelector<HTMLSelectElement>("select")!;
    select.value = "2";
    select.dispatchEvent(new Event("change"));
    button("Transfer ownership…").click();
    await settle();
    const dialogs = [...document.querySelectorAll("dialog")].map((dialog) => dialog.textContent).join(" ");
    expect(dialogs).toContain("Make Grace Hopper the owner of Shop?");
    button("Transfer to Grace Hopper").click();
    await settle();

    expect(calls.find((call) => call.path.endsWith("/transfer"))!.body).toEqual({ user_id: 2 });
    expect(text()).toContain("Grace Hopper now owns Shop; you stay on as a member.");
  });
});
