/** The Live screen's feed of latest events: the API's snapshot and the pushes, merged. */
import type { PushedEvent } from "@/stores/live";

/** An event of the feed; pushed events carry no element or event name. */
export type FeedEvent = PushedEvent;

/** How many events the feed keeps while the screen is open. */
export const FEED_SIZE = 50;

/** A stable key of an event (time, type and page), for lists and de-duplication. */
export const feedKey = (event: FeedEvent) => `${event.ts}|${event.type}|${event.path}`;

/**
 * `incoming` (newest first) added to `current`: each event once (the copy with a name wins),
 * newest first, at most `limit`.
 */
export function mergeEvents(incoming: FeedEvent[], current: FeedEvent[], limit = FEED_SIZE): FeedEvent[] {
  const byKey = new Map(current.map((event) => [feedKey(event), event]));
  for (const event of incoming) {
    const known = byKey.get(feedKey(event));
    if (!known || (!known.name && event.name)) byKey.set(feedKey(event), event);
  }
  return [...byKey.values()].sort((a, b) => b.ts - a.ts).slice(0, limit);
}

const TYPE_LABELS: Record<string, string> = {
  pageview: "Page view",
  click: "Click",
  element: "Element",
  event: "Event",
  leave: "Leave",
};

/** "Page view", "Click"... (an unknown type as it is). */
export const typeLabel = (type: string) => TYPE_LABELS[type] ?? type;

/** What the event concerns: its page, or the element's or custom event's name. */
export function eventSubject(event: FeedEvent): string {
  if ((event.type === "element" || event.type === "event") && event.name) return event.name;
  if (event.path) return event.path;
  return event.type === "element" ? "A tracked element" : event.type === "event" ? "A custom event" : "–";
}
