import { computed, onScopeDispose, ref, shallowRef, watch, type ComputedRef, type Ref } from "vue";

import { isAbort, toApiError, type ApiError } from "@/api";

export type ResourceState = "loading" | "error" | "empty" | "ready";

export interface Resource<T> {
  data: Ref<T | undefined>;
  error: Ref<ApiError | null>;
  /** A request is in flight (the previous data, if any, stays shown meanwhile). */
  loading: Ref<boolean>;
  /** What a widget shows: a skeleton, an error with a retry, an empty state, or the data. */
  state: ComputedRef<ResourceState>;
  reload: () => Promise<void>;
}

/** What a widget shows of a resource (WidgetCard's `resource`): its state, error, loading, retry. */
export type ResourceStatus = Pick<Resource<unknown>, "state" | "error" | "loading" | "reload">;

export interface ResourceOptions<T> {
  /** Whether the answer has nothing to show (the widget then says how to get data). */
  isEmpty?: (data: T) => boolean;
}

/**
 * One widget's data: loaded when `params` gives a value, loaded again whenever that value
 * changes (the URL's range and filters, for instance), with its own loading, error and empty
 * states. A newer request aborts the older one, so an answer never overwrites a newer one.
 * `params` returning null or undefined means "not ready yet" (the state stays "loading").
 */
export function useResource<P, T>(
  params: () => P | null | undefined,
  fetcher: (params: P, signal: AbortSignal) => Promise<T>,
  options: ResourceOptions<T> = {},
): Resource<T> {
  const data = shallowRef<T | undefined>(undefined);
  const error = shallowRef<ApiError | null>(null);
  const loading = ref(false);
  let controller: AbortController | null = null;
  let lastParams: P | null | undefined;

  async function load(value: P | null | undefined): Promise<void> {
    lastParams = value;
    controller?.abort();
    if (value === null || value === undefined) {
      loading.value = true;
      return;
    }
    const mine = new AbortController();
    controller = mine;
    loading.value = true;
    try {
      const result = await fetcher(value, mine.signal);
      if (mine.signal.aborted) return;
      data.value = result;
      error.value = null;
    } catch (failure) {
      if (mine.signal.aborted || isAbort(failure)) return;
      error.value = toApiError(failure);
    } finally {
      if (controller === mine) loading.value = false;
    }
  }

  watch(() => JSON.stringify(params() ?? null), () => void load(params()), { immediate: true });
  onScopeDispose(() => controller?.abort());

  const state = computed<ResourceState>(() => {
    if (error.value && !loading.value) return "error";
    if (data.value === undefined) return "loading";
    return options.isEmpty?.(data.value) ? "empty" : "ready";
  });

  return { data, error, loading, state, reload: () => load(lastParams) };
}
