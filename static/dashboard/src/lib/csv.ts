/** CSV files as the API writes them, named as the API names them, saved by the browser. */
import type { Query } from "@/api";

export type CsvValue = string | number | null | undefined | string[];

/** `rows` as CSV with a header line, as the API writes it (RFC 4180 quoting, "\n" line ends,
 * lists joined with "|"). */
export function toCsv(columns: string[], rows: Record<string, CsvValue>[]): string {
  const cell = (value: CsvValue) => {
    const text = Array.isArray(value) ? value.join("|") : value === null || value === undefined ? "" : String(value);
    return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  };
  const lines = [columns.map(cell), ...rows.map((row) => columns.map((column) => cell(row[column])))];
  return lines.map((line) => line.join(",")).join("\n") + "\n";
}

/** "Shop" "pages" {from, to} -> "shop-pages-2026-11-01-2026-11-30.csv": the API's file names,
 * for its insights and for tables of a screen's own ("top-paths"). */
export function csvFilename(appName: string, table: string, query: Query): string {
  const slug = (text: string) =>
    text
      .toLowerCase()
      .normalize("NFKD")
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-|-$/g, "");
  const parts = [slug(appName) || "app", slug(table), query.from, query.to].filter(Boolean);
  return `${parts.join("-")}.csv`;
}

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
