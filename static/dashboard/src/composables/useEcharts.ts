/**
 * Chart options that follow the theme. The colours come from the design tokens (read from the
 * page, so the CSS stays their one source); the builders return plain ECharts options, so this
 * module loads no chart code: the chart components (components/charts) register only the
 * ECharts parts they draw, inside the lazy screens that use them.
 */
import type { EChartsCoreOption } from "echarts/core";
import { computed, type ComputedRef } from "vue";

import type { Journeys, Kpis, SeriesPoint } from "@/api";
import { formatValue, type ValueFormat } from "@/lib/format";
import { useThemeStore } from "@/stores/theme";

export interface ChartTheme {
  /** The page's font stack (charts draw text on a canvas, which does not inherit it). */
  font: string;
  text: string;
  muted: string;
  border: string;
  surface: string;
  series: string[];
}

const TOKENS = {
  text: "--text",
  muted: "--text-muted",
  border: "--border",
  surface: "--surface",
} as const;
const SERIES_TOKENS = ["--chart-1", "--chart-2", "--chart-3", "--chart-4", "--chart-5", "--chart-6"];

/** The colour a token resolves to now (tokens are light-dark() pairs, so ask the browser). */
function resolveToken(probe: HTMLElement, token: string): string {
  probe.style.color = `var(${token})`;
  return getComputedStyle(probe).color;
}

export function readChartTheme(): ChartTheme {
  const probe = document.createElement("span");
  probe.hidden = true;
  document.body.append(probe);
  try {
    const read = (token: string) => resolveToken(probe, token);
    return {
      font: getComputedStyle(document.body).fontFamily,
      text: read(TOKENS.text),
      muted: read(TOKENS.muted),
      border: read(TOKENS.border),
      surface: read(TOKENS.surface),
      series: SERIES_TOKENS.map(read),
    };
  } finally {
    probe.remove();
  }
}

/** The chart colours of the theme shown; recomputed when the theme changes. */
export function useChartTheme(): ComputedRef<ChartTheme> {
  const theme = useThemeStore();
  return computed(() => {
    void theme.resolved; // dependency: the tokens resolve differently per theme
    return readChartTheme();
  });
}

/** The calendar day of a bucket ("2026-11-03", or the date part of an hourly bucket) as a
 * UTC date, so that formatting it never moves it to the browser's zone. */
function bucketDay(t: string): Date {
  const [year, month, day] = t.slice(0, 10).split("-").map(Number);
  return new Date(Date.UTC(year ?? 1970, (month ?? 1) - 1, day ?? 1));
}

const shortDay = (t: string) =>
  bucketDay(t).toLocaleDateString(undefined, { timeZone: "UTC", month: "short", day: "numeric" });

/**
 * An axis label of a series bucket. The API labels buckets in the app's time zone already
 * ("2026-11-03" daily, "2026-11-03T14:00:00+01:00" hourly), so the text is read as is and
 * never converted to the browser's zone.
 */
export function bucketLabel(t: string, interval: "hour" | "day"): string {
  if (interval === "hour") return t.slice(11, 16);
  return shortDay(t);
}

/** The axis label of an hourly series over several days: midnight is labelled with its day. */
export function bucketTick(t: string, interval: "hour" | "day", days: number): string {
  if (interval === "hour" && days > 1 && t.slice(11, 16) === "00:00") return shortDay(t);
  return bucketLabel(t, interval);
}

/** A bucket in full, for its details: "Tue, Nov 3, 2026" or "Tue, Nov 3, 14:00". */
export function bucketTitle(t: string, interval: "hour" | "day"): string {
  const day = bucketDay(t).toLocaleDateString(undefined, {
    timeZone: "UTC",
    weekday: "short",
    month: "short",
    day: "numeric",
    year: interval === "day" ? "numeric" : undefined,
  });
  return interval === "hour" ? `${day}, ${t.slice(11, 16)}` : day;
}

export type SeriesMetric = keyof Kpis;

