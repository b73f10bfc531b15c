import { nextTick, ref, shallowRef, toValue, type MaybeRefOrGetter } from "vue";

import { toApiError, type ApiError } from "@/api";

/**
 * A form's submission: busy while it runs, and the API's error, so that each field shows its
 * own messages (`fieldError("email")`) and the form the rest (`general`). Given the form,
 * a failed submission moves focus to the first field in error.
 */
export function useSubmit<A extends unknown[], R>(
  action: (...args: A) => Promise<R>,
  options: { form?: MaybeRefOrGetter<HTMLElement | null | undefined> } = {},
) {
  const busy = ref(false);
  const error = shallowRef<ApiError | null>(null);

  async function submit(...args: A): Promise<R | undefined> {
    if (busy.value) return undefined;
    busy.value = true;
    error.value = null;
    try {
      return await action(...args);
    } catch (failure) {
      error.value = toApiError(failure);
      void focusFirstInvalid();
      return undefined;
    } finally {
      busy.value = false;
    }
  }

  async function focusFirstInvalid(): Promise<void> {
    await nextTick();
    toValue(options.form)?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
  }

  const fieldError = (name: string) => error.value?.fieldError(name);

  /** The error in words, for the form as a whole (throttling says when to try again). */
  function general(fields: readonly string[] = []): string | undefined {
    const failure = error.value;
    if (!failure) return undefined;
    if (failure.status === 429) {
      const wait = failure.retryAfter;
      return wait
        ? `Too many attempts. Try again in ${wait} second${wait === 1 ? "" : "s"}.`
        : "Too many attempts. Wait a moment and try again.";
    }
    const shown = fields.filter((name) => failure.fieldError(name));
    const others = Object.keys(failure.fields).filter(
      (name) => name !== "non_field_errors" && !fields.includes(name),
    );
    const parts = [
      failure.fieldError("non_field_errors"),
      ...others.map((name) => `${name}: ${failure.fieldError(name)}`),
    ].filter(Boolean);
    if (parts.length) return parts.join(" ");
    return shown.length ? undefined : failure.detail;
  }

  return { submit, busy, error, fieldError, general };
}
