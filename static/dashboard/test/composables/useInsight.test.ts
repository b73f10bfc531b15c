import { describe, expect, it, vi } from "vitest";
import { defineComponent, h } from "vue";

import * as api from "@/api";
import { LIVE_REFRESH_MS, useInsight } from "@/composables/useInsight";
import { useLiveStore } from "@/stores/live";
import { mountAt, settle } from "../traffic/helpers";

const PagesWidget = defineComponent({
  setup() {
    const pages = useInsight(api.getPages);
    return () => h("p", pages.data.value ? `${pages.data.value.results.length} pages` : "loading");
  },
});

const pagesCalls = (calls: { path: string }[]) =>
  calls.filter((call) => call.path === "/api/v1/apps/3/insights/pages").length;

function push(at: number) {
  const live = useLiveStore();
  live.realtime = { ...live.realtime, 3: { visitors: 1, eventsPerSecond: 1, latest: [], receivedAt: at } };
}

describe("an insight widget while the range includes today", () => {
  it("reloads quietly when new traffic is pushed, at most once every few seconds", async () => {
    const { wrapper, calls } = await mountAt(PagesWidget, "/apps/3", {
      "GET /api/v1/apps/3/insights/pages": { body: { results: [] } },
    });
    expect(wrapper.text()).toBe("0 pages");
    expect(pagesCalls(calls)).toBe(1);
    vi.useFakeTimers();
    try {
      push(1);
      await vi.advanceTimersByTimeAsync(0);
      expect(pagesCalls(calls)).toBe(2); // the first push: at once
      push(2);
      push(3);
      await vi.advanceTimersByTimeAsync(LIVE_REFRESH_MS - 100);
      expect(pagesCalls(calls)).toBe(2); // pushes within the interval wait
      await vi.advanceTimersByTimeAsync(200);
      expect(pagesCalls(calls)).toBe(3); // ... and make one reload
      expect(wrapper.text()).toBe("0 pages"); // the data stayed shown meanwhile
    } finally {
      vi.useRealTimers();
    }
  });

  it("does not reload a range that ended before today", async () => {
    const { calls } = await mountAt(PagesWidget, "/apps/3?from=2026-10-01&to=2026-10-07", {
      "GET /api/v1/apps/3/insights/pages": { body: { results: [] } },
    });
    push(1);
    await settle();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(pagesCalls(calls)).toBe(1);
  });
});
