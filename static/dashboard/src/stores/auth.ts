import { defineStore } from "pinia";
import { computed, inject, onScopeDispose, ref } from "vue";
import { routerKey, START_LOCATION } from "vue-router";

import * as api from "@/api";
import { connectSession } from "@/api/http";
import { loginLocation } from "@/router/next";

/** Where the session's tokens are kept, shared by the tabs of this browser. */
export const SESSION_KEY = "datalab.session";
/** Access tokens this close to their expiry are renewed before use (seconds). */
const RENEW_MARGIN_SECONDS = 30;

function readStored(): api.TokenPair | null {
  try {
    const value = JSON.parse(localStorage.getItem(SESSION_KEY) ?? "null");
    return value && typeof value.access === "string" && typeof value.refresh === "string" ? value : null;
  } catch {
    return null;
  }
}

function writeStored(pair: api.TokenPair | null): void {
  try {
    if (pair) localStorage.setItem(SESSION_KEY, JSON.stringify(pair));
    else localStorage.removeItem(SESSION_KEY);
  } catch {
    // storage full or disabled: the session lives in this tab only
  }
}

/** Seconds since the epoch when the JWT expires, or 0 when it cannot be read. */
export function tokenExpiry(token: string): number {
  try {
    const payload = token.split(".")[1] ?? "";
    const json = atob(payload.replace(/-/g, "+").replace(/_/g, "/"));
    const exp = JSON.parse(json).exp;
    return typeof exp === "number" ? exp : 0;
  } catch {
    return 0;
  }
}

/** Runs `task` holding a lock shared by the tabs of the browser (when the browser has them),
 * so that two tabs never spend the same single-use refresh token. */
async function withTabLock<T>(task: () => Promise<T>): Promise<T> {
  const locks = typeof navigator !== "undefined" ? navigator.locks : undefined;
  if (!locks) return task();
  let result!: T;
  await locks.request("datalab.refresh", async () => {
    result = await task();
  });
  return result;
}

/**
 * The session: its tokens, the user, and the ways in and out. Refresh tokens are single-use
 * (a reused one revokes the session), so renewals are serialized: one renewal in flight per
 * tab, one at a time across tabs, and a tab that finds a newer pair in storage takes it.
 */
export const useAuthStore = defineStore("auth", () => {
  const router = inject(routerKey, null);
  const tokens = ref<api.TokenPair | null>(readStored());
  const me = ref<api.Me | null>(null);
  let renewal: Promise<string | null> | null = null;

  const isAuthenticated = computed(() => tokens.value !== null);
  const verified = computed(() => me.value?.verified ?? false);

  function setTokens(pair: api.TokenPair | null): void {
    tokens.value = pair;
    writeStored(pair);
  }

  /** Forgets the session in this tab (and, through storage, in the others). */
  function clear(): void {
    setTokens(null);
    me.value = null;
  }

  /** The session ended without the user asking (refresh refused, revoked elsewhere): back to
   * the login page, which returns here afterwards. */
  function endSession(): void {
    clear();
    if (!router) return;
    const current = router.currentRoute.value;
    // During the first navigation the router's guard sends to the login page itself.
    if (current !== START_LOCATION && !current.meta.public) void router.replace(loginLocation(current.fullPath));
  }

  async function renewNow(): Promise<string | null> {
    const spent = tokens.value;
    const stored = readStored();
    if (stored && stored.refresh !== spent?.refresh) {
      tokens.value = stored; // another tab renewed (or logged in) meanwhile
      return stored.access;
    }
    if (!spent) return null;
    try {
      const pair = await api.refreshTokens(spent.refresh);
      setTokens(pair);
      return pair.access;
    } catch (error) {
      if (error instanceof api.ApiError && (error.status === 401 || error.status === 400)) {
        endSession();
        return null;
      }
      throw error; // offline or server down: the session may still be fine
    }
  }

  /** Renews the access token; concurrent callers share one renewal. Null once the session
   * has ended. */
  function refresh(): Promise<string | null> {
    renewal ??= withTabLock(renewNow).finally(() => {
      renewal = null;
    });
    return renewal;
  }

  async function accessToken(): Promise<string | null> {
    const current = tokens.value;
    if (!current) return null;
    const expiry = tokenExpiry(current.access);
    if (expiry && expiry - Date.now() / 1000 < RENEW_MARGIN_SECONDS) return refresh();
    return current.access;
  }

  async function renew(rejected: string): Promise<string | null> {
    const current = tokens.value;
    if (current && current.access !== rejected) return current.access; // renewed meanwhile
    return refresh();
  }

  async function loadMe(): Promise<api.Me> {
    me.value = await api.getMe();
    return me.value;
  }

  async function login(input: api.LoginInput): Promise<api.Me> {
    setTokens(await api.login(input));
    return loadMe();
  }

  /** Creates the account and logs in with it (when that fails, e.g. throttled, the account
   * exists all the same and the user logs in by hand). */
  async function register(input: api.RegisterInput): Promise<api.Registration> {
    const registration = await api.register(input);
    await login({ email: input.email, password: input.password }).catch(() => undefined);
    return registration;
  }

  /** Confirms the e-mail address of the link; refreshes the user when it is ours. */
  async function verify(token: string): Promise<api.Me> {
    const user = await api.verifyEmail(token);
    if (me.value && me.value.id === user.id) me.value = user;
    return user;
  }

  async function logout(): Promise<void> {
    const refreshToken = tokens.value?.refresh;
    clear();
    if (refreshToken) await api.logout(refreshToken).catch(() => undefined);
    if (router) await router.push({ name: "login" });
  }

  // Other tabs: a login, a renewal or a logout there applies here too.
  function onStorage(event: StorageEvent): void {
    if (event.key !== SESSION_KEY && event.key !== null) return;
    const stored = readStored();
    if (stored) tokens.value = stored;
    else if (tokens.value) endSession();
  }
  window.addEventListener("storage", onStorage);
  onScopeDispose(() => window.removeEventListener("storage", onStorage));

  connectSession({ accessToken, renew });

  return {
    tokens,
    me,
    isAuthenticated,
    verified,
    accessToken,
    refresh,
    loadMe,
    login,
    register,
    verify,
    logout,
    endSession,
  };
});
