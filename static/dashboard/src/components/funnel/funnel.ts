/** Words for a funnel's settings (docs/insights.md). */
import type { FunnelOrder, FunnelReport, FunnelStage } from "@/api";

export const ORDER_LABELS: Record<FunnelOrder, string> = {
  ordered: "In order",
  strict: "Strict order",
  any: "Any order",
};

export const ORDER_HINTS: Record<FunnelOrder, string> = {
  ordered: "Stages are reached one after the other; other pages may come between them.",
  strict: "Stages are reached one after the other, with no other stage between them.",
  any: "Every stage is reached, in any order, within the window.",
};

const UNITS: [string, number][] = [
  ["day", 86_400],
  ["hour", 3_600],
  ["minute", 60],
  ["second", 1],
];

/** 3600 -> "1 hour", 5400 -> "1 hour 30 minutes", 7776000 -> "90 days". */
export function formatWindow(seconds: number): string {
  const parts: string[] = [];
  let rest = Math.max(0, Math.round(seconds));
  for (const [unit, size] of UNITS) {
    const count = Math.floor(rest / size);
    rest -= count * size;
    if (count > 0 && parts.length < 2) parts.push(`${count} ${unit}${count === 1 ? "" : "s"}`);
  }
  return parts.join(" ") || "0 seconds";
}

const KIND_LABELS: Record<FunnelStage["kind"], string> = {
  page: "Page",
  click: "Click on",
  event: "Event",
};

/** What a stage matches, in words: "Page /products/{id}", "Click on #buy", "Event signup". */
export function describeStage(stage: FunnelStage): string {
  const query = Object.entries(stage.query ?? {})
    .map(([key, value]) => `${key}=${value}`)
    .join("&");
  return `${KIND_LABELS[stage.kind]} ${stage.match}${query ? `?${query}` : ""}`;
}

/** One stage as the funnel chart draws it. */
export interface StageRow {
  number: number;
  name: string;
  visitors: number;
  /** 0 to 1 of the bar's scale (the first stage, or the largest count for first entries). */
  share: number;
  /** The part of the previous stage's bar that dropped off here. */
  droppedShare: number;
  matches: string | null;
  fromStart: number | null;
  fromPrevious: number | null;
  dropOff: number | null;
  medianSeconds: number | null;
}

/** The chart's rows of a funnel report (bars scaled to the first stage, or to the largest
 * count for first entries); `definitions` say what each stage matches when they line up. */
export function stageRows(report: FunnelReport, definitions: FunnelStage[]): StageRow[] {
  const scale = report.distinct
    ? Math.max(0, ...report.stages.map((stage) => stage.visitors))
    : (report.stages[0]?.visitors ?? 0);
  const shareOf = (visitors: number) => (scale > 0 ? Math.min(1, visitors / scale) : 0);
  return report.stages.map((stage, index) => {
    const definition = definitions[index];
    const full = "conversion_from_start" in stage ? stage : null;
    const previous = index > 0 ? report.stages[index - 1]!.visitors : stage.visitors;
    return {
      number: index + 1,
      name: stage.name,
      visitors: stage.visitors,
      share: shareOf(stage.visitors),
      droppedShare: report.distinct ? 0 : Math.max(0, shareOf(previous) - shareOf(stage.visitors)),
      matches: definition && definition.name === stage.name ? describeStage(definition) : null,
      fromStart: full?.conversion_from_start ?? null,
      fromPrevious: full && index > 0 ? full.conversion_from_previous : null,
      dropOff: full && index > 0 ? full.drop_off : null,
      medianSeconds: full?.median_seconds_from_previous ?? null,
    };
  });
}
