/**
 * The configuration screen's editable copy of an app's configuration (funnels/config.py), and
 * the way back to what the API accepts. Every list item carries a `key` of its own, so that an
 * item keeps its identity (and its error messages) while it is moved around.
 */
import type { AppConfig, Campaign, ConfigInput, FunnelOrder, StageKind } from "@/api";
import type { FieldErrors } from "@/api/http";

/** Limits of funnels/config.py. */
export const MAX_STAGES = 20;
export const MAX_CAMPAIGNS = 50;
export const MAX_ELEMENTS = 50;
export const MAX_NAME_LENGTH = 64;
export const MAX_QUERY_PARAMS = 10;
export const MIN_WINDOW_SECONDS = 60;
export const MAX_WINDOW_SECONDS = 90 * 24 * 3600;

export const UTM_PARAMS = ["utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"] as const;
export type UtmParam = (typeof UTM_PARAMS)[number];

export const KIND_LABELS: Record<StageKind, string> = {
  page: "Page view",
  click: "Click",
  event: "Custom event",
};

export const ORDER_LABELS: Record<FunnelOrder, { label: string; description: string }> = {
  ordered: {
    label: "In order",
    description: "Visitors reach the stages in this order; other pages and events may come in between.",
  },
  strict: {
    label: "Strictly in order",
    description: "In this order, and no other stage in between (repeating the current stage is fine).",
  },
  any: {
    label: "Any order",
    description: "Visitors reach the stages in any order; all of them count within the window.",
  },
};

export const WINDOW_UNITS = { minutes: 60, hours: 3600, days: 86_400 } as const;
export type WindowUnit = keyof typeof WINDOW_UNITS;

export interface QueryRow {
  key: string;
  name: string;
  value: string;
}

export interface StageDraft {
  key: string;
  name: string;
  kind: StageKind;
  match: string;
  query: QueryRow[];
}

export type CampaignDraft = { key: string; name: string } & Record<UtmParam, string>;

export interface ElementDraft {
  key: string;
  name: string;
  selector: string;
}

export interface ConfigDraft {
  order: FunnelOrder;
  /** As typed: a number of `windowUnit`s. */
  windowAmount: string;
  windowUnit: WindowUnit;
  stages: StageDraft[];
  campaigns: CampaignDraft[];
  elements: ElementDraft[];
}

/** The lists of a configuration whose items the API reports by index. */
export type ListName = "stages" | "campaigns" | "elements";

/** Where each list's items are in the API's field paths. */
export const LIST_PATHS: Record<ListName, string> = {
  stages: "funnel.stages",
  campaigns: "campaigns",
  elements: "elements",
};

let lastKey = 0;
/** A key no other item of this page has. */
export function newKey(prefix: string): string {
  lastKey += 1;
  return `${prefix}${lastKey}`;
}

export function newStage(): StageDraft {
  return { key: newKey("stage-"), name: "", kind: "page", match: "", query: [] };
}

export function newQueryRow(): QueryRow {
  return { key: newKey("param-"), name: "", value: "" };
}

export function newCampaign(): CampaignDraft {
  const utm = Object.fromEntries(UTM_PARAMS.map((param) => [param, ""])) as Record<UtmParam, string>;
  return { key: newKey("campaign-"), name: "", ...utm };
}

export function newElement(): ElementDraft {
  return { key: newKey("element-"), name: "", selector: "" };
}

/** The largest unit that expresses `seconds` as a whole number (minutes otherwise). */
export function windowParts(seconds: number): { amount: string; unit: WindowUnit } {
  const unit: WindowUnit = seconds % WINDOW_UNITS.days === 0 ? "days" : seconds % WINDOW_UNITS.hours === 0 ? "hours" : "minutes";
  return { amount: String(seconds / WINDOW_UNITS[unit]), unit };
}

/** "1 hour", "7 days", "90 minutes". */
export function formatWindow(seconds: number): string {
  const { amount, unit } = windowParts(seconds);
  return `${amount} ${amount === "1" ? unit.slice(0, -1) : unit}`;
}

/** The window in seconds, or null when the amount is not a positive number. */
export function windowSeconds(draft: Pick<ConfigDraft, "windowAmount" | "windowUnit">): number | null {
  const amount = Number(draft.windowAmount.trim().replace(",", "."));
  if (!draft.windowAmount.trim() || !Number.isFinite(amount) || amount <= 0) return null;
  return Math.round(amount * WINDOW_UNITS[draft.windowUnit]);
}

export function toDraft(config: AppConfig): ConfigDraft {
  const { amount, unit } = windowParts(config.funnel.window_seconds);
  return {
    order: config.funnel.order,
    windowAmount: amount,
    windowUnit: unit,
    stages: config.funnel.stages.map((stage) => ({
      key: newKey("stage-"),
      name: stage.name,
      kind: stage.kind,
      match: stage.match,
      query: Object.entries(stage.query ?? {}).map(([name, value]) => ({ key: newKey("param-"), name, value })),
    })),
    campaigns: config.campaigns.map((campaign) => ({
      ...newCampaign(),
      ...Object.fromEntries(Object.entries(campaign).filter(([, value]) => typeof value === "string")),
    })),
    elements: config.elements.map((element) => ({ key: newKey("element-"), name: element.name, selector: element.selector })),
  };
}

