import { computed, type WritableComputedRef } from "vue";
import { useRoute, useRouter, type LocationQueryRaw, type RouteLocationRaw } from "vue-router";

import { FILTER_KEYS, type InsightName } from "@/api";
import type { TableSort } from "@/components/DataTable.vue";
import { csvFilename } from "@/composables/useCsvDownload";
import { useAppsStore } from "@/stores/apps";
import { useFiltersStore } from "@/stores/filters";

/** The first value of a query parameter, when it is a non-empty string. */
function read(value: unknown): string | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  return typeof text === "string" && text !== "" ? text : undefined;
}

/**
 * A choice of a screen that a copied link should keep (a tab, the metric plotted, a sort), read
 * from and written to the query parameter `key`. An unknown or missing value reads as
 * `fallback`. Writing replaces the history entry: moving between tabs is not navigation.
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
      const value = read(route.query[key]);
      return choices.includes(value as T) ? (value as T) : fallback;
    },
    set: (value) => void writeQuery(router, route.query, { [key]: value }),
  });
}

/** Free text in the query parameter `key` (a search), "" when absent. */
export function useQueryText(key: string): WritableComputedRef<string> {
  const route = useRoute();
  const router = useRouter();
  return computed<string>({
    get: () => read(route.query[key]) ?? "",
    set: (value) => void writeQuery(router, route.query, { [key]: value }),
  });
}

function writeQuery(
  router: ReturnType<typeof useRouter>,
  current: LocationQueryRaw,
  changes: Record<string, string | undefined>,
) {
  const next: LocationQueryRaw = { ...current };
  for (const [name, value] of Object.entries(changes)) {
    if (value === undefined || value === "") delete next[name];
    else next[name] = value;
  }
  return router.replace({ query: next });
}

/** A table's order in the query (`sort=visitors&order=asc`); null (the API's order) when absent
 * or not one of `keys`. */
export function useQuerySort(keys: readonly string[]): WritableComputedRef<TableSort | null> {
  const route = useRoute();
  const router = useRouter();
  return computed<TableSort | null>({
    get: () => {
      const key = read(route.query.sort);
      if (key === undefined || !keys.includes(key)) return null;
      const direction: TableSort["direction"] = read(route.query.order) === "asc" ? "asc" : "desc";
      return { key, direction };
    },
    set: (sort) =>
      void writeQuery(router, route.query, {
        sort: sort?.key,
        order: sort?.direction === "asc" ? "asc" : undefined,
      }),
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

/** The CSV download of an insight for the range and filters shown (CsvButton's props). */
export function useInsightCsv(insight: InsightName) {
  const route = useRoute();
  const apps = useAppsStore();
  const filters = useFiltersStore();
  return computed(() => {
    const query = { ...filters.params };
    return {
      appId: Number(route.params.id),
      insight,
      query,
      filename: csvFilename(apps.current?.name ?? "", insight, query),
    };
  });
}
