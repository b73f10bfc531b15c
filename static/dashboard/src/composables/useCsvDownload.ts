import { computed, ref, shallowRef } from "vue";
import { useRoute } from "vue-router";

import { fetchInsightCsv, toApiError, type ApiError, type InsightName, type Query } from "@/api";
import { csvFilename, saveBlob } from "@/lib/csv";
import { useAppsStore } from "@/stores/apps";
import { useFiltersStore } from "@/stores/filters";

/** A table's CSV download (the API's `?format=csv`), with the session's token. */
export function useCsvDownload() {
  const busy = ref(false);
  const error = shallowRef<ApiError | null>(null);

  async function download(appId: number, name: InsightName, query: Query, filename: string) {
    busy.value = true;
    error.value = null;
    try {
      saveBlob(await fetchInsightCsv(appId, name, query), filename);
    } catch (failure) {
      error.value = toApiError(failure);
    } finally {
      busy.value = false;
    }
  }

  return { download, busy, error };
}

/**
 * The CSV download of an insight of the current app, for the range and filters shown (CsvButton's
 * props, DataTable's `csv`). `extra` adds the widget's own parameters (a funnel's `distinct`);
 * `table` names the file when it is not the insight's name ("funnel-dropoffs-stage-2").
 */
export function useInsightCsv(insight: InsightName, options: { extra?: () => Query; table?: () => string } = {}) {
  const route = useRoute();
  const apps = useAppsStore();
  const filters = useFiltersStore();
  return computed(() => {
    const query = { ...filters.params, ...options.extra?.() };
    return {
      appId: Number(route.params.id),
      insight,
      query,
      filename: csvFilename(apps.current?.name ?? "", options.table?.() ?? insight, query),
    };
  });
}
