import { onScopeDispose, ref } from "vue";
import { onBeforeRouteLeave, onBeforeRouteUpdate } from "vue-router";

/**
 * Unsaved changes are not lost silently: leaving the screen (or switching to another app) while
 * `dirty()` asks first (`asking` shows the question; `stay` / `leave` answer it), and closing or
 * reloading the tab gets the browser's own warning.
 */
export function useLeaveGuard(dirty: () => boolean) {
  const asking = ref(false);
  let answer: ((leave: boolean) => void) | null = null;

  function ask(): Promise<boolean> {
    answer?.(false);
    asking.value = true;
    return new Promise((resolve) => (answer = resolve));
  }

  function respond(leave: boolean): void {
    asking.value = false;
    answer?.(leave);
    answer = null;
  }

  onBeforeRouteLeave(() => (dirty() ? ask() : true));
  onBeforeRouteUpdate((to, from) => (dirty() && to.params.id !== from.params.id ? ask() : true));

  function onBeforeUnload(event: BeforeUnloadEvent): void {
    if (!dirty()) return;
    event.preventDefault();
    event.returnValue = ""; // older browsers need it to ask
  }
  window.addEventListener("beforeunload", onBeforeUnload);
  onScopeDispose(() => {
    window.removeEventListener("beforeunload", onBeforeUnload);
    respond(false);
  });

  return { asking, stay: () => respond(false), leave: () => respond(true) };
}
