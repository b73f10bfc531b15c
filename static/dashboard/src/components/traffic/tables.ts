/**
 * The traffic tables: their columns, what their share bars measure and which filter a row
 * click adds, shared by the overview's cards and the full screens (Pages, Sources, Technology),
 * so that both say the same thing the same way. A `TableSpec` binds straight onto RankedTable:
 * `<RankedTable v-bind="REFERRERS" :rows="rows" />`.
 */
import type { BreakdownRow, CampaignRow, FilterKey, PageRow, ReferrerRow } from "@/api";
import type { Column } from "@/components/DataTable.vue";
import { formatDuration, formatNumber, formatPercent } from "@/lib/format";

export interface TableSpec<Row> {
  caption: string;
  columns: Column<Row>[];
  /** The column whose value is the filter's value (the path, the name). */
  rowKey: keyof Row & string;
  filter: FilterKey;
  /** What the share bars measure: a count that adds up over the rows. */
  shareKey: keyof Row & string;
  /** The share in per cent gives way on a phone (the bars stay). */
  shareOptional?: boolean;
}

/** Rows named "(unknown)" gather blank values: the API has no filter for them. */
export const UNKNOWN = "(unknown)";

const FILTER_WORDS: Record<FilterKey, string> = {
  path: "page",
  referrer: "referrer",
  campaign: "campaign",
  browser: "browser",
  os: "operating system",
  device: "device",
};

/** A row button's accessible name: "Filter by browser Firefox". */
export const filterLabel = (key: FilterKey, value: string) => `Filter by ${FILTER_WORDS[key]} ${value}`;

/** Rows of a table on the overview's cards. */
export const OVERVIEW_ROWS = 9;

/** The overview's link to a whole table: "All 101 pages", or "Details" when all are shown. */
export const moreLabel = (count: number, things: string) =>
  count > OVERVIEW_ROWS ? `All ${formatNumber(count)} ${things}` : "Details";

/** A part of a whole; null when there is no whole. */
const rateOf = (part: number, whole: number) => (whole > 0 ? part / whole : null);
const percentOrDash = (value: unknown) => (typeof value === "number" ? formatPercent(value) : "–");

// -- pages -----------------------------------------------------------------------------------

export type PageTab = "pages" | "entries" | "exits";
export const PAGE_TABS: readonly PageTab[] = ["pages", "entries", "exits"];
export const PAGE_TAB_LABELS: Record<PageTab, string> = {
  pages: "Top pages",
  entries: "Entry pages",
  exits: "Exit pages",
};
export const PAGE_TAB_SHORT: Record<PageTab, string> = { pages: "Top", entries: "Entry", exits: "Exit" };

/** A page with its exit rate: the share of its page views that ended a session. */
export type PageTableRow = PageRow & { exit_rate: number | null };

const page: Column<PageTableRow> = { key: "path", label: "Page" };
const pageviews: Column<PageTableRow> = { key: "pageviews", label: "Page views" };
const visitors: Column<PageTableRow> = { key: "visitors", label: "Visitors" };
const timeOnPage: Column<PageTableRow> = {
  key: "avg_seconds",
  label: "Time on page",
  format: (value) => formatDuration(value as number | null),
};
const entries: Column<PageTableRow> = { key: "entries", label: "Entries" };
const exits: Column<PageTableRow> = { key: "exits", label: "Exits" };
const exitRate: Column<PageTableRow> = { key: "exit_rate", label: "Exit rate", format: percentOrDash };
const optional = (column: Column<PageTableRow>) => ({ ...column, optional: true });

/** The overview's compact columns, and the Pages screen's full ones. Optional columns give
 * way on a phone (DataTable): the page, its main count and its share stay. */
const PAGE_COLUMNS: Record<"card" | "full", Record<PageTab, Column<PageTableRow>[]>> = {
  card: {
    pages: [page, pageviews, optional(visitors)],
    entries: [page, entries, optional(visitors)],
    exits: [page, exits, optional(exitRate)],
  },
  full: {
    pages: [page, pageviews, ...[visitors, timeOnPage, entries, exits].map(optional)],
    entries: [page, entries, ...[pageviews, visitors, timeOnPage].map(optional)],
    exits: [page, exits, ...[pageviews, exitRate, timeOnPage].map(optional)],
  },
};

