import { onScopeDispose, shallowRef } from "vue";

export interface Shortcut {
  /** `KeyboardEvent.key`, e.g. "t", "?", "ArrowLeft". */
  key: string;
  /** What the key does, in words (shown by the shortcuts help). */
  description: string;
  /** The heading it is listed under. */
  group: string;
  run: () => void;
  /** When false, the key does nothing (and is listed as unavailable). */
  enabled?: () => boolean;
}

/** Every shortcut active now, in registration order: the shortcuts help lists them. */
export const activeShortcuts = shallowRef<readonly Shortcut[]>([]);

function typingInto(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  return ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName);
}

function onKeydown(event: KeyboardEvent): void {
  if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
  if (typingInto(event.target) || document.querySelector("dialog[open]")) return;
  const shortcut = [...activeShortcuts.value]
    .reverse()
    .find((item) => item.key === event.key || item.key === event.key.toLowerCase());
  if (!shortcut || shortcut.enabled?.() === false) return;
  event.preventDefault();
  shortcut.run();
}

/**
 * Registers single-key shortcuts while the calling component (or scope) lives. Keys are
 * ignored while typing in a field, with a modifier held, or while a dialog is open. When two
 * screens register one key, the latest wins.
 */
export function useKeyboardShortcuts(shortcuts: Shortcut[]): void {
  if (activeShortcuts.value.length === 0) window.addEventListener("keydown", onKeydown);
  activeShortcuts.value = [...activeShortcuts.value, ...shortcuts];
  onScopeDispose(() => {
    activeShortcuts.value = activeShortcuts.value.filter((item) => !shortcuts.includes(item));
    if (activeShortcuts.value.length === 0) window.removeEventListener("keydown", onKeydown);
  });
}
