import { onScopeDispose, watch } from "vue";
import { useRoute } from "vue-router";

import type { InsightParams } from "@/api";
import { useFiltersStore } from "@/stores/filters";
import { useLiveStore } from "@/stores/live";
import { useResource, type ResourceOptions } from "./useResource";

type InsightFetcher<T> = (appId: number, params: InsightParams, options: { signal: AbortSignal }) => Promise<T>;

/** At most one refresh of a widget per this many ms when new traffic arrives. */
export const LIVE_REFRESH_MS = 5_000;

/**
 * One insight widget of the current app: loads `fetcher` (an insights function of `@/api`)
 * with the URL's range and filters, again whenever they change. `extra` adds parameters of
 * the widget itself (a funnel's `distinct`, a journey's `start`...); `previous: true` asks for
 * the previous period of equal length instead.
 *
 * While the range includes today, the widget follows the traffic: each realtime push of the
 * app (the header's live counter keeps the app subscribed) reloads it quietly, the shown data
 * staying until the new answer arrives, at most once every LIVE_REFRESH_MS.
 *
 *   const pages = useInsight(api.getPages, { isEmpty: (d) => !d.results.length });
 */
export function useInsight<T>(
  fetcher: InsightFetcher<T>,
  options: ResourceOptions<T> & { extra?: () => Record<string, unknown>; previous?: boolean } = {},
) {
  const route = useRoute();
  const filters = useFiltersStore();
  const resource = useResource(
    () => {
      const appId = Number(route.params.id);
      if (!Number.isInteger(appId) || appId <= 0 || !filters.ready) return null;
      const params = options.previous ? filters.previousParams : filters.params;
      return { appId, params: { ...params, ...options.extra?.() } };
    },
    ({ appId, params }, signal) => fetcher(appId, params, { signal }),
    options,
  );
  if (!options.previous) followTraffic(() => Number(route.params.id), resource.reload);
  return resource;
}

/** Calls `reload` when new traffic of the app arrives while the range includes today. */
function followTraffic(appId: () => number, reload: () => Promise<void>): void {
  const filters = useFiltersStore();
  const live = useLiveStore();
  let last = 0;
  let timer: ReturnType<typeof setTimeout> | null = null;

  function refresh(): void {
    timer = null;
    last = Date.now();
    void reload();
  }

  watch(
    () => live.realtime[appId()]?.receivedAt,
    (pushed) => {
      if (!pushed || timer !== null || filters.range.to < filters.today) return;
      timer = setTimeout(refresh, Math.max(0, last + LIVE_REFRESH_MS - Date.now()));
    },
  );
  onScopeDispose(() => {
    if (timer !== null) clearTimeout(timer);
  });
}
