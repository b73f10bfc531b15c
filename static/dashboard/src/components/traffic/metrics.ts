import type { Kpis, Overview } from "@/api";
import type { SeriesMetric } from "@/composables/useEcharts";
import type { ValueFormat } from "@/lib/format";

export interface MetricDefinition {
  key: SeriesMetric;
  /** The tile's label. */
  label: string;
  /** The chart's title, "… per day". */
  title: string;
  format: ValueFormat;
  /** Lower is better. */
  invert?: boolean;
  /** A rate: its change is told in percentage points. */
  change?: "ratio" | "points";
  /** The figure needs sessions to mean anything (no sessions: no rate, no duration). */
  ofSessions?: boolean;
}

/** The overview's key figures, in the order of the tiles (docs/insights.md says what each is). */
export const METRICS: readonly MetricDefinition[] = [
  { key: "visitors", label: "Unique visitors", title: "Unique visitors", format: "number" },
  { key: "pageviews", label: "Page views", title: "Page views", format: "number" },
  { key: "sessions", label: "Sessions", title: "Sessions started", format: "number" },
  {
    key: "bounce_rate",
    label: "Bounce rate",
    title: "Bounce rate of the sessions started",
    format: "percent",
    invert: true,
    change: "points",
    ofSessions: true,
  },
  {
    key: "avg_session_seconds",
    label: "Session duration",
    title: "Average duration of the sessions started",
    format: "duration",
    ofSessions: true,
  },
];

export const METRIC_KEYS = METRICS.map((metric) => metric.key);
export const DEFAULT_METRIC: SeriesMetric = "visitors";

export function metricOf(key: SeriesMetric): MetricDefinition {
  return METRICS.find((metric) => metric.key === key) ?? METRICS[0]!;
}

/**
 * The previous period's value a tile compares with; none when the previous period had no
 * sessions for a figure of sessions (a bounce rate of "0%" there is no rate at all).
 */
export function previousValue(metric: MetricDefinition, previous: Overview["previous"]): number | null {
  if (!previous) return null;
  if (metric.ofSessions && previous.sessions === 0) return null;
  return previous[metric.key];
}

/** The value a tile shows: a rate or a duration without sessions is no figure ("–"). */
export function currentValue(metric: MetricDefinition, kpis: Kpis): number | null {
  if (metric.ofSessions && kpis.sessions === 0) return null;
  return kpis[metric.key];
}
