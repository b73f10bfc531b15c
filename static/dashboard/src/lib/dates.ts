/**
 * Calendar dates (`YYYY-MM-DD`) as the API counts them: days of the app's time zone, never the
 * browser's. Arithmetic runs on plain dates in UTC, so that no daylight-saving change or
 * browser zone can move a day.
 */

export type IsoDate = string;

export interface DateRange {
  from: IsoDate;
  to: IsoDate;
}

export const MAX_RANGE_DAYS = 366;
const DAY_MS = 86_400_000;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

function toUtc(date: IsoDate): Date {
  const [, y, m, d] = ISO_DATE.exec(date) ?? [];
  return new Date(Date.UTC(Number(y), Number(m) - 1, Number(d)));
}

function fromUtc(date: Date): IsoDate {
  return date.toISOString().slice(0, 10);
}

export function isIsoDate(value: unknown): value is IsoDate {
  if (typeof value !== "string" || !ISO_DATE.test(value)) return false;
  const date = toUtc(value);
  return !Number.isNaN(date.getTime()) && fromUtc(date) === value;
}

const dayFormats = new Map<string, Intl.DateTimeFormat>();

/** The calendar date in `timeZone` at the instant `now` (epoch ms). */
export function todayIn(timeZone: string, now: number = Date.now()): IsoDate {
  let format = dayFormats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat("en-CA", {
      timeZone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
    });
    dayFormats.set(timeZone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(now).map((p) => [p.type, p.value]));
  return `${parts.year}-${parts.month}-${parts.day}`;
}

export function addDays(date: IsoDate, days: number): IsoDate {
  return fromUtc(new Date(toUtc(date).getTime() + days * DAY_MS));
}

/** The same day `months` months later, clamped to the end of a shorter month. */
export function addMonths(date: IsoDate, months: number): IsoDate {
  const source = toUtc(date);
  const first = new Date(Date.UTC(source.getUTCFullYear(), source.getUTCMonth() + months, 1));
  const last = endOfMonth(fromUtc(first));
  const day = Math.min(source.getUTCDate(), toUtc(last).getUTCDate());
  return fromUtc(new Date(Date.UTC(first.getUTCFullYear(), first.getUTCMonth(), day)));
}

export function startOfMonth(date: IsoDate): IsoDate {
  return `${date.slice(0, 7)}-01`;
}

export function endOfMonth(date: IsoDate): IsoDate {
  const source = toUtc(date);
  return fromUtc(new Date(Date.UTC(source.getUTCFullYear(), source.getUTCMonth() + 1, 0)));
}

/** Days in the range, both ends included. */
export function rangeDays(range: DateRange): number {
  return Math.round((toUtc(range.to).getTime() - toUtc(range.from).getTime()) / DAY_MS) + 1;
}

export function isValidRange(range: DateRange): boolean {
  return (
    isIsoDate(range.from) &&
    isIsoDate(range.to) &&
    range.from <= range.to &&
    rangeDays(range) <= MAX_RANGE_DAYS
  );
}

/** The period of equal length just before `range`, to compare figures with. */
export function previousPeriod(range: DateRange): DateRange {
  const days = rangeDays(range);
  return { from: addDays(range.from, -days), to: addDays(range.from, -1) };
}

function isWholeMonth(range: DateRange): boolean {
  return range.from === startOfMonth(range.from) && range.to === endOfMonth(range.from);
}

/** The range moved one period back (-1) or forward (+1); whole months move by a month. */
export function shiftRange(range: DateRange, direction: -1 | 1): DateRange {
  if (isWholeMonth(range)) {
    const from = addMonths(range.from, direction);
    return { from, to: endOfMonth(from) };
  }
  const days = rangeDays(range) * direction;
  return { from: addDays(range.from, days), to: addDays(range.to, days) };
}

// -- presets --------------------------------------------------------------------------------------

export const PRESETS = ["today", "yesterday", "7d", "30d", "month", "last-month", "12mo"] as const;
export type Preset = (typeof PRESETS)[number];

export const PRESET_LABELS: Record<Preset, string> = {
  today: "Today",
  yesterday: "Yesterday",
  "7d": "Last 7 days",
  "30d": "Last 30 days",
  month: "This month",
  "last-month": "Last month",
  "12mo": "Last 12 months",
};

/** The keyboard shortcut of each preset (listed under `?`). */
export const PRESET_KEYS: Record<Preset, string> = {
  today: "t",
  yesterday: "y",
  "7d": "w",
  "30d": "f",
  month: "m",
  "last-month": "p",
  "12mo": "l",
};

/** The default range of the API and of the dashboard when the URL names none. */
export const DEFAULT_PRESET: Preset = "30d";

/** The range of a preset, given today's date in the app's time zone. */
export function presetRange(preset: Preset, today: IsoDate): DateRange {
  switch (preset) {
    case "today":
      return { from: today, to: today };
    case "yesterday":
      return { from: addDays(today, -1), to: addDays(today, -1) };
    case "7d":
      return { from: addDays(today, -6), to: today };
    case "30d":
      return { from: addDays(today, -29), to: today };
    case "month":
      return { from: startOfMonth(today), to: today };
    case "last-month": {
      const from = addMonths(startOfMonth(today), -1);
      return { from, to: endOfMonth(from) };
    }
    case "12mo":
      return { from: addDays(addMonths(today, -12), 1), to: today };
  }
}

/** The preset that gives exactly `range` today, if any. */
export function presetOf(range: DateRange, today: IsoDate): Preset | undefined {
  return PRESETS.find((preset) => {
    const candidate = presetRange(preset, today);
    return candidate.from === range.from && candidate.to === range.to;
  });
}

// -- words ----------------------------------------------------------------------------------------

const rangeFormat = new Intl.DateTimeFormat(undefined, {
  timeZone: "UTC",
  year: "numeric",
  month: "short",
  day: "numeric",
});

/** "Nov 1 – 30, 2026" in the reader's language. */
export function formatRange(range: DateRange): string {
  const from = toUtc(range.from);
  if (range.from === range.to) return rangeFormat.format(from);
  return rangeFormat.formatRange(from, toUtc(range.to));
}

/** "Nov 1, 2026" */
export function formatDate(date: IsoDate): string {
  return rangeFormat.format(toUtc(date));
}

const ZONED_STYLES = {
  time: { hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" },
  datetime: { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23" },
  full: { dateStyle: "medium", timeStyle: "long" },
} satisfies Record<string, Intl.DateTimeFormatOptions>;
const zonedFormats = new Map<string, Intl.DateTimeFormat>();

/** `at` (epoch ms) as the clock of `timeZone` reads it, in the reader's language: "14:32:05"
 * (`time`), "Dec 4, 14:32" (`datetime`), or the date, time and zone in full (`full`). */
export function formatInZone(at: number, timeZone: string, style: keyof typeof ZONED_STYLES): string {
  const key = `${timeZone}|${style}`;
  let format = zonedFormats.get(key);
  if (!format) {
    format = new Intl.DateTimeFormat(undefined, { ...ZONED_STYLES[style], timeZone });
    zonedFormats.set(key, format);
  }
  return format.format(at);
}
