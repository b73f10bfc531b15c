import { defineStore } from "pinia";
import { computed, inject, onScopeDispose, ref } from "vue";
import { routeLocationKey, routerKey, type LocationQuery, type LocationQueryRaw } from "vue-router";

import { FILTER_KEYS, type FilterKey, type Filters, type InsightParams } from "@/api";
import {
  addDays,
  DEFAULT_PRESET,
  formatRange,
  isValidRange,
  presetOf,
  presetRange,
  previousPeriod,
  PRESET_LABELS,
  shiftRange,
  todayIn,
  type DateRange,
  type Preset,
} from "@/lib/dates";
import { useAppsStore } from "./apps";

export const FILTER_LABELS: Record<FilterKey, string> = {
  browser: "Browser",
  os: "OS",
  device: "Device",
  path: "Page",
  referrer: "Referrer",
  campaign: "Campaign",
};

function first(query: LocationQuery, key: string): string | undefined {
  const value = query[key];
  const text = Array.isArray(value) ? value[0] : value;
  return typeof text === "string" && text !== "" ? text : undefined;
}

/**
 * The date range and the filters of the insight screens. The URL is the state: every getter
 * reads the query string (`from`, `to`, `browser`, `os`, `device`, `path`, `referrer`,
 * `campaign`) and every action writes it, so a copied link shows a colleague the same numbers.
 * Dates are days of the app's time zone.
 */
export const useFiltersStore = defineStore("filters", () => {
  const route = inject(routeLocationKey, null);
  const router = inject(routerKey, null);
  const apps = useAppsStore();

  // "Today" moves at midnight of the app's time zone: the clock ticks once a minute.
  const clock = ref(Date.now());
  const ticker = setInterval(() => (clock.value = Date.now()), 60_000);
  onScopeDispose(() => clearInterval(ticker));

  const query = computed<LocationQuery>(() => route?.query ?? {});
  const timeZone = computed(() => apps.current?.timezone ?? "UTC");
  const today = computed(() => todayIn(timeZone.value, clock.value));

  /** The range the URL names, when it names a valid one. As in the API, a missing `to` is
   * today and a missing `from` is 30 days before `to`. */
  const explicitRange = computed<DateRange | null>(() => {
    const from = first(query.value, "from");
    const to = first(query.value, "to");
    if (from === undefined && to === undefined) return null;
    const end = to ?? today.value;
    const candidate = { from: from ?? addDays(end, -29), to: end };
    return isValidRange(candidate) ? candidate : null;
  });

  const range = computed<DateRange>(
    () => explicitRange.value ?? presetRange(DEFAULT_PRESET, today.value),
  );
  /** The preset that gives the range today, or "custom". */
  const preset = computed<Preset | "custom">(() =>
    explicitRange.value ? (presetOf(range.value, today.value) ?? "custom") : DEFAULT_PRESET,
  );
  const label = computed(() =>
    preset.value === "custom" ? formatRange(range.value) : PRESET_LABELS[preset.value],
  );
  const previous = computed(() => previousPeriod(range.value));
  const canGoForward = computed(() => range.value.to < today.value);

  const filters = computed<Filters>(() => {
    const result: Filters = {};
    for (const key of FILTER_KEYS) {
      const value = first(query.value, key);
      if (value !== undefined) result[key] = value;
    }
    return result;
  });
  const hasFilters = computed(() => Object.keys(filters.value).length > 0);

  /** Whether the range is known: dates in the URL, or the app (its time zone) loaded. */
  const ready = computed(() => explicitRange.value !== null || apps.current !== null);

  /** The query of the insights endpoints for the range and filters shown. */
  const params = computed<InsightParams>(() => ({ ...range.value, ...filters.value }));
  /** The same for the previous period of equal length. */
  const previousParams = computed<InsightParams>(() => ({ ...previous.value, ...filters.value }));

  async function write(changes: Record<string, string | undefined>): Promise<void> {
    if (!router || !route) return;
    const next: LocationQueryRaw = { ...route.query };
    for (const [key, value] of Object.entries(changes)) {
      if (value === undefined || value === "") delete next[key];
      else next[key] = value;
    }
    await router.push({ query: next });
  }

  const setRange = (value: DateRange) => write({ from: value.from, to: value.to });
  const setPreset = (value: Preset) => setRange(presetRange(value, today.value));
  const shift = (direction: -1 | 1) => setRange(shiftRange(range.value, direction));
  const setFilter = (key: FilterKey, value: string) => write({ [key]: value });
  const removeFilter = (key: FilterKey) => write({ [key]: undefined });
  const clearFilters = () =>
    write(Object.fromEntries(FILTER_KEYS.map((key) => [key, undefined])));

  return {
    timeZone,
    today,
    range,
    preset,
    label,
    previous,
    canGoForward,
    filters,
    hasFilters,
    ready,
    params,
    previousParams,
    setRange,
    setPreset,
    shift,
    setFilter,
    removeFilter,
    clearFilters,
  };
});
