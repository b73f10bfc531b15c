/** Numbers as people read them, in the reader's language. */

const integer = new Intl.NumberFormat();
const compact = new Intl.NumberFormat(undefined, { notation: "compact", maximumFractionDigits: 1 });
const percent = new Intl.NumberFormat(undefined, { style: "percent", maximumFractionDigits: 1 });

/** 1234 -> "1,234"; from 100k on, compact: "123.4K". */
export function formatNumber(value: number): string {
  return Math.abs(value) >= 100_000 ? compact.format(value) : integer.format(value);
}

/** A ratio (0 to 1) -> "12.3%". */
export function formatPercent(ratio: number): string {
  return percent.format(ratio);
}

/** Seconds -> "45s", "3m 05s", "1h 02m". */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return "–";
  const total = Math.round(seconds);
  if (total < 60) return `${total}s`;
  const minutes = Math.floor(total / 60);
  if (minutes < 60) return `${minutes}m ${String(total % 60).padStart(2, "0")}s`;
  return `${Math.floor(minutes / 60)}h ${String(minutes % 60).padStart(2, "0")}m`;
}

export type ValueFormat = "number" | "percent" | "duration";

/** A figure as the screens write it: 1,234 / 32.2% / 1m 46s; "–" when there is none. */
export function formatValue(value: number | null | undefined, format: ValueFormat = "number"): string {
  if (value === null || value === undefined) return "–";
  if (format === "percent") return formatPercent(value);
  if (format === "duration") return formatDuration(value);
  return formatNumber(value);
}

/** A ratio (0 to 1) as a CSS length of a bar: 0.1234 -> "12.34%". */
export function cssPercent(ratio: number): string {
  return `${(ratio * 100).toFixed(2)}%`;
}

export interface Change {
  /** Relative change (0.25 = +25%); null when there is nothing to compare with. */
  ratio: number | null;
  direction: "up" | "down" | "flat";
}

/** The change of `current` against `previous`. */
export function changeOf(current: number, previous: number | null | undefined): Change {
  if (previous === null || previous === undefined) return { ratio: null, direction: "flat" };
  if (previous === 0) return { ratio: null, direction: current > 0 ? "up" : "flat" };
  const ratio = (current - previous) / previous;
  const direction = Math.abs(ratio) < 0.0005 ? "flat" : ratio > 0 ? "up" : "down";
  return { ratio, direction };
}

/** "Ada Lovelace", or the e-mail address when the name is empty. */
export function personName(person: { first_name: string; last_name: string; email: string }): string {
  return `${person.first_name} ${person.last_name}`.trim() || person.email;
}

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ["year", 31_536_000],
  ["month", 2_592_000],
  ["day", 86_400],
  ["hour", 3_600],
  ["minute", 60],
];

/** "3 minutes ago", "yesterday", "in 2 days". */
export function formatRelative(when: string | number, now: number = Date.now()): string {
  const seconds = ((typeof when === "number" ? when : Date.parse(when)) - now) / 1000;
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size) return relative.format(Math.round(seconds / size), unit);
  }
  return "just now";
}
