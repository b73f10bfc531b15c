import { defineStore } from "pinia";
import { computed, onScopeDispose, ref, watch } from "vue";

import * as api from "@/api";
import { tokenExpiry, useAuthStore } from "./auth";

/** Close codes and limits of /ws/live (live/constants.py). */
export const LIVE_PATH = "/ws/live";
const UNAUTHENTICATED = 4401;
const MAX_BACKOFF_MS = 30_000;
const PING_EVERY_MS = 25_000;
const PONG_WITHIN_MS = 10_000;
/** A fresh token is sent this long before the current one expires (seconds). */
const REAUTH_BEFORE_SECONDS = 20;
/** Pushes come only while traffic flows: a figure older than this may have decayed (ms). */
export const STALE_AFTER_MS = 60_000;

/** An event of a push's `latest` (newest first). Pushes carry no element or event name. */
export type PushedEvent = Omit<api.LiveEvent, "name"> & { name?: string };

export interface RealtimeFigures {
  /** Visitors active in the last 5 minutes. */
  visitors: number;
  eventsPerSecond: number;
  latest: PushedEvent[];
  /** When the figures arrived (epoch ms): pushes come only while traffic flows. */
  receivedAt: number;
}

/** Visitors of the last 5 minutes as the API counted them (GET insights/live), and when. */
export interface PolledFigure {
  visitors: number;
  at: number;
}

export type LiveStatus = "idle" | "connecting" | "open" | "closed";

type ServerMessage =
  | { type: "backlog"; notifications: api.Notification[] }
  | { type: "notification"; notification: api.Notification }
  | { type: "updated"; ids: number[]; state: "read" | "hidden" }
  | { type: "presence"; users: { id: number; online: boolean }[] }
  | { type: "subscribed"; app: number }
  | { type: "unsubscribed"; app: number; reason?: string }
  | {
      type: "realtime";
      app: number;
      visitors: number;
      events_per_second: number;
      latest: PushedEvent[];
    }
  | { type: "sync"; app: number; config_version: number }
  | { type: "auth"; expires_at: string }
  | { type: "error"; code: string; app?: number }
  | { type: "pong" };

type Listener = (message: ServerMessage) => void;

/** Milliseconds before reconnection attempt `attempt` (0, 1, ...): exponential, jittered. */
export function backoffDelay(attempt: number, random: number = Math.random()): number {
  const ceiling = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** attempt);
  return Math.round(ceiling / 2 + (ceiling / 2) * random);
}

/**
 * The one /ws/live connection of the tab: notifications (the unread ones, pushed), colleagues'
 * presence, realtime figures of the subscribed apps, and configuration changes. It connects
 * while there is a session, reconnects with backoff, and renews its token before expiry.
 */
