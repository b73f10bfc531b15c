import { nextTick, onScopeDispose, ref, useId, useTemplateRef, watch, type Ref } from "vue";
import { useRoute } from "vue-router";

/**
 * A button that shows and hides a panel (a menu of links, a picker): closes on Escape (focus
 * goes back to the button), on a click outside `root`, on navigation, and when `close` is
 * called.
 */
export function useDisclosure(root: Ref<HTMLElement | null>, trigger: Ref<HTMLElement | null>) {
  const open = ref(false);
  const panelId = useId();

  function close(options: { focus?: boolean } = {}): void {
    if (!open.value) return;
    open.value = false;
    if (options.focus) void nextTick(() => trigger.value?.focus());
  }

  function toggle(): void {
    open.value = !open.value;
  }

  function onPointerDown(event: PointerEvent): void {
    if (root.value && !root.value.contains(event.target as Node)) close();
  }

  function onKeydown(event: KeyboardEvent): void {
    if (event.key === "Escape") {
      event.stopPropagation();
      close({ focus: true });
    }
  }

  const route = useRoute();
  watch(() => route?.fullPath, () => close());

  watch(open, (isOpen) => {
    if (isOpen) {
      document.addEventListener("pointerdown", onPointerDown, true);
      root.value?.addEventListener("keydown", onKeydown);
    } else {
      document.removeEventListener("pointerdown", onPointerDown, true);
      root.value?.removeEventListener("keydown", onKeydown);
    }
  });
  onScopeDispose(() => {
    document.removeEventListener("pointerdown", onPointerDown, true);
    root.value?.removeEventListener("keydown", onKeydown);
  });

  return { open, panelId, toggle, close };
}

/** The native modal <dialog> of the template ref `key`, shown while `open()` is true (focus
 * stays inside; Escape cancels). */
export function useModalDialog(open: () => boolean, key: string) {
  const dialog = useTemplateRef<HTMLDialogElement>(key);
  watch(
    () => [open(), dialog.value] as const,
    ([isOpen, element]) => {
      if (!element) return;
      if (isOpen && !element.open) element.showModal?.();
      if (!isOpen && element.open) element.close();
    },
    { immediate: true, flush: "post" },
  );
  return dialog;
}