export interface TimeSeriesInput {
  points: SeriesPoint[];
  metric: SeriesMetric;
  /** The metric's name in words, for the bucket details. */
  label: string;
  interval: "hour" | "day";
  kind?: "line" | "bar";
  /** How values are written on the axis and in the details (numbers by default). */
  format?: ValueFormat;
  /** The previous period's points, drawn dashed, when given. */
  previous?: SeriesPoint[];
  /** The bucket in progress (a range that ends today): drawn dashed, as its count is not final;
   * later buckets (the hours still to come) are not drawn. */
  lastBucket?: number;
}

/** One line of a bucket's details: a series' value. */
export interface BucketValue {
  name: string;
  value: string;
  color: string;
  dashed: boolean;
}

/** What hovering (or arrowing to) a bucket shows: its date, the value (so far, for the bucket
 * in progress) and the previous period's, with its date. */
export interface BucketDetails {
  title: string;
  values: BucketValue[];
}

/** A bucket's value as plotted: null where nothing is drawn. A bucket without sessions has no
 * bounce rate or duration (the API says 0 there): a gap, not 0. */
export function plotted(input: TimeSeriesInput, point: SeriesPoint | undefined): number | null {
  if (!point) return null;
  const ofSessions = input.metric === "bounce_rate" || input.metric === "avg_session_seconds";
  return ofSessions && point.sessions === 0 ? null : point[input.metric];
}

export function bucketDetails(input: TimeSeriesInput, theme: ChartTheme, index: number): BucketDetails | null {
  const point = input.points[index];
  if (!point || index > (input.lastBucket ?? Infinity)) return null;
  const values: BucketValue[] = [
    {
      name: index === input.lastBucket ? `${input.label} (so far)` : input.label,
      value: formatValue(plotted(input, point), input.format),
      color: theme.series[0] ?? theme.text,
      dashed: index === input.lastBucket,
    },
  ];
  const before = input.previous?.[index];
  if (before) {
    values.push({
      name: bucketTitle(before.t, input.interval),
      value: formatValue(plotted(input, before), input.format),
      color: theme.muted,
      dashed: true,
    });
  }
  return { title: bucketTitle(point.t, input.interval), values };
}

/** The series of the chosen metric: the line (or bars) up to the bucket in progress, which a
 * dashed segment joins (a line only), and the previous period dashed in grey. */
function metricSeries(input: TimeSeriesInput, theme: ChartTheme): Record<string, unknown>[] {
  const kind = input.kind ?? "line";
  const last = input.lastBucket ?? Infinity;
  const partial = kind === "line" && input.lastBucket !== undefined && last >= 1;
  const value = (point: SeriesPoint) => plotted(input, point);
  const series: Record<string, unknown>[] = [
    {
      id: "current",
      name: input.label,
      type: kind,
      data: input.points.map((point, index) => (index > last || (partial && index === last) ? null : value(point))),
      color: theme.series[0],
      showSymbol: input.points.length === 1,
      lineStyle: { width: 2 },
      areaStyle: kind === "line" ? { opacity: 0.08 } : undefined,
      barMaxWidth: 24,
    },
  ];
  if (partial) {
    series.push({
      id: "partial",
      name: `${input.label} (so far)`,
      type: "line",
      data: input.points.map((point, index) => (index === last || index === last - 1 ? value(point) : null)),
      color: theme.series[0],
      showSymbol: false,
      lineStyle: { width: 2, type: "dashed" },
    });
  }
  if (input.previous) {
    series.push({
      id: "previous",
      name: `${input.label} (previous period)`,
      type: "line",
      data: input.previous.map(value),
      color: theme.muted,
      showSymbol: false,
      lineStyle: { width: 1.5, type: "dashed" },
    });
  }
  return series;
}

/** A time series of one metric (line or bars), optionally with the previous period. Its
 * details on hover are the component's (`bucketDetails`), not an ECharts tooltip, which would
 * weigh 25 KB gzip on the overview. */
