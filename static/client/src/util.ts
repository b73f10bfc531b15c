// Small helpers shared by the modules.

/** Wraps a callback so that nothing it throws ever reaches the host page. */
export const safe =
  <A extends unknown[]>(fn: (...args: A) => void) =>
  (...args: A): void => {
    try {
      fn(...args);
    } catch {
      // the snippet must never break the page it runs on
    }
  };

/** Listens (capturing, so that pages stopping propagation do not hide events), never throwing. */
export const on = (target: EventTarget, type: string, fn: (e: any) => void) =>
  target.addEventListener(type, safe(fn), true);

/** A random UUID v4, lower-case with hyphens, from crypto.getRandomValues (which, unlike
 * crypto.randomUUID, pages served over plain http have too). */
export const uuid = (): string =>
  // each 0 becomes a random hex digit, the 4 stays (version), the 8 becomes 8-b (variant 10xx)
  "00000000-0000-4000-8000-000000000000".replace(/[08]/g, (d) =>
    (+d ^ (crypto.getRandomValues(new Uint8Array(1))[0] & (15 >> (+d / 4)))).toString(16),
  );
