import { describe, expect, it } from "vitest";
import { defineComponent, h } from "vue";

import type { Journeys } from "@/api";
import { journeyQuery } from "@/components/journeys/journeys";
import { toCsv } from "@/lib/csv";
import JourneysView from "@/views/app/JourneysView.vue";
import { byLabel, callsTo, mountScreen, settle } from "./helpers";

const RANGE = "from=2026-11-01&to=2026-11-30";

const journeys: Journeys = {
  start: "/",
  steps: 3,
  direction: "forward",
  paths: [
    { path: ["/", "/pricing", "(left)"], visitors: 40 },
    { path: ["/", "(left)"], visitors: 25 },
  ],
  nodes: [
    { id: "0:/", name: "/", step: 0, visitors: 100 },
    { id: "1:/pricing", name: "/pricing", step: 1, visitors: 60 },
    { id: "1:(left)", name: "(left)", step: 1, visitors: 25 },
  ],
  links: [
    { source: "0:/", target: "1:/pricing", visitors: 60 },
    { source: "0:/", target: "1:(left)", visitors: 25 },
  ],
};

const routes = {
  "GET /api/v1/apps/3/insights/journeys": { body: journeys },
  "GET /api/v1/apps/3/insights/pages": {
    body: { results: [{ path: "/", pageviews: 9, visitors: 5, avg_seconds: null, entries: 5, exits: 2 }] },
  },
};

/** The Sankey (canvas) stands in as buttons that emit what a click on a node emits. */
const SankeyStub = defineComponent({
  props: { journeys: { type: Object, required: true } },
  emits: ["select"],
  setup(props, { emit }) {
    return () =>
      h(
        "div",
        (props.journeys as Journeys).nodes.map((node) =>
          h("button", { "data-node": node.id, onClick: () => emit("select", node) }, node.name),
        ),
      );
  },
});

const mountJourneys = (query: string) =>
  mountScreen(JourneysView, `/apps/3/journeys?${RANGE}&${query}`, routes, { stubs: { SankeyChart: SankeyStub } });

describe("journeys", () => {
  it("read the journey from the URL, leniently", () => {
    expect(journeyQuery({ start: "/a", direction: "backward", steps: "3" })).toEqual({
      start: "/a",
      direction: "backward",
      steps: 3,
    });
    expect(journeyQuery({ direction: "sideways", steps: "12" })).toEqual({ start: null, direction: "forward", steps: 5 });
  });

  it("ask the API for the journey the URL names, with the range and filters", async () => {
    const { calls } = await mountJourneys("start=/&steps=3&direction=backward&os=Linux");
    expect(Object.fromEntries(callsTo(calls, "journeys")[0]!.query)).toEqual({
      from: "2026-11-01",
      to: "2026-11-30",
      os: "Linux",
      start: "/",
      steps: "3",
      direction: "backward",
    });
  });

  it("re-root on a page clicked in the diagram, which writes start to the URL", async () => {
    const { wrapper, router, calls } = await mountJourneys("start=/&steps=3");
    await wrapper.find('[data-node="1:/pricing"]').trigger("click");
    await settle();
    expect(router.currentRoute.value.query).toMatchObject({ start: "/pricing", steps: "3", from: "2026-11-01" });
    expect(callsTo(calls, "journeys").at(-1)!.query.get("start")).toBe("/pricing");

    await wrapper.find('[data-node="1:(left)"]').trigger("click"); // not a page
    await settle();
    expect(router.currentRoute.value.query.start).toBe("/pricing");
  });

  it("write the start page, direction and steps chosen to the URL", async () => {
    const { wrapper, router } = await mountJourneys("steps=3");
    await byLabel(wrapper, "Start page").setValue("/");
    await settle();
    expect(router.currentRoute.value.query.start).toBe("/");
    await byLabel(wrapper, "Steps").setValue("7");
    await settle();
    expect(router.currentRoute.value.query.steps).toBe("7");
    await wrapper.findAll("label").find((label) => label.text() === "Backward")!.find("input").setValue(true);
    await settle();
    expect(router.currentRoute.value.query).toMatchObject({ start: "/", steps: "7", direction: "backward" });
  });

  it("list the top paths with their share of the visitors at the start", async () => {
    const { wrapper } = await mountJourneys("start=/&steps=3");
    const rows = wrapper.findAll("tbody tr").map((row) => row.text());
    expect(rows[0]).toMatch(/\/.*\/pricing.*left the site.*40.*40%/);
    expect(rows[1]).toMatch(/25.*25%/);
  });
});

describe("CSV of a screen's own table", () => {
  it("quotes as RFC 4180 says and joins lists with |, as the API does", () => {
    expect(toCsv(["path", "visitors"], [{ path: ["/a", "/b,c"], visitors: 3 }, { path: 'say "hi"', visitors: null }])).toBe(
      'path,visitors\n"/a|/b,c",3\n"say ""hi""",\n',
    );
  });
});
