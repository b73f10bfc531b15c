/** The journey a URL names (`start`, `direction`, `steps`), read leniently: what is not valid
 * falls back to the default, so that an edited link still shows something sensible. */
import { useRoute, useRouter, type LocationQuery } from "vue-router";

import type { JourneyDirection } from "@/api";

export const JOURNEY_STEPS = { min: 2, max: 8, default: 5, perStep: 8 } as const;

/** Nodes of the diagram that are not pages (a journey cannot start there). */
export const START_LESS: readonly string[] = ["(left)"];

export interface JourneyQuery {
  start: string | null;
  direction: JourneyDirection;
  steps: number;
}

function first(query: LocationQuery, key: string): string | null {
  const value = query[key];
  const text = Array.isArray(value) ? value[0] : value;
  return typeof text === "string" && text !== "" ? text : null;
}

export function journeyQuery(query: LocationQuery): JourneyQuery {
  const steps = Number(first(query, "steps"));
  return {
    start: first(query, "start"),
    direction: first(query, "direction") === "backward" ? "backward" : "forward",
    steps:
      Number.isInteger(steps) && steps >= JOURNEY_STEPS.min && steps <= JOURNEY_STEPS.max
        ? steps
        : JOURNEY_STEPS.default,
  };
}

/**
 * Writes keys of a screen's own into the query string (undefined removes one), keeping the range
 * and filters, so that a copied link shows the same view. Used by the funnel too.
 */
export function useQueryWriter(): (changes: Record<string, string | undefined>) => Promise<void> {
  const route = useRoute();
  const router = useRouter();
  return async (changes) => {
    const query = { ...route.query };
    for (const [key, value] of Object.entries(changes)) {
      if (value === undefined) delete query[key];
      else query[key] = value;
    }
    await router.push({ query });
  };
}
