import { ref, shallowRef } from "vue";

import { fetchInsightCsv, toApiError, type ApiError, type InsightName, type Query } from "@/api";

/** Saves `blob` as a file named `filename` (the browser's download). */
export function saveBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  link.rel = "noopener";
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** "Shop" "pages" {from, to} -> "shop-pages-2026-11-01-2026-11-30.csv" */
export function csvFilename(appName: string, name: InsightName, query: Query): string {
  const slug = (text: string) =>
    text
      .toLowerCase()
      .normalize("NFKD")
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-|-$/g, "");
  const parts = [slug(appName) || "app", slug(name), query.from, query.to].filter(Boolean);
  return `${parts.join("-")}.csv`;
}

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