export function timeSeriesOption(input: TimeSeriesInput, theme: ChartTheme): EChartsCoreOption {
  const format = input.format ?? "number";
  const days = new Set(input.points.map((point) => point.t.slice(0, 10))).size;
  return {
    animationDuration: 300,
    textStyle: { fontFamily: theme.font },
    grid: { left: 8, right: 16, top: 16, bottom: 8, outerBoundsMode: "same", outerBoundsContain: "axisLabel" },
    xAxis: {
      type: "category",
      data: input.points.map((point) => point.t),
      boundaryGap: (input.kind ?? "line") === "bar",
      axisLine: { lineStyle: { color: theme.border } },
      axisTick: { show: false },
      axisLabel: {
        color: theme.muted,
        hideOverlap: true,
        formatter: (t: string) => bucketTick(t, input.interval, days),
      },
    },
    yAxis: {
      type: "value",
      minInterval: format === "number" ? 1 : undefined,
      splitLine: { lineStyle: { color: theme.border } },
      axisLabel: { color: theme.muted, formatter: (value: number) => formatValue(value, format) },
    },
    series: metricSeries(input, theme),
  };
}

export const OTHER_PAGES = "(other)";

/** Journeys with at most `perStep` nodes per step: the rest of a step becomes "(other)". */
export function capJourneyNodes(journeys: Journeys, perStep: number): Pick<Journeys, "nodes" | "links"> {
  const kept = new Set<string>();
  const byStep = new Map<number, Journeys["nodes"]>();
  for (const node of journeys.nodes) byStep.set(node.step, [...(byStep.get(node.step) ?? []), node]);
  const nodes: Journeys["nodes"] = [];
  for (const [step, list] of byStep) {
    const sorted = [...list].sort((a, b) => b.visitors - a.visitors);
    sorted.slice(0, perStep).forEach((node) => kept.add(node.id));
    nodes.push(...sorted.slice(0, perStep));
    const rest = sorted.slice(perStep);
    if (rest.length) {
      const visitors = rest.reduce((sum, node) => sum + node.visitors, 0);
      nodes.push({ id: `${step}:${OTHER_PAGES}`, name: OTHER_PAGES, step, visitors });
    }
  }
  const grouped = (id: string) => (kept.has(id) ? id : `${id.split(":")[0]}:${OTHER_PAGES}`);
  const links = new Map<string, Journeys["links"][number]>();
  for (const link of journeys.links) {
    const source = grouped(link.source);
    const target = grouped(link.target);
    const key = `${source}\u0000${target}`;
    const existing = links.get(key);
    if (existing) existing.visitors += link.visitors;
    else links.set(key, { source, target, visitors: link.visitors });
  }
  return { nodes, links: [...links.values()] };
}

/** A Sankey of journeys; hovering a node highlights its paths. */
export function sankeyOption(journeys: Pick<Journeys, "nodes" | "links">, theme: ChartTheme): EChartsCoreOption {
  const names = new Map(journeys.nodes.map((node) => [node.id, node.name]));
  return {
    animationDuration: 300,
    textStyle: { fontFamily: theme.font },
    tooltip: {
      trigger: "item",
      backgroundColor: theme.surface,
      borderColor: theme.border,
      textStyle: { color: theme.text, fontSize: 12 },
    },
    series: [
      {
        type: "sankey",
        data: journeys.nodes.map((node) => ({ name: node.id, value: node.visitors, depth: node.step })),
        links: journeys.links.map((link) => ({ source: link.source, target: link.target, value: link.visitors })),
        emphasis: { focus: "adjacency" },
        nodeAlign: "left",
        nodeGap: 10,
        draggable: false,
        label: {
          color: theme.text,
          formatter: (params: { name: string }) => names.get(params.name) ?? params.name,
        },
        lineStyle: { color: "gradient", opacity: 0.3 },
        itemStyle: { borderWidth: 0 },
        color: theme.series,
      },
    ],
  };
}
