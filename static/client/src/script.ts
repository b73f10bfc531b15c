// The script-tag build (dist/datalab.js):
// <script async src="https://HOST/static/datalab.js" data-token="..."></script>
// The host is taken from the script's own URL; window.datalab.track records custom events.
import { start, type Track } from "./core";

interface Global {
  track: Track;
  q?: ArrayLike<unknown>[]; // calls recorded by the optional stub before this script loaded
}

try {
  const w = window as unknown as { datalab?: Global };
  const stub = w.datalab;
  if (!stub || stub.q) {
    const script = (document.currentScript ||
      document.querySelector("script[data-token][src*='datalab']")) as HTMLScriptElement | null;
    const data = (script && script.dataset) || {};
    const flag = (v?: string) => v != "false";
    const track = start({
      token: data.token as string, // start() does nothing without both
      host: (script && script.src) as string,
      respectDnt: flag(data.respectDnt),
      spa: flag(data.spa),
      hash: flag(data.hash),
    });
    w.datalab = { track };
    for (const args of (stub && stub.q) || []) track.apply(0, args as Parameters<Track>);
  }
} catch {
  // never break the host page
}
