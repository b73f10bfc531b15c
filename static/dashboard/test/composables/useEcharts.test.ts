import { describe, expect, it } from "vitest";

import type { Journeys } from "@/api";
import { bucketLabel, capJourneyNodes, OTHER_PAGES } from "@/composables/useEcharts";

describe("chart helpers", () => {
  it("label buckets as the API wrote them, in the app's time zone", () => {
    expect(bucketLabel("2026-11-30T23:00:00+13:00", "hour")).toBe("23:00");
    expect(bucketLabel("2026-11-03", "day")).toMatch(/3/);
    expect(bucketLabel("2026-11-03", "day")).not.toMatch(/2026/);
  });

  it("group the pages of a step beyond the cap into (other)", () => {
    const journeys: Journeys = {
      start: null,
      steps: 2,
      direction: "forward",
      paths: [],
      nodes: [
        { id: "0:/", name: "/", step: 0, visitors: 10 },
        { id: "1:/a", name: "/a", step: 1, visitors: 5 },
        { id: "1:/b", name: "/b", step: 1, visitors: 3 },
        { id: "1:/c", name: "/c", step: 1, visitors: 2 },
      ],
      links: [
        { source: "0:/", target: "1:/a", visitors: 5 },
        { source: "0:/", target: "1:/b", visitors: 3 },
        { source: "0:/", target: "1:/c", visitors: 2 },
      ],
    };

    const capped = capJourneyNodes(journeys, 1);

    expect(capped.nodes.map((node) => [node.id, node.visitors])).toEqual([
      ["0:/", 10],
      ["1:/a", 5],
      [`1:${OTHER_PAGES}`, 5],
    ]);
    expect(capped.links).toEqual([
      { source: "0:/", target: "1:/a", visitors: 5 },
      { source: "0:/", target: `1:${OTHER_PAGES}`, visitors: 5 },
    ]);
  });
});
