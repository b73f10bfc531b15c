/**
 * Chart options that follow the theme. The colours come from the design tokens (read from the
 * page, so the CSS stays their one source); the builders return plain ECharts options, so this
 * module loads no chart code: the chart components (components/charts) register only the
 * ECharts parts they draw, inside the lazy screens that use them.
 */
import type { EChartsCoreOption } from "echarts/core";
import { computed, type ComputedRef } from "vue";

import type { Journeys, SeriesPoint } from "@/api";
import { formatNumber } from "@/lib/format";
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

/**
 * An axis label of a series bucket. The API labels buckets in the app's time zone already
 * ("2026-11-03" daily, "2026-11-03T14:00:00+01:00" hourly), so the text is read as is and
 * never converted to the browser's zone.
 */
export function bucketLabel(t: string, interval: "hour" | "day"): string {
  if (interval === "hour") return t.slice(11, 16);
  const [year, month, day] = t.split("-").map(Number);
  return new Date(Date.UTC(year ?? 1970, (month ?? 1) - 1, day ?? 1)).toLocaleDateString(undefined, {
    timeZone: "UTC",
    month: "short",
    day: "numeric",
  });
}

function tooltip(theme: ChartTheme) {
  return {
    trigger: "axis" as const,
    backgroundColor: theme.surface,
    borderColor: theme.border,
    textStyle: { color: theme.text, fontSize: 12 },
    valueFormatter: (value: unknown) => (typeof value === "number" ? formatNumber(value) : String(value)),
  };
}

export interface TimeSeriesInput {
  points: SeriesPoint[];
  metric: "pageviews" | "visitors";
  /** The metric's name in words, for the tooltip and the screen reader description. */
  label: string;
  interval: "hour" | "day";
  kind?: "line" | "bar";
  /** The previous period's points, drawn dashed, when given. */
  previous?: SeriesPoint[];
}

/** A time series of one metric (line or bars), optionally with the previous period. */
export function timeSeriesOption(input: TimeSeriesInput, theme: ChartTheme): EChartsCoreOption {
  const kind = input.kind ?? "line";
  const series: Record<string, unknown>[] = [
    {
      name: input.label,
      type: kind,
      data: input.points.map((point) => point[input.metric]),
      color: theme.series[0],
      showSymbol: false,
      smooth: false,
      lineStyle: { width: 2 },
      areaStyle: kind === "line" ? { opacity: 0.08 } : undefined,
      barMaxWidth: 24,
    },
  ];
  if (input.previous) {
    series.push({
      name: `${input.label} (previous period)`,
      type: "line",
      data: input.previous.map((point) => point[input.metric]),
      color: theme.muted,
      showSymbol: false,
      lineStyle: { width: 1.5, type: "dashed" },
    });
  }
  return {
    animationDuration: 300,
    textStyle: { fontFamily: theme.font },
    grid: { left: 8, right: 16, top: 16, bottom: 8, outerBoundsMode: "same", outerBoundsContain: "axisLabel" },
    tooltip: tooltip(theme),
    xAxis: {
      type: "category",
      data: input.points.map((point) => bucketLabel(point.t, input.interval)),
      boundaryGap: kind === "bar",
      axisLine: { lineStyle: { color: theme.border } },
      axisTick: { show: false },
      axisLabel: { color: theme.muted, hideOverlap: true },
    },
    yAxis: {
      type: "value",
      minInterval: 1,
      splitLine: { lineStyle: { color: theme.border } },
      axisLabel: { color: theme.muted, formatter: (value: number) => formatNumber(value) },
    },
    series,
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
