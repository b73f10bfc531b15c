import { computed, nextTick, onScopeDispose, ref, shallowRef, watch, type Ref } from "vue";

import * as api from "@/api";
import type { FieldErrors } from "@/api/http";
import { useAppsStore } from "@/stores/apps";
import { useLiveStore } from "@/stores/live";
import {
  draftProblems,
  keyedErrors,
  keysOf,
  sameConfig,
  toDraft,
  toPayload,
  type ConfigDraft,
  type ListKeys,
} from "./draft";

/** Someone else saved a newer version: learnt from a refused save (409) or from /ws/live. */
export interface Conflict {
  source: "save" | "live";
  /** The version on the server, when known. */
  version: number | null;
}

/** The draft as saved, with the keys its items had when it was sent (same order, same length). */
function rekeyed(config: api.AppConfig, keys: ListKeys): ConfigDraft {
  const draft = toDraft(config);
  for (const list of ["stages", "campaigns", "elements"] as const) {
    draft[list].forEach((item, index) => (item.key = keys[list][index] ?? item.key));
  }
  return draft;
}

/**
 * The configuration screen's state: the saved configuration, the draft being edited, whether
 * it differs, and saving with the version it was loaded at. A refused save shows the API's
 * messages next to the fields they concern (`errors`, by field path with item keys); a stale
 * version (409) or a newer version pushed by /ws/live becomes a `conflict`; a lock (423, or a
 * colleague issuing the token meanwhile) reloads the app, whose screen turns read-only.
 */
export function useConfigEditor(appId: Ref<number | null>, options: { form?: Ref<HTMLElement | null> } = {}) {
  const apps = useAppsStore();
  const live = useLiveStore();

  const saved = shallowRef<api.AppConfig | null>(null);
  const draft = ref<ConfigDraft | null>(null);
  const baseline = shallowRef<ConfigDraft | null>(null);
  const loading = ref(false);
  const loadError = shallowRef<api.ApiError | null>(null);
  const saving = ref(false);
  const errors = ref<Record<string, string>>({});
  const otherErrors = ref<string[]>([]);
  /** Why the last save failed, in words (besides the fields). */
  const failure = ref<string | null>(null);
  const conflict = ref<Conflict | null>(null);
  /** Success and other news, for a polite live region. */
  const notice = ref("");

  const dirty = computed(() => !!draft.value && !!baseline.value && !sameConfig(draft.value, baseline.value));
  let controller: AbortController | null = null;
  let syncedDuringSave: number | null = null;

  function resetMessages(): void {
    errors.value = {};
    otherErrors.value = [];
    failure.value = null;
    conflict.value = null;
  }

  function adopt(config: api.AppConfig, keys?: ListKeys): void {
    saved.value = config;
    draft.value = keys ? rekeyed(config, keys) : toDraft(config);
    baseline.value = keys ? rekeyed(config, keys) : toDraft(config);
  }

  /** Loads the configuration (the draft starts again from it). */
  async function load(): Promise<void> {
    const id = appId.value;
    controller?.abort();
    if (id === null) return;
    const mine = new AbortController();
    controller = mine;
    loading.value = true;
    try {
      const config = await api.getConfig(id, { signal: mine.signal });
      if (mine.signal.aborted) return;
      adopt(config);
      resetMessages();
      loadError.value = null;
    } catch (error) {
      if (mine.signal.aborted || api.isAbort(error)) return;
      loadError.value = api.toApiError(error);
    } finally {
      if (controller === mine) loading.value = false;
    }
  }

  function showErrors(fields: FieldErrors, keys: ListKeys): void {
    const keyed = keyedErrors(fields, keys);
    errors.value = keyed.byPath;
    otherErrors.value = keyed.other;
    const count = Object.keys(keyed.byPath).length + keyed.other.length;
    failure.value = `The configuration was not saved: ${count === 1 ? "one field needs" : `${count} fields need`} attention.`;
    void nextTick(() => options.form?.value?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus());
  }

  async function onSaveFailed(error: api.ApiError, id: number, keys: ListKeys): Promise<void> {
    if (error.status === 409) {
      const current = error.extra.current_version;
      conflict.value = { source: "save", version: typeof current === "number" ? current : null };
    } else if (error.status === 423) {
      failure.value = error.detail;
      await apps.fetchApp(id).catch(() => undefined);
    } else if (error.status === 400 && Object.keys(error.fields).length) {
      showErrors(error.fields, keys);
    } else {
      failure.value = error.detail;
    }
  }

  /** Saves the draft; true when it was saved. */
  async function save(): Promise<boolean> {
    const id = appId.value;
    const config = saved.value;
    if (id === null || !config || !draft.value || saving.value) return false;
    resetMessages();
    notice.value = "";
    const keys = keysOf(draft.value);
    const problems = draftProblems(draft.value);
    if (Object.keys(problems).length) {
      showErrors(problems, keys);
      return false;
    }
    saving.value = true;
    syncedDuringSave = null;
    try {
      const result = await api.saveConfig(id, { version: config.version, ...toPayload(draft.value) });
      adopt(result, keys);
      notice.value = `Configuration saved (version ${result.version}).`;
      if (syncedDuringSave !== null && syncedDuringSave > result.version) onNewerVersion(syncedDuringSave);
      return true;
    } catch (error) {
      await onSaveFailed(api.toApiError(error), id, keys);
      return false;
    } finally {
      saving.value = false;
    }
  }

  /** Drops the edits: the draft is the saved configuration again. */
  function discard(): void {
    if (saved.value) adopt(saved.value);
    resetMessages();
    notice.value = "Changes discarded.";
  }

  /** Loads the newest version, dropping the edits (after a conflict). */
  async function reload(): Promise<void> {
    await load();
    if (!loadError.value) notice.value = `Loaded the latest version (${saved.value?.version}).`;
  }

  function clearError(path: string): void {
    if (!(path in errors.value)) return;
    const { [path]: _, ...rest } = errors.value;
    errors.value = rest;
  }

  function onNewerVersion(version: number): void {
    if (!saved.value || version <= saved.value.version) return;
    if (dirty.value) {
      conflict.value = { source: "live", version };
    } else {
      void load().then(() => (notice.value = `A colleague saved a new version (${version}): it is shown now.`));
    }
  }

  // Pushed by /ws/live: configuration versions, and locks by a colleague.
  let unsubscribe: (() => void) | null = null;
  const stopListening = live.listen((message) => {
    const id = appId.value;
    if (id === null) return;
    if (message.type === "sync" && message.app === id) {
      if (saving.value) syncedDuringSave = Math.max(syncedDuringSave ?? 0, message.config_version);
      else onNewerVersion(message.config_version);
    } else if (
      message.type === "notification" &&
      message.notification.app === id &&
      ["app.locked", "app.unlocked"].includes(message.notification.kind)
    ) {
      void apps.fetchApp(id).catch(() => undefined);
      if (!dirty.value) void load();
    }
  });

  watch(
    appId,
    (id) => {
      unsubscribe?.();
      unsubscribe = id === null ? null : live.subscribe(id);
      saved.value = null;
      draft.value = null;
      baseline.value = null;
      resetMessages();
      notice.value = "";
      void load();
    },
    { immediate: true },
  );

  onScopeDispose(() => {
    controller?.abort();
    unsubscribe?.();
    stopListening();
  });

  return {
    saved,
    draft,
    dirty,
    loading,
    loadError,
    saving,
    errors,
    otherErrors,
    failure,
    conflict,
    notice,
    load,
    save,
    discard,
    reload,
    clearError,
  };
}
