// The npm-style entry: import { init, track } from "datalab-client".
import { start, type Track } from "./core";

// The public types live here so that dist/index.d.ts stands alone.

/** A custom event's properties: a flat object of at most 20 keys. */
export type Props = Record<string, string | number | boolean>;

export interface Options {
  /** The app's token (Settings > Tokens in the dashboard). Nothing happens without it. */
  token: string;
  /** datalab's host: "analytics.example.com" (https) or a full URL such as "http://127.0.0.1:8000". */
  host: string;
  /** Honour Do-Not-Track and Global Privacy Control. Default true. */
  respectDnt?: boolean;
  /** Report SPA navigations (pushState, replaceState, popstate, hashchange). Default true. */
  spa?: boolean;
  /** Count a change of the #hash alone as a new page. Default true. */
  hash?: boolean;
}

let tracker: Track | undefined;
const early: [string, Props | undefined][] = [];

/** Starts tracking once per page; later calls are ignored. Never throws. */
export function init(options: Options): void {
  try {
    if (tracker) return;
    tracker = start(options || ({} as Options));
    for (const [name, props] of early.splice(0)) tracker(name, props);
  } catch {
    // never break the host page
  }
}

/** Records a custom event; calls made before init() are kept until it runs. Never throws. */
export function track(name: string, props?: Props): void {
  try {
    if (tracker) tracker(name, props);
    else if (early.length < 100) early.push([name, props]);
  } catch {
    // never break the host page
  }
}
