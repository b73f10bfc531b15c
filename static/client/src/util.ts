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

/** A random UUID v4, lower-case with hyphens (crypto.randomUUID needs a secure context). */
export function uuid(): string {
  const c = crypto;
  if (c.randomUUID) return c.randomUUID();
  const b = c.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 15) | 64; // version 4
  b[8] = (b[8] & 63) | 128; // variant 10xx
  let s = "";
  for (let i = 0; i < 16; i++) {
    s += (i == 4 || i == 6 || i == 8 || i == 10 ? "-" : "") + (b[i] + 256).toString(16).slice(1);
  }
  return s;
}