/** A tab's table; its share bars measure page views, entries or exits (every page view has
 * one path, every session one entry and one exit page). */
export function pageSpec(tab: PageTab, size: "card" | "full", caption = PAGE_TAB_LABELS[tab]): TableSpec<PageTableRow> {
  const shareKey = tab === "pages" ? "pageviews" : tab;
  return { caption, columns: PAGE_COLUMNS[size][tab], rowKey: "path", filter: "path", shareKey };
}

/** The rows of a tab: the pages with entries (exits) for those tabs, most first. */
export function pageRows(rows: PageRow[], tab: PageTab): PageTableRow[] {
  const table = rows.map((row) => ({ ...row, exit_rate: rateOf(row.exits, row.pageviews) }));
  if (tab === "pages") return table;
  return table
    .filter((row) => row[tab] > 0)
    .sort((a, b) => b[tab] - a[tab] || a.path.localeCompare(b.path));
}

// -- sources ---------------------------------------------------------------------------------

export const REFERRERS: TableSpec<ReferrerRow> = {
  caption: "Referrers",
  columns: [
    { key: "name", label: "Referrer" },
    { key: "visitors", label: "Visitors" },
  ],
  rowKey: "name",
  filter: "referrer",
  shareKey: "visitors",
};

/** A campaign with its conversion rate: the share of its visitors who completed the funnel. */
export type CampaignTableRow = CampaignRow & { conversion_rate: number | null };

export const campaignRows = (rows: CampaignRow[]): CampaignTableRow[] =>
  rows.map((row) => ({ ...row, conversion_rate: rateOf(row.conversions, row.visitors) }));

export const CAMPAIGNS: TableSpec<CampaignTableRow> = {
  caption: "Campaigns",
  columns: [
    { key: "name", label: "Campaign" },
    { key: "visitors", label: "Visitors" },
    { key: "conversions", label: "Conversions" },
    { key: "conversion_rate", label: "Conv. rate", optional: true, format: percentOrDash },
  ],
  rowKey: "name",
  filter: "campaign",
  shareKey: "visitors",
  shareOptional: true,
};

// -- technology ------------------------------------------------------------------------------

export type Dimension = "browsers" | "os" | "devices";
export const DIMENSIONS: readonly Dimension[] = ["browsers", "os", "devices"];
export const DIMENSION_LABELS: Record<Dimension, string> = {
  browsers: "Browsers",
  os: "Operating systems",
  devices: "Devices",
};
const DIMENSION_FILTERS: Record<Dimension, FilterKey> = { browsers: "browser", os: "os", devices: "device" };
const DIMENSION_COLUMN: Record<Dimension, string> = { browsers: "Browser", os: "Operating system", devices: "Device" };

/** Devices come as "desktop", "mobile", "tablet": shown capitalised (filtered by the API's value). */
const capitalise = (value: unknown) => {
  const text = String(value);
  return text.startsWith("(") ? text : text.charAt(0).toUpperCase() + text.slice(1);
};

/** A dimension's table: visitors (and, in full, page views); shares of visitors. */
export function breakdownSpec(dimension: Dimension, size: "card" | "full"): TableSpec<BreakdownRow> {
  const name: Column<BreakdownRow> = {
    key: "name",
    label: DIMENSION_COLUMN[dimension],
    format: dimension === "devices" ? capitalise : undefined,
  };
  const columns: Column<BreakdownRow>[] = [name, { key: "visitors", label: "Visitors" }];
  if (size === "full") columns.push({ key: "pageviews", label: "Page views", optional: true });
  return {
    caption: DIMENSION_LABELS[dimension],
    columns,
    rowKey: "name",
    filter: DIMENSION_FILTERS[dimension],
    shareKey: "visitors",
  };
}
