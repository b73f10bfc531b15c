import { computed, onScopeDispose, watch, type Ref } from "vue";

import { getLive } from "@/api";
import { STALE_AFTER_MS, useLiveStore } from "@/stores/live";

/**
 * Visitors of the app in the last 5 minutes: pushed by /ws/live, and read from the API when
 * the screen opens and whenever no figure came for a minute (the count decays without traffic).
 * The figure is the live store's (`visitorsNow`), which every screen shares.
 */
export function useLiveVisitors(appId: Ref<number | null>) {
  const live = useLiveStore();
  let unsubscribe: (() => void) | null = null;
  let timer: ReturnType<typeof setInterval> | undefined;

  async function poll(id: number): Promise<void> {
    if (Date.now() - live.freshAt(id) < STALE_AFTER_MS) return;
    try {
      const snapshot = await getLive(id);
      live.notePolled(id, snapshot.visitors);
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
      if (id === null) return;
      unsubscribe = live.subscribe(id);
      void poll(id);
      timer = setInterval(() => void poll(id), STALE_AFTER_MS);
    },
    { immediate: true },
  );
  onScopeDispose(stop);

  /** The freshest figure, or null before the first one. */
  return computed<number | null>(() => (appId.value === null ? null : live.visitorsNow(appId.value)));
}
