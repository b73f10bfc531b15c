import { defineStore } from "pinia";
import { computed, inject, ref, watch } from "vue";
import { routeLocationKey } from "vue-router";

import * as api from "@/api";
import { useAuthStore } from "./auth";

/**
 * The apps the user may see, the app of the current route (`/apps/:id/...`), and the
 * invitations addressed to the user. Writes go through the API and update the cache.
 */
export const useAppsStore = defineStore("apps", () => {
  const route = inject(routeLocationKey, null);
  const auth = useAuthStore();

  const list = ref<api.App[]>([]);
  const listLoaded = ref(false);
  const details = ref<Record<number, api.App>>({});
  const currentError = ref<api.ApiError | null>(null);
  const invites = ref<api.Invite[]>([]);

  /** The id of the app the route shows, or null outside app screens. */
  const currentId = computed<number | null>(() => {
    if (!route || !route.matched.some((record) => record.meta.app)) return null;
    const id = Number(route.params.id);
    return Number.isInteger(id) && id > 0 ? id : null;
  });

  const current = computed<api.App | null>(() => {
    const id = currentId.value;
    if (id === null) return null;
    return details.value[id] ?? list.value.find((app) => app.id === id) ?? null;
  });

  const pendingInvites = computed(() =>
    invites.value.filter((invite) => invite.status === "pending" && !invite.expired),
  );

  function remember(app: api.App): api.App {
    details.value = { ...details.value, [app.id]: app };
    const index = list.value.findIndex((item) => item.id === app.id);
    if (index >= 0) list.value.splice(index, 1, app);
    return app;
  }

  function forget(id: number): void {
    const { [id]: _, ...rest } = details.value;
    details.value = rest;
    list.value = list.value.filter((app) => app.id !== id);
  }

  async function fetchList(options?: { signal?: AbortSignal }): Promise<api.App[]> {
    list.value = await api.listApps(options);
    listLoaded.value = true;
    return list.value;
  }

  /** Loads the app (404 for apps the user may not see: `currentError` tells the screen). */
  async function fetchApp(id: number): Promise<api.App | null> {
    try {
      const app = remember(await api.getApp(id));
      if (id === currentId.value) currentError.value = null;
      return app;
    } catch (error) {
      if (id === currentId.value && error instanceof api.ApiError) currentError.value = error;
      if (error instanceof api.ApiError && error.status === 404) forget(id);
      throw error;
    }
  }

  async function create(input: api.AppInput): Promise<api.App> {
    const app = await api.createApp(input);
    list.value = [...list.value, app];
    return remember(app);
  }

  async function update(id: number, changes: api.AppUpdate): Promise<api.App> {
    return remember(await api.updateApp(id, changes));
  }

  async function remove(id: number): Promise<void> {
    await api.deleteApp(id);
    forget(id);
  }

  /** The signed-in member leaves the app (the owner cannot); it leaves the list. */
  async function leave(id: number): Promise<void> {
    if (!auth.me) return;
    await api.removeMember(id, auth.me.id);
    forget(id);
  }

  async function unlock(id: number): Promise<api.App> {
    return remember(await api.unlockApp(id));
  }

  async function fetchInvites(options?: { signal?: AbortSignal }): Promise<api.Invite[]> {
    invites.value = await api.listMyInvites(options);
    return invites.value;
  }

  function replaceInvite(invite: api.Invite): void {
    invites.value = invites.value.map((item) => (item.id === invite.id ? invite : item));
  }

  /** Accepts an invitation; the app joins the list. */
  async function acceptInvite(id: number): Promise<api.Invite> {
    const invite = await api.acceptInvite(id);
    replaceInvite(invite);
    await fetchList().catch(() => undefined);
    return invite;
  }

  async function rejectInvite(id: number): Promise<api.Invite> {
    const invite = await api.rejectInvite(id);
    replaceInvite(invite);
    return invite;
  }

  // The current app is loaded as soon as a route names it.
  watch(
    currentId,
    (id) => {
      currentError.value = null;
      if (id !== null && auth.isAuthenticated) fetchApp(id).catch(() => undefined);
    },
    { immediate: true },
  );

  // Another user, or none: nothing of the previous one stays.
  watch(
    () => auth.me?.id,
    (id, previous) => {
      if (previous !== undefined && id !== previous) {
        list.value = [];
        listLoaded.value = false;
        details.value = {};
        invites.value = [];
      }
    },
  );

  return {
    list,
    listLoaded,
    current,
    currentId,
    currentError,
    invites,
    pendingInvites,
    fetchList,
    fetchApp,
    create,
    update,
    remove,
    unlock,
    leave,
    fetchInvites,
    acceptInvite,
    rejectInvite,
  };
});
