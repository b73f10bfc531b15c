// What the snippet observes on the page: page views (SPA navigation included), time on page,
// clicks on the hello's selectors, hovers on tracked elements.
import type { Options } from "./index";
import type { Config } from "./transport";
import { on, safe } from "./util";

export type Emit = (type: string, fields: Record<string, unknown>) => void;

export type TrackerOptions = Pick<Options, "spa" | "hash">;

interface Hover {
  el: Element;
  t: number; // when the hover began; 0 once clicked (its leave is then not an outcome)
}

export function startTracker(emit: Emit, opts: TrackerOptions, onHide: () => void) {
  let config: Config = {};
  let url = "";
  let shown = 0; // when the current page became visible, 0 while hidden
  const hovers: Record<string, Hover> = {};
  const now = Date.now;
  const here = () => (opts.hash === false ? location.href.split("#")[0] : location.href);

  const leave = () => {
    if (shown) emit("leave", { url, duration: now() - shown });
    shown = 0;
  };

  const page = () => {
    const next = here();
    if (next == url) return; // the URL did not change: no page view
    const referrer = url || document.referrer;
    leave();
    url = next;
    shown = document.hidden ? 0 : now();
    emit("pageview", {
      url,
      referrer,
      title: document.title,
      screen: screen.width,
      lang: navigator.language,
    });
  };

  page();
  if (opts.spa !== false) {
    // routers update the title after they push the URL: look a tick later
    const later = () => setTimeout(safe(page));
    for (const name of ["pushState", "replaceState"] as const) {
      const orig = history[name];
      history[name] = function (this: History) {
        later();
        return orig.apply(this, arguments as unknown as Parameters<History["pushState"]>);
      };
    }
    on(window, "popstate", later);
    if (opts.hash !== false) on(window, "hashchange", later);
  }

  // the last moment a page is sure to see: visibilitychange to hidden, or pagehide (either may come first)
  let hidden = false;
  const hide = () => {
    if (hidden) return;
    hidden = true;
    leave();
    onHide();
  };
  on(document, "visibilitychange", () => {
    if (document.hidden) return hide();
    hidden = false;
    shown = shown || now();
  });
  on(window, "pagehide", hide);

  // tracked elements: the selector's closest match of a target, null when none or invalid
  const closest = (target: EventTarget | null, selector: string): Element | null | undefined => {
    try {
      return (target as Element).closest(selector);
    } catch {
      // an invalid selector matches nothing
    }
  };

  // a hover's outcome; a click without a hover (touch screens) or after one reported: duration 0
  const outcome = (name: string, action: string, h?: Hover) =>
    emit("element", { name, action, duration: h && h.t ? now() - h.t : 0 });

  on(document, "click", (e: MouseEvent) => {
    for (const selector of config.clicks || []) {
      if (closest(e.target, selector)) emit("click", { url: location.href, selector });
    }
    for (const { name, selector } of config.elements || []) {
      const el = closest(e.target, selector);
      if (!el) continue;
      outcome(name, "click", hovers[name]);
      hovers[name] = { el, t: 0 };
    }
  });

  on(document, "mouseover", (e: MouseEvent) => {
    for (const { name, selector } of config.elements || []) {
      const el = closest(e.target, selector);
      if (el && !hovers[name]) hovers[name] = { el, t: now() };
    }
  });

  on(document, "mouseout", (e: MouseEvent) => {
    for (const name in hovers) {
      const h = hovers[name];
      if (h.el.contains(e.relatedTarget as Node | null)) continue; // still inside
      if (h.t) outcome(name, "leave", h);
      delete hovers[name];
    }
  });

  return (c: Config) => {
    config = c;
  };
}