function queryOf(stage: StageDraft): Record<string, string> | undefined {
  const rows = stage.query.filter((row) => row.name.trim() || row.value.trim());
  if (stage.kind !== "page" || rows.length === 0) return undefined;
  return Object.fromEntries(rows.map((row) => [row.name.trim(), row.value]));
}

/** What is saved (without the version): the shape of funnels/config.py. */
export function toPayload(draft: ConfigDraft): Omit<ConfigInput, "version"> {
  return {
    funnel: {
      order: draft.order,
      // Not a number: the API refuses null with its own message (draftProblems says it first).
      window_seconds: windowSeconds(draft) as number,
      stages: draft.stages.map((stage) => {
        const query = queryOf(stage);
        return { name: stage.name, kind: stage.kind, match: stage.match, ...(query ? { query } : {}) };
      }),
    },
    campaigns: draft.campaigns.map((draftCampaign) => {
      const campaign: Campaign = { name: draftCampaign.name };
      for (const param of UTM_PARAMS) if (draftCampaign[param].trim()) campaign[param] = draftCampaign[param];
      return campaign;
    }),
    elements: draft.elements.map((element) => ({ name: element.name, selector: element.selector })),
  };
}

/** Whether two drafts save the same configuration (keys and spelling of the window aside). */
export function sameConfig(a: ConfigDraft, b: ConfigDraft): boolean {
  return JSON.stringify(toPayload(a)) === JSON.stringify(toPayload(b));
}

/** `list` with the item at `from` moved to `to` (both clamped to the list). */
export function moveItem<T>(list: readonly T[], from: number, to: number): T[] {
  const copy = [...list];
  const target = Math.max(0, Math.min(copy.length - 1, to));
  if (from < 0 || from >= copy.length || from === target) return copy;
  const [item] = copy.splice(from, 1);
  copy.splice(target, 0, item as T);
  return copy;
}

/**
 * What the browser can tell before asking the API, in the API's field paths: a window that is
 * not a number (JSON cannot carry it) or out of range (said in the units shown, not seconds),
 * and query parameters the object would silently merge.
 */
export function draftProblems(draft: ConfigDraft): FieldErrors {
  const problems: FieldErrors = {};
  const seconds = windowSeconds(draft);
  if (seconds === null) problems["funnel.window_seconds"] = ["Enter a number, like 7 (days)."];
  else if (seconds < MIN_WINDOW_SECONDS || seconds > MAX_WINDOW_SECONDS) {
    problems["funnel.window_seconds"] = ["The window is 1 minute to 90 days."];
  }
  draft.stages.forEach((stage, index) => {
    if (stage.kind !== "page") return;
    const seen = new Set<string>();
    for (const row of stage.query) {
      const name = row.name.trim();
      if (!name && row.value.trim()) {
        problems[`funnel.stages.${index}.query`] = ["Give each query parameter a name."];
      } else if (name && seen.has(name)) {
        problems[`funnel.stages.${index}.query.${name}`] = [`The parameter '${name}' appears twice.`];
      }
      seen.add(name);
    }
  });
  return problems;
}

/** The keys of each list's items, in order: what indexes in field paths stand for. */
export type ListKeys = Record<ListName, string[]>;

export function keysOf(draft: ConfigDraft): ListKeys {
  return {
    stages: draft.stages.map((item) => item.key),
    campaigns: draft.campaigns.map((item) => item.key),
    elements: draft.elements.map((item) => item.key),
  };
}

/** The field paths the screen shows next to a field (indexes already replaced by keys). */
const PLACED = [
  /^funnel\.(order|window_seconds|stages)$/,
  /^funnel\.stages\.[\w-]+(\.(name|kind|match|query)(\..+)?)?$/,
  /^campaigns(\.[\w-]+(\.(name|utm_source|utm_medium|utm_campaign|utm_term|utm_content))?)?$/,
  /^elements(\.[\w-]+(\.(name|selector))?)?$/,
];

export interface KeyedErrors {
  /** Messages by field path, list indexes replaced by item keys: `funnel.stages.stage-4.match`. */
  byPath: Record<string, string>;
  /** Messages the screen has no field for, in words. */
  other: string[];
}

/**
 * The API's field errors (`funnel.stages.2.match`), attached to the items they were about
 * when the configuration was sent (`keys`), so that they follow an item that moves.
 */
export function keyedErrors(fields: FieldErrors, keys: ListKeys): KeyedErrors {
  const byPath: Record<string, string> = {};
  const other: string[] = [];
  for (const [path, messages] of Object.entries(fields)) {
    const message = messages.join(" ");
    const keyed = keyPath(path, keys);
    if (keyed && PLACED.some((pattern) => pattern.test(keyed))) byPath[keyed] = message;
    else other.push(path === "non_field_errors" ? message : `${path}: ${message}`);
  }
  return { byPath, other };
}

function keyPath(path: string, keys: ListKeys): string | null {
  for (const [list, prefix] of Object.entries(LIST_PATHS) as [ListName, string][]) {
    const match = path.match(new RegExp(`^${prefix.replace(".", "\\.")}\\.(\\d+)(\\..*)?$`));
    if (!match) continue;
    const key = keys[list][Number(match[1])];
    return key === undefined ? null : `${prefix}.${key}${match[2] ?? ""}`;
  }
  return path;
}

/** Errors at `path` or below it. */
export function errorsUnder(errors: Record<string, string>, path: string): [string, string][] {
  return Object.entries(errors).filter(([key]) => key === path || key.startsWith(`${path}.`));
}
