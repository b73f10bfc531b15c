import { computed, onScopeDispose, ref, watch, type Ref } from "vue";

import { getLive } from "@/api";
import { useLiveStore } from "@/stores/live";

/** Pushes come only while traffic flows: without one for this long, ask the API again. */
const STALE_AFTER_MS = 60_000;

/**
 * Visitors of the app in the last 5 minutes: pushed by /ws/live, and read from the API when
 * the screen opens and whenever no push came for a minute (the count decays without traffic).
 */
export function useLiveVisitors(appId: Ref<number | null>) {
  const live = useLiveStore();
  const polled = ref<{ visitors: number; at: number } | null>(null);
  let unsubscribe: (() => void) | null = null;
  let timer: ReturnType<typeof setInterval> | undefined;

  async function poll(id: number): Promise<void> {
    const pushed = live.realtime[id];
    if (pushed && Date.now() - pushed.receivedAt < STALE_AFTER_MS) return;
    try {
      const snapshot = await getLive(id);
      if (appId.value === id) polled.value = { visitors: snapshot.visitors, at: Date.now() };
    } catch {
      // the counter keeps its last value
    }
  }

  function stop(): void {
    unsubscribe?.();
    unsubscribe = null;
    clearInterval(timer);
  }

  watch(
    appId,
    (id) => {
      stop();
      polled.value = null;
      if (id === null) return;
      unsubscribe = live.subscribe(id);
      void poll(id);
      timer = setInterval(() => void poll(id), STALE_AFTER_MS);
    },
    { immediate: true },
  );
  onScopeDispose(stop);

  /** The freshest figure, or null before the first one. */
  return computed<number | null>(() => {
    const id = appId.value;
    if (id === null) return null;
    const pushed = live.realtime[id];
    const latest = polled.value;
    if (pushed && (!latest || pushed.receivedAt >= latest.at)) return pushed.visitors;
    return latest?.visitors ?? null;
  });
}
