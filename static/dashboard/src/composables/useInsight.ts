import { useRoute } from "vue-router";

import type { InsightParams } from "@/api";
import { useFiltersStore } from "@/stores/filters";
import { useResource, type ResourceOptions } from "./useResource";

type InsightFetcher<T> = (appId: number, params: InsightParams, options: { signal: AbortSignal }) => Promise<T>;

/**
 * One insight widget of the current app: loads `fetcher` (an insights function of `@/api`)
 * with the URL's range and filters, again whenever they change. `extra` adds parameters of
 * the widget itself (a funnel's `distinct`, a journey's `start`...); `previous: true` asks for
 * the previous period of equal length instead.
 *
 *   const pages = useInsight(api.getPages, { isEmpty: (d) => !d.results.length });
 */
export function useInsight<T>(
  fetcher: InsightFetcher<T>,
  options: ResourceOptions<T> & { extra?: () => Record<string, unknown>; previous?: boolean } = {},
) {
  const route = useRoute();
  const filters = useFiltersStore();
  return useResource(
    () => {
      const appId = Number(route.params.id);
      if (!Number.isInteger(appId) || appId <= 0 || !filters.ready) return null;
      const params = options.previous ? filters.previousParams : filters.params;
      return { appId, params: { ...params, ...options.extra?.() } };
    },
    ({ appId, params }, signal) => fetcher(appId, params, { signal }),
    options,
  );
}
