import { computed, onScopeDispose, ref, shallowRef, watch, type Ref } from "vue";

import { getLive, isAbort, toApiError, type ApiError, type LiveSnapshot } from "@/api";
import { useLiveStore } from "@/stores/live";
import { mergeEvents, type FeedEvent } from "./feed";

/** Without pushes, the snapshot is read again this often (visitors leave the 5 minutes). */
export const REFRESH_EVERY_MS = 20_000;
/** While pushes flow, the pages are read again at most this often. */
export const REFRESH_AFTER_PUSH_MS = 3_000;
/** A push's events-per-second figure holds this long (pushes come only while traffic flows). */
const RATE_HOLDS_MS = 6_000;

/**
 * What the Live screen shows of an app: the API's snapshot (GET insights/live: visitors, their
 * current pages, the latest events) when it opens, then the pushes of /ws/live (visitors, the
 * rate, the latest events) as they arrive. The pushes carry no pages, so the snapshot is read
 * again a few seconds after them, and every 20 seconds without them. The visitors figure is
 * the live store's, the one the header's counter shows.
 */
export function useLiveFeed(appId: Ref<number | null>) {
  const live = useLiveStore();
  const snapshot = shallowRef<LiveSnapshot | null>(null);
  const events = shallowRef<FeedEvent[]>([]);
  const error = shallowRef<ApiError | null>(null);
  const clock = ref(Date.now());
  let controller: AbortController | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let nextAt = Infinity;
  let loadedAt = 0;
  let unsubscribe: (() => void) | null = null;
  const ticker = setInterval(() => (clock.value = Date.now()), 2_000);

  function schedule(delay: number): void {
    clearTimeout(timer);
    nextAt = Date.now() + delay;
    timer = setTimeout(() => void load(), delay);
  }

  async function load(): Promise<void> {
    const id = appId.value;
    controller?.abort();
    if (id === null) return;
    const mine = (controller = new AbortController());
    try {
      const answer = await getLive(id, { signal: mine.signal });
      if (mine.signal.aborted) return;
      snapshot.value = answer;
      error.value = null;
      live.notePolled(id, answer.visitors);
      events.value = mergeEvents(answer.events, events.value);
    } catch (failure) {
      if (mine.signal.aborted || isAbort(failure)) return;
      error.value = toApiError(failure);
    }
    loadedAt = Date.now();
    schedule(REFRESH_EVERY_MS);
  }

  /** A push arrived: its events join the feed; the pages follow within a few seconds. */
  function onPush(latest: FeedEvent[]): void {
    events.value = mergeEvents(latest, events.value);
    const due = Math.max(0, loadedAt + REFRESH_AFTER_PUSH_MS - Date.now());
    if (Date.now() + due < nextAt) schedule(due);
  }

  function stop(): void {
    unsubscribe?.();
    unsubscribe = null;
    clearTimeout(timer);
    nextAt = Infinity;
    controller?.abort();
  }

  watch(
    appId,
    (id) => {
      stop();
      snapshot.value = null;
      events.value = [];
      error.value = null;
      if (id === null) return;
      unsubscribe = live.subscribe(id);
      void load();
    },
    { immediate: true },
  );
  watch(
    () => (appId.value === null ? undefined : live.realtime[appId.value]),
    (figures, before) => figures && figures !== before && onPush(figures.latest),
  );
  onScopeDispose(() => {
    stop();
    clearInterval(ticker);
  });

  const pushed = computed(() => (appId.value === null ? undefined : live.realtime[appId.value]));
  return {
    snapshot,
    events,
    error,
    /** Visitors of the last 5 minutes (the header's figure). */
    visitors: computed(() => (appId.value === null ? null : live.visitorsNow(appId.value))),
    /** Events per second over the last seconds; 0 once pushes stopped. */
    eventsPerSecond: computed(() => {
      const figures = pushed.value;
      return figures && clock.value - figures.receivedAt < RATE_HOLDS_MS ? figures.eventsPerSecond : 0;
    }),
    reload: load,
  };
}
