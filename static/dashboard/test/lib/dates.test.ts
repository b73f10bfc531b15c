import { describe, expect, it } from "vitest";

import {
  addMonths,
  formatRange,
  presetOf,
  presetRange,
  previousPeriod,
  rangeDays,
  shiftRange,
  todayIn,
} from "@/lib/dates";

describe("dates", () => {
  it("knows today's date in any IANA time zone", () => {
    const instant = Date.parse("2026-11-30T20:00:00Z");
    expect(todayIn("Pacific/Auckland", instant)).toBe("2026-12-01");
    expect(todayIn("America/Los_Angeles", instant)).toBe("2026-11-30");
    expect(todayIn("UTC", instant)).toBe("2026-11-30");
    // Kiritimati is UTC+14: the earliest calendar on Earth.
    expect(todayIn("Pacific/Kiritimati", Date.parse("2026-03-01T10:30:00Z"))).toBe("2026-03-02");
  });

  it("computes every preset from today", () => {
    const today = "2026-03-15";
    expect(presetRange("today", today)).toEqual({ from: "2026-03-15", to: "2026-03-15" });
    expect(presetRange("yesterday", today)).toEqual({ from: "2026-03-14", to: "2026-03-14" });
    expect(presetRange("7d", today)).toEqual({ from: "2026-03-09", to: "2026-03-15" });
    expect(presetRange("30d", today)).toEqual({ from: "2026-02-14", to: "2026-03-15" });
    expect(presetRange("month", today)).toEqual({ from: "2026-03-01", to: "2026-03-15" });
    expect(presetRange("last-month", today)).toEqual({ from: "2026-02-01", to: "2026-02-28" });
    expect(presetRange("12mo", today)).toEqual({ from: "2025-03-16", to: "2026-03-15" });
    expect(rangeDays(presetRange("12mo", "2028-02-29"))).toBe(366);
  });

  it("recognizes a range as the preset that gives it today", () => {
    expect(presetOf({ from: "2026-03-09", to: "2026-03-15" }, "2026-03-15")).toBe("7d");
    expect(presetOf({ from: "2026-03-08", to: "2026-03-15" }, "2026-03-15")).toBeUndefined();
  });

  it("gives the previous period of equal length", () => {
    expect(previousPeriod({ from: "2026-03-01", to: "2026-03-31" })).toEqual({ from: "2026-01-29", to: "2026-02-28" });
    expect(previousPeriod({ from: "2026-03-15", to: "2026-03-15" })).toEqual({ from: "2026-03-14", to: "2026-03-14" });
  });

  it("clamps months and shifts whole months by a month", () => {
    expect(addMonths("2026-03-31", -1)).toBe("2026-02-28");
    expect(shiftRange({ from: "2026-03-01", to: "2026-03-31" }, -1)).toEqual({ from: "2026-02-01", to: "2026-02-28" });
    expect(shiftRange({ from: "2026-03-10", to: "2026-03-16" }, 1)).toEqual({ from: "2026-03-17", to: "2026-03-23" });
  });

  it("writes ranges for people", () => {
    expect(formatRange({ from: "2026-11-01", to: "2026-11-01" })).toMatch(/2026/);
    expect(formatRange({ from: "2026-11-01", to: "2026-11-30" })).toMatch(/30/);
  });
});
