import { computed, type WritableComputedRef } from "vue";
import { useRoute, useRouter, type LocationQuery, type LocationQueryRaw, type RouteLocationRaw } from "vue-router";

import { FILTER_KEYS } from "@/api";
import type { TableSort } from "@/components/DataTable.vue";

/**
 * What a colleague should see from a copied link (a tab, a sort, a search, a journey's start)
 * lives in the query string: read from it, written to it. The range and filters are the filters
 * store's; these are a screen's own keys, written next to them.
 */

/** The first value of the query parameter `key`, when it is a non-empty string. */
export function queryValue(query: LocationQuery, key: string): string | undefined {
  const value = query[key];
  const text = Array.isArray(value) ? value[0] : value;
  return typeof text === "string" && text !== "" ? text : undefined;
}

type Changes = Record<string, string | undefined>;

/** The query with `changes` applied (undefined or "" removes a key), as the current entry
 * (`replace`: tabs, sorts, searches) or a new one (`push`: a step the back button undoes). */
function writeQuery(router: ReturnType<typeof useRouter>, current: LocationQueryRaw, changes: Changes, how: "push" | "replace") {
  const next: LocationQueryRaw = { ...current };
  for (const [name, value] of Object.entries(changes)) {
    if (value === undefined || value === "") delete next[name];
    else next[name] = value;
  }
  return router[how]({ query: next });
}

/**
 * Writes keys of a screen's own into the query string (undefined removes one), keeping the range
 * and filters, as a new history entry (the journeys' start, the funnel's drop-off).
 */
export function useQueryWriter(): (changes: Changes) => Promise<void> {
  const route = useRoute();
  const router = useRouter();
  return async (changes) => {
    await writeQuery(router, route.query, changes, "push");
  };
}

/**
 * A choice of a screen that a copied link should keep (a tab, the metric plotted), read from and
 * written to the query parameter `key`. An unknown or missing value reads as `fallback`. Writing
 * replaces the history entry: moving between tabs is not navigation.
 */
export function useQueryChoice<T extends string>(
  key: string,
  choices: readonly T[],
  fallback: T,
): WritableComputedRef<T> {
  const route = useRoute();
  const router = useRouter();
  return computed<T>({
    get: () => {
      const value = queryValue(route.query, key);
      return choices.includes(value as T) ? (value as T) : fallback;
    },
    set: (value) => void writeQuery(router, route.query, { [key]: value }, "replace"),
  });
}

/** Free text in the query parameter `key` (a search), "" when absent. */
export function useQueryText(key: string): WritableComputedRef<string> {
  const route = useRoute();
  const router = useRouter();
  return computed<string>({
    get: () => queryValue(route.query, key) ?? "",
    set: (value) => void writeQuery(router, route.query, { [key]: value }, "replace"),
  });
}

/** A table's order in the query (`sort=visitors&order=asc`); null (the API's order) when absent
 * or not one of `keys`. */
export function useQuerySort(keys: readonly string[]): WritableComputedRef<TableSort | null> {
  const route = useRoute();
  const router = useRouter();
  return computed<TableSort | null>({
    get: () => {
      const key = queryValue(route.query, "sort");
      if (key === undefined || !keys.includes(key)) return null;
      const direction: TableSort["direction"] = queryValue(route.query, "order") === "asc" ? "asc" : "desc";
      return { key, direction };
    },
    set: (sort) =>
      void writeQuery(
        router,
        route.query,
        { sort: sort?.key, order: sort?.direction === "asc" ? "asc" : undefined },
        "replace",
      ),
  });
}

/** A link to another insight screen of the app that keeps the range and the filters. */
export function useInsightLink() {
  const route = useRoute();
  return (name: string, extra: Record<string, string> = {}): RouteLocationRaw => {
    const query: LocationQueryRaw = {};
    for (const key of ["from", "to", ...FILTER_KEYS]) {
      if (route.query[key] !== undefined) query[key] = route.query[key];
    }
    return { name, params: { id: route.params.id }, query: { ...query, ...extra } };
  };
}