export const useLiveStore = defineStore("live", () => {
  const auth = useAuthStore();

  const status = ref<LiveStatus>("idle");
  const unread = ref<api.Notification[]>([]);
  const online = ref<Record<number, boolean>>({});
  const realtime = ref<Record<number, RealtimeFigures>>({});
  const polled = ref<Record<number, PolledFigure>>({});
  const configVersions = ref<Record<number, number>>({});
  const lostApps = ref<number[]>([]);

  const unreadCount = computed(() => unread.value.length);

  let socket: WebSocket | null = null;
  let attempts = 0;
  const timers: Partial<Record<"retry" | "auth" | "ping" | "pong", ReturnType<typeof setTimeout>>> = {};
  const subscriptions = new Map<number, number>(); // app id -> how many screens asked
  const listeners = new Set<Listener>();

  function stopTimer(name: keyof typeof timers): void {
    clearTimeout(timers[name]);
    delete timers[name];
  }

  function stopTimers(): void {
    for (const name of ["retry", "auth", "ping", "pong"] as const) stopTimer(name);
  }

  function send(message: Record<string, unknown>): boolean {
    if (socket?.readyState !== WebSocket.OPEN) return false;
    socket.send(JSON.stringify(message));
    return true;
  }

  function socketUrl(): string {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    return `${scheme}://${location.host}${LIVE_PATH}`;
  }

  async function connect(): Promise<void> {
    if (socket || !auth.isAuthenticated) return;
    stopTimer("retry");
    status.value = "connecting";
    let token: string | null;
    try {
      token = await auth.accessToken();
    } catch {
      scheduleReconnect(); // offline: try again later
      return;
    }
    if (socket) return; // another call connected meanwhile
    if (!token) {
      status.value = "idle";
      return;
    }
    const ws = new WebSocket(socketUrl(), ["bearer", token]);
    socket = ws;
    ws.onopen = () => {
      status.value = "open";
      scheduleReauth(token);
      for (const app of subscriptions.keys()) send({ type: "subscribe", app });
      schedulePing();
    };
    ws.onmessage = (event) => {
      stopTimer("pong");
      try {
        handle(JSON.parse(String(event.data)) as ServerMessage);
      } catch {
        // a frame we do not understand: ignore it
      }
    };
    ws.onclose = (event) => {
      if (socket !== ws) return;
      socket = null;
      stopTimers();
      status.value = "closed";
      if (!auth.isAuthenticated) {
        status.value = "idle";
      } else if (event.code === UNAUTHENTICATED) {
        // The token expired or the session was revoked: renew (or end the session).
        auth.refresh().then((fresh) => fresh && scheduleReconnect(), () => scheduleReconnect());
      } else {
        scheduleReconnect();
      }
    };
  }

  function scheduleReconnect(): void {
    stopTimer("retry");
    if (!auth.isAuthenticated) return;
    timers.retry = setTimeout(() => void connect(), backoffDelay(attempts));
    attempts += 1;
  }

  function scheduleReauth(token: string): void {
    stopTimer("auth");
    const expiry = tokenExpiry(token);
    if (!expiry) return;
    const delay = Math.max(0, (expiry - REAUTH_BEFORE_SECONDS) * 1000 - Date.now());
    timers.auth = setTimeout(async () => {
      const fresh = await auth.accessToken().catch(() => null);
      if (fresh && send({ type: "auth", token: fresh })) scheduleReauth(fresh);
    }, delay);
  }

  function schedulePing(): void {
    stopTimer("ping");
    timers.ping = setTimeout(() => {
      if (!send({ type: "ping" })) return;
      timers.pong = setTimeout(() => socket?.close(), PONG_WITHIN_MS);
      schedulePing();
    }, PING_EVERY_MS);
  }

  function disconnect(): void {
    stopTimers();
    const ws = socket;
    socket = null;
    ws?.close(1000);
    attempts = 0;
    status.value = "idle";
    unread.value = [];
    online.value = {};
    realtime.value = {};
    polled.value = {};
  }

  function handle(message: ServerMessage): void {
    switch (message.type) {
      case "backlog":
        attempts = 0; // authenticated: the connection works
        unread.value = message.notifications.filter((n) => !n.read_at);
        break;
      case "notification":
        if (!message.notification.read_at) unread.value = [message.notification, ...unread.value];
        break;
      case "updated": {
        const ids = new Set(message.ids);
        unread.value = unread.value.filter((n) => !ids.has(n.id));
        break;
      }
      case "presence":
        online.value = {
          ...online.value,
          ...Object.fromEntries(message.users.map((user) => [user.id, user.online])),
        };
        break;
      case "realtime":
        realtime.value = {
          ...realtime.value,
          [message.app]: {
            visitors: message.visitors,
            eventsPerSecond: message.events_per_second,
            latest: message.latest,
            receivedAt: Date.now(),
          },
        };
        break;
      case "sync":
        configVersions.value = { ...configVersions.value, [message.app]: message.config_version };
        break;
      case "unsubscribed":
        if (message.reason) lostApps.value = [...lostApps.value, message.app];
        break;
      case "auth":
      case "subscribed":
      case "error":
      case "pong":
        break;
    }
    for (const listener of listeners) listener(message);
  }

  /** Realtime figures and configuration changes of the app, until the returned function runs. */
  function subscribe(app: number): () => void {
    const count = subscriptions.get(app) ?? 0;
    subscriptions.set(app, count + 1);
    if (count === 0) send({ type: "subscribe", app });
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const left = (subscriptions.get(app) ?? 1) - 1;
      if (left > 0) {
        subscriptions.set(app, left);
      } else {
        subscriptions.delete(app);
        send({ type: "unsubscribe", app });
      }
    };
  }

  /** Records the visitors of the last 5 minutes the API counted for `app` just now. */
  function notePolled(app: number, visitors: number): void {
    polled.value = { ...polled.value, [app]: { visitors, at: Date.now() } };
  }

  /**
   * Visitors of `app` in the last 5 minutes, or null before any figure: the pushed figure while
   * pushes flow, otherwise the newest one (pushed or read from the API). Every screen asks
   * here, so the header's counter and the Live screen always show the same number.
   */
  function visitorsNow(app: number): number | null {
    const pushed = realtime.value[app];
    const read = polled.value[app];
    if (pushed && (!read || pushed.receivedAt >= read.at || Date.now() - pushed.receivedAt < STALE_AFTER_MS)) {
      return pushed.visitors;
    }
    return read?.visitors ?? null;
  }

  /** When the newest figure of `app` arrived (epoch ms), pushed or read; 0 without one. */
  function freshAt(app: number): number {
    return Math.max(realtime.value[app]?.receivedAt ?? 0, polled.value[app]?.at ?? 0);
  }

  /** Calls `listener` with every message the server sends, until the returned function runs. */
  function listen(listener: Listener): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  }

  async function markRead(ids: number[]): Promise<void> {
    const gone = new Set(ids);
    unread.value = unread.value.filter((n) => !gone.has(n.id));
    if (!send({ type: "read", ids })) await Promise.all(ids.map((id) => api.readNotification(id)));
  }

  async function hide(ids: number[]): Promise<void> {
    const gone = new Set(ids);
    unread.value = unread.value.filter((n) => !gone.has(n.id));
    if (!send({ type: "hide", ids })) await Promise.all(ids.map((id) => api.hideNotification(id)));
  }

  async function clearAll(): Promise<void> {
    unread.value = [];
    if (!send({ type: "clear" })) await api.clearNotifications();
  }

  watch(
    () => auth.isAuthenticated,
    (yes) => (yes ? void connect() : disconnect()),
    { immediate: true },
  );

  const reconnectNow = () => {
    if (!socket && auth.isAuthenticated) {
      attempts = 0;
      void connect();
    }
  };
  window.addEventListener("online", reconnectNow);
  onScopeDispose(() => {
    window.removeEventListener("online", reconnectNow);
    disconnect();
  });

  return {
    status,
    unread,
    unreadCount,
    online,
    realtime,
    polled,
    configVersions,
    lostApps,
    connect,
    disconnect,
    subscribe,
    notePolled,
    visitorsNow,
    freshAt,
    listen,
    markRead,
    hide,
    clearAll,
  };
});
