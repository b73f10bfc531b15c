import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { backoffDelay, useLiveStore } from "@/stores/live";
import { FakeSocket, fakeJwt, ME, mockApi, settle, setupApp, storeSession } from "../helpers";

const latest = () => FakeSocket.latest();
const notification = (id: number) => ({
  id,
  kind: "invite.sent",
  app: 3,
  app_name: "Shop",
  data: { actor: { id: 2, name: "Grace Hopper" } },
  created_at: "2026-11-30T10:00:00Z",
  read_at: null,
});

beforeEach(() => {
  localStorage.clear();
  FakeSocket.all = [];
  vi.stubGlobal("WebSocket", FakeSocket);
});
afterEach(() => vi.useRealTimers());

async function connected() {
  const access = fakeJwt("access-1");
  storeSession(access, "refresh-1");
  mockApi({
    "GET /api/v1/me": { body: ME },
    "POST /api/v1/auth/refresh": { body: { access: fakeJwt("access-2"), refresh: "refresh-2" } },
  });
  await setupApp("/login");
  const live = useLiveStore();
  await settle();
  latest().open();
  return { live, access };
}

describe("live store", () => {
  it("connects once logged in, with the access token as subprotocol", async () => {
    const { live, access } = await connected();
    expect(FakeSocket.all).toHaveLength(1);
    expect(latest().url).toMatch(/\/ws\/live$/);
    expect(latest().protocols).toEqual(["bearer", access]);
    expect(live.status).toBe("open");
  });

  it("keeps the unread notifications: backlog, pushes, read elsewhere", async () => {
    const { live } = await connected();
    latest().receive({ type: "backlog", notifications: [notification(2), notification(1)] });
    latest().receive({ type: "notification", notification: notification(3) });
    expect(live.unreadCount).toBe(3);

    latest().receive({ type: "updated", ids: [1, 3], state: "read" });
    expect(live.unread.map((n) => n.id)).toEqual([2]);

    await live.markRead([2]);
    expect(live.unreadCount).toBe(0);
    expect(latest().sent).toContainEqual({ type: "read", ids: [2] });
  });

  it("subscribes to an app's realtime figures, again after a reconnection", async () => {
    const { live } = await connected();
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const stop = live.subscribe(3);
    expect(latest().sent).toContainEqual({ type: "subscribe", app: 3 });
    latest().receive({ type: "realtime", app: 3, visitors: 4, events_per_second: 0.4, latest: [] });
    expect(live.realtime[3]?.visitors).toBe(4);

    latest().close(1006); // the network dropped
    expect(live.status).toBe("closed");
    await vi.advanceTimersByTimeAsync(backoffDelay(0, 1));
    expect(FakeSocket.all).toHaveLength(2);
    latest().open();
    expect(latest().sent).toContainEqual({ type: "subscribe", app: 3 });

    stop();
    expect(latest().sent).toContainEqual({ type: "unsubscribe", app: 3 });
  });

  it("renews its token when the server closes with 4401, then reconnects", async () => {
    await connected();
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    latest().close(4401);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(FakeSocket.all).toHaveLength(2);
    expect(JSON.parse(localStorage.getItem("datalab.session")!).refresh).toBe("refresh-2");
  });

  it("backs off exponentially, up to 30 seconds", () => {
    expect(backoffDelay(0, 1)).toBe(1000);
    expect(backoffDelay(3, 1)).toBe(8000);
    expect(backoffDelay(10, 1)).toBe(30_000);
    expect(backoffDelay(10, 0)).toBe(15_000);
  });
});
