/** The journey a URL names (`start`, `direction`, `steps`), read leniently: what is not valid
 * falls back to the default, so that an edited link still shows something sensible. */
import type { LocationQuery } from "vue-router";

import type { JourneyDirection } from "@/api";
import { queryValue } from "@/composables/useQueryState";

export const JOURNEY_STEPS = { min: 2, max: 8, default: 5, perStep: 8 } as const;

/** Nodes of the diagram that are not pages (a journey cannot start there). */
export const START_LESS: readonly string[] = ["(left)"];

export interface JourneyQuery {
  start: string | null;
  direction: JourneyDirection;
  steps: number;
}

export function journeyQuery(query: LocationQuery): JourneyQuery {
  const steps = Number(queryValue(query, "steps"));
  return {
    start: queryValue(query, "start") ?? null,
    direction: queryValue(query, "direction") === "backward" ? "backward" : "forward",
    steps:
      Number.isInteger(steps) && steps >= JOURNEY_STEPS.min && steps <= JOURNEY_STEPS.max
        ? steps
        : JOURNEY_STEPS.default,
  };
}
