import { flushPromises } from "@vue/test-utils";
import { describe, expect, it } from "vitest";

import type { Notification } from "@/api";
import { describeNotification } from "@/components/account/notificationText";
import { useLiveStore } from "@/stores/live";
import { mockApi, settle } from "../helpers";
import { button, LiveSocket, ME_ROUTE, mountRoute, freshPagePerTest } from "./helpers";

const notification = (id: number, overrides: Partial<Notification> = {}): Notification => ({
  id,
  kind: "invite.sent",
  app: 3,
  app_name: "Shop",
  data: { actor: { id: 2, name: "Grace Hopper" } },
  created_at: new Date().toISOString(),
  read_at: null,
  ...overrides,
});

freshPagePerTest();

const items = () => [...document.querySelectorAll("article")].map((item) => item.getAttribute("aria-label"));

describe("notifications screen", () => {
  it("lists notifications and follows /ws/live: new ones, and those read or hidden elsewhere", async () => {
    const first = notification(1);
    const old = notification(2, { kind: "config.changed", data: { actor: null, version: 3 }, read_at: "2026-12-01T10:00:00Z" });
    mockApi({ ...ME_ROUTE, "GET /api/v1/notifications": { body: [first, old] } });
    await mountRoute("/notifications");
    expect(items()).toEqual([
      "Unread: Grace Hopper invited you to Shop.",
      "Someone changed the configuration of Shop (version 3).",
    ]);

    LiveSocket.current!.push({ type: "notification", notification: notification(5, { kind: "app.locked" }) });
    await flushPromises();
    expect(items()[0]).toBe("Unread: Grace Hopper issued the token of Shop: its configuration is locked while data is collected.");

    LiveSocket.current!.push({ type: "updated", ids: [1], state: "read" });
    LiveSocket.current!.push({ type: "updated", ids: [2], state: "hidden" });
    await flushPromises();
    expect(items()).toEqual([
      "Unread: Grace Hopper issued the token of Shop: its configuration is locked while data is collected.",
      "Grace Hopper invited you to Shop.",
    ]);
  });

  it("marks read through the live store, so the bell's count follows", async () => {
    mockApi({ ...ME_ROUTE, "GET /api/v1/notifications": { body: [notification(1), notification(2, { kind: "invite.accepted" })] } });
    await mountRoute("/notifications");
    const live = useLiveStore();
    LiveSocket.current!.push({ type: "backlog", notifications: [notification(1), notification(2, { kind: "invite.accepted" })] });
    expect(live.unreadCount).toBe(2);

    button("Mark as read: Grace Hopper invited you to Shop.").click();
    await settle();
    expect(LiveSocket.current!.sent).toContainEqual({ type: "read", ids: [1] });
    expect(live.unreadCount).toBe(1);
    expect(items()[0]).toBe("Grace Hopper invited you to Shop.");

    button("Mark all as read").click();
    await settle();
    expect(LiveSocket.current!.sent).toContainEqual({ type: "read", ids: [2] });
    expect(live.unreadCount).toBe(0);
  });

  it("hides one, and clears all after asking", async () => {
    mockApi({ ...ME_ROUTE, "GET /api/v1/notifications": { body: [notification(1), notification(2, { kind: "member.removed" })] } });
    await mountRoute("/notifications");

    button("Hide: Grace Hopper removed you from Shop.").click();
    await settle();
    expect(LiveSocket.current!.sent).toContainEqual({ type: "hide", ids: [2] });
    expect(items()).toHaveLength(1);

    button("Clear all…").click();
    await settle();
    button("Clear all").click();
    await settle();
    expect(LiveSocket.current!.sent).toContainEqual({ type: "clear" });
    expect(document.body.textContent).toContain("No notifications.");
  });
});

describe("notification sentences", () => {
  it("say who did what, and link to the screen it is about", () => {
    expect(describeNotification(notification(1, { kind: "app.transferred", data: { actor: { id: 1, name: "Ada" }, new_owner: 7 } }), 7)).toEqual({
      text: "Ada made you the owner of Shop.",
      to: { name: "team", params: { id: 3 } },
      action: "Team",
    });
    expect(describeNotification(notification(1, { kind: "invite.reminded" }))).toMatchObject({
      to: { name: "invites" },
      action: "Answer",
    });
    expect(describeNotification(notification(1, { kind: "app.deleted", app: null })).to).toBeNull();
    expect(describeNotification(notification(1, { kind: "app.unlocked", data: { actor: null, epoch: 4 } })).text).toBe(
      "Someone unlocked Shop: data epoch 4 starts, the configuration can change.",
    );
  });
});
