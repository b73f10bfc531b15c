import { describe, expect, it } from "vitest";

import {
  draftProblems,
  formatWindow,
  keyedErrors,
  keysOf,
  moveItem,
  sameConfig,
  toDraft,
  toPayload,
  windowParts,
} from "@/components/config/draft";
import { configFixture } from "./helpers";

const CONFIG = configFixture();


describe("configuration draft", () => {
  it("gives back the configuration it was made from", () => {
    const { version: _, locked: __, ...shape } = CONFIG;
    expect(toPayload(toDraft(CONFIG))).toEqual(shape);
  });

  it("shows the window in the largest whole unit", () => {
    expect(windowParts(3600)).toEqual({ amount: "1", unit: "hours" });
    expect(windowParts(7 * 86_400)).toEqual({ amount: "7", unit: "days" });
    expect(windowParts(90)).toEqual({ amount: "1.5", unit: "minutes" });
    expect(formatWindow(86_400)).toBe("1 day");
    expect(formatWindow(2 * 3600)).toBe("2 hours");
  });

  it("saves query parameters of page stages only, and only UTM values given", () => {
    const draft = toDraft(CONFIG);
    draft.stages[0]!.kind = "event";
    draft.campaigns[0]!.utm_medium = "  ";
    const payload = toPayload(draft);
    expect(payload.funnel!.stages[0]).toEqual({ name: "Landing", kind: "event", match: "/pricing" });
    expect(payload.campaigns![0]).toEqual({ name: "Spring", utm_source: "newsletter", utm_campaign: "spring" });
  });

  it("tells a changed draft from the saved one, whatever the keys", () => {
    const draft = toDraft(CONFIG);
    expect(sameConfig(draft, toDraft(CONFIG))).toBe(true);
    draft.stages = moveItem(draft.stages, 2, 0);
    expect(sameConfig(draft, toDraft(CONFIG))).toBe(false);
  });

  it("moves an item, clamped to the list", () => {
    expect(moveItem(["a", "b", "c"], 2, 0)).toEqual(["c", "a", "b"]);
    expect(moveItem(["a", "b", "c"], 0, 9)).toEqual(["b", "c", "a"]);
    expect(moveItem(["a", "b"], 5, 0)).toEqual(["a", "b"]);
  });

  it("maps the API's field paths to the items they were about", () => {
    const draft = toDraft(CONFIG);
    const keys = keysOf(draft);
    const { byPath, other } = keyedErrors(
      {
        "funnel.stages.1.match": ["Expected a selector."],
        "funnel.stages.0.query.plan": ["Must not be blank."],
        "funnel.window_seconds": ["Must be between 60 (a minute) and 7776000 (90 days)."],
        "campaigns.0": ["Give at least one of: utm_source."],
        "elements.0.selector": ["Unexpected '['."],
        "funnel.stages.7.name": ["Gone."],
        non_field_errors: ["Something else."],
      },
      keys,
    );
    expect(byPath).toEqual({
      [`funnel.stages.${keys.stages[1]}.match`]: "Expected a selector.",
      [`funnel.stages.${keys.stages[0]}.query.plan`]: "Must not be blank.",
      "funnel.window_seconds": "Must be between 60 (a minute) and 7776000 (90 days).",
      [`campaigns.${keys.campaigns[0]}`]: "Give at least one of: utm_source.",
      [`elements.${keys.elements[0]}.selector`]: "Unexpected '['.",
    });
    expect(other).toEqual(["funnel.stages.7.name: Gone.", "Something else."]);
  });

  it("finds what JSON cannot carry before sending", () => {
    const draft = toDraft(CONFIG);
    draft.windowAmount = "soon";
    draft.stages[0]!.query.push({ key: "x", name: "plan", value: "pro" });
    expect(draftProblems(draft)).toEqual({
      "funnel.window_seconds": ["Enter a number, like 7 (days)."],
      "funnel.stages.0.query.plan": ["The parameter 'plan' appears twice."],
    });
    draft.windowAmount = "91";
    draft.windowUnit = "days";
    expect(draftProblems(draft)["funnel.window_seconds"]).toEqual(["The window is 1 minute to 90 days."]);
  });
});
