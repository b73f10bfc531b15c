import { defineStore } from "pinia";
import { computed, onScopeDispose, ref, watchEffect } from "vue";

export type ThemeChoice = "light" | "dark" | "system";
export const THEME_KEY = "datalab.theme";

function storedChoice(): ThemeChoice {
  try {
    const value = localStorage.getItem(THEME_KEY);
    return value === "light" || value === "dark" ? value : "system";
  } catch {
    return "system";
  }
}

/**
 * Light, dark, or whatever the system prefers; the choice is kept in this browser. The CSS
 * follows `prefers-color-scheme` by itself; an explicit choice sets `data-theme` on <html>.
 */
export const useThemeStore = defineStore("theme", () => {
  const choice = ref<ThemeChoice>(storedChoice());
  const media = typeof matchMedia === "function" ? matchMedia("(prefers-color-scheme: dark)") : null;
  const systemDark = ref(media?.matches ?? false);
  const onSystemChange = (event: MediaQueryListEvent) => (systemDark.value = event.matches);
  media?.addEventListener("change", onSystemChange);
  onScopeDispose(() => media?.removeEventListener("change", onSystemChange));

  /** The theme shown. */
  const resolved = computed<"light" | "dark">(() =>
    choice.value === "system" ? (systemDark.value ? "dark" : "light") : choice.value,
  );

  function set(value: ThemeChoice): void {
    choice.value = value;
    try {
      if (value === "system") localStorage.removeItem(THEME_KEY);
      else localStorage.setItem(THEME_KEY, value);
    } catch {
      // not kept: fine for this visit
    }
  }

  watchEffect(() => {
    const root = document.documentElement;
    if (choice.value === "system") delete root.dataset.theme;
    else root.dataset.theme = choice.value;
  });

  return { choice, resolved, set };
});
