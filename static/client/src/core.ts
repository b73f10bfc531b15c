// Wires the queue, the transport and the tracker together, after the privacy checks.
import { createQueue } from "./queue";
import type { Options, Props } from "./index";
import { startTracker } from "./tracker";
import { createTransport } from "./transport";
import { safe, uuid } from "./util";

export type Track = (name: string, props?: Props) => void;

const noop: Track = () => {};

/** True when the visitor asked not to be tracked (or the site said not to ask). */
export function optedOut(respectDnt?: boolean): boolean {
  try {
    if (localStorage.getItem("datalab_ignore") == "true") return true;
  } catch {
    // storage disabled: no opt-out recorded
  }
  const nav = navigator as Navigator & { globalPrivacyControl?: boolean };
  return respectDnt !== false && (nav.doNotTrack == "1" || !!nav.globalPrivacyControl);
}

/** The websocket and HTTP endpoints of a host ("example.com", "https://example.com/any/path"). */
export function endpoints(host: string, token: string): [ws: string, http: string] {
  const origin = new URL(host.indexOf("//") < 0 ? "https://" + host : host).origin;
  return [origin.replace("http", "ws") + "/ws/ingest?token=" + encodeURIComponent(token), origin + "/api/v1/ingest"];
}

/** Starts tracking; returns the custom-event function (a no-op when tracking is off). */
export function start(o: Options): Track {
  if (!o.token || !o.host || optedOut(o.respectDnt)) return noop;
  const transport = createTransport(...endpoints(o.host, o.token), o.token, createQueue(), (c) => configure(c));
  const emit = (type: string, fields: Record<string, unknown>) =>
    transport.send({ id: uuid(), type, ts: Date.now(), ...fields });
  const configure = startTracker(emit, o, transport.beacon);
  return safe((name: string, props?: Props) => emit("event", props ? { name, props } : { name }));
}
