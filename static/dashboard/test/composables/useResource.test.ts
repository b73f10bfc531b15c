import { describe, expect, it } from "vitest";
import { effectScope, nextTick, ref } from "vue";

import { ApiError } from "@/api";
import { useResource } from "@/composables/useResource";
import { settle } from "../helpers";

describe("useResource", () => {
  it("loads again when its parameters change, and never lets an old answer win", async () => {
    const query = ref("a");
    const pending = new Map<string, (value: string) => void>();
    const scope = effectScope();
    const resource = scope.run(() =>
      useResource(
        () => ({ q: query.value }),
        ({ q }) => new Promise<string>((resolve) => pending.set(q, resolve)),
      ),
    )!;
    expect(resource.state.value).toBe("loading");

    query.value = "b";
    await nextTick();
    pending.get("b")!("answer b");
    await settle();
    pending.get("a")!("answer a"); // late answer of the older request
    await settle();

    expect(resource.data.value).toBe("answer b");
    expect(resource.state.value).toBe("ready");
    scope.stop();
  });

  it("fails on its own and retries", async () => {
    let attempts = 0;
    const scope = effectScope();
    const resource = scope.run(() =>
      useResource(
        () => "x",
        async () => {
          attempts += 1;
          if (attempts === 1) throw new ApiError({ status: 500, code: "server_error", detail: "Boom." });
          return [] as number[];
        },
        { isEmpty: (rows) => rows.length === 0 },
      ),
    )!;
    await settle();
    expect(resource.state.value).toBe("error");
    expect(resource.error.value?.detail).toBe("Boom.");

    await resource.reload();
    expect(resource.state.value).toBe("empty");
    scope.stop();
  });

  it("waits while its parameters are not ready", async () => {
    const ready = ref(false);
    let calls = 0;
    const scope = effectScope();
    const resource = scope.run(() =>
      useResource(
        () => (ready.value ? 1 : null),
        async () => ++calls,
      ),
    )!;
    await settle();
    expect(calls).toBe(0);
    expect(resource.state.value).toBe("loading");
    ready.value = true;
    await settle();
    expect(resource.data.value).toBe(1);
    scope.stop();
  });
});
