import type { RouteLocationRaw } from "vue-router";

/** `next` as a path of this site ("/apps/3?from=..."), or undefined: never another origin. */
export function safeNext(next: unknown): string | undefined {
  const value = Array.isArray(next) ? next[0] : next;
  if (typeof value !== "string" || !value.startsWith("/") || value.startsWith("//")) return undefined;
  if (value.startsWith("/login") || value.includes("\\")) return undefined;
  return value;
}

/** The login page, returning to `fullPath` afterwards. */
export function loginLocation(fullPath: string): RouteLocationRaw {
  const next = safeNext(fullPath);
  return next && next !== "/" ? { name: "login", query: { next } } : { name: "login" };
}
