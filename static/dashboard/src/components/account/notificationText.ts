import type { RouteLocationRaw } from "vue-router";

import type { Notification } from "@/api";

/** What a notification says, in a sentence, and the screen it is about (if any). */
export interface NotificationView {
  text: string;
  to: RouteLocationRaw | null;
  /** The link's words ("Answer", "Team"). */
  action: string;
}

type Describe = (n: Notification, who: string, app: string, me: number | undefined) => Omit<NotificationView, "to" | "action"> & {
  screen: string | null;
  action?: string;
};

const number = (value: unknown) => (typeof value === "number" ? value : null);

/** By kind (live/events.py); the data of each kind is what its service recorded. */
const KINDS: Record<string, Describe> = {
  "invite.sent": (_, who, app) => ({ text: `${who} invited you to ${app}.`, screen: "invites", action: "Answer" }),
  "invite.reminded": (_, who, app) => ({ text: `${who} reminds you of the invitation to ${app}.`, screen: "invites", action: "Answer" }),
  "invite.accepted": (_, who, app) => ({ text: `${who} accepted your invitation to ${app}.`, screen: "team" }),
  "invite.rejected": (_, who, app) => ({ text: `${who} declined your invitation to ${app}.`, screen: "team" }),
  "invite.revoked": (_, who, app) => ({ text: `${who} withdrew the invitation to ${app}.`, screen: null }),
  "member.removed": (_, who, app) => ({ text: `${who} removed you from ${app}.`, screen: null }),
  "member.left": (_, who, app) => ({ text: `${who} left ${app}.`, screen: "team" }),
  "app.created": (_, who, app) => ({ text: `${who} created ${app}.`, screen: "overview" }),
  "app.updated": (_, who, app) => ({ text: `${who} changed the settings of ${app}.`, screen: "overview" }),
  "app.locked": (_, who, app) => ({
    text: `${who} issued the token of ${app}: its configuration is locked while data is collected.`,
    screen: "install",
  }),
  "app.unlocked": (n, who, app) => ({
    text: `${who} unlocked ${app}: data epoch ${number(n.data.epoch) ?? "new"} starts, the configuration can change.`,
    screen: "configuration",
  }),
  "app.deleted": (_, who, app) => ({ text: `${who} deleted ${app}.`, screen: null }),
  "app.transferred": (n, who, app, me) => ({
    text: number(n.data.new_owner) === me ? `${who} made you the owner of ${app}.` : `${who} handed ${app} to a new owner.`,
    screen: "team",
  }),
  "config.changed": (n, who, app) => ({
    text: `${who} changed the configuration of ${app}${number(n.data.version) ? ` (version ${n.data.version})` : ""}.`,
    screen: "configuration",
  }),
  "token.rotated": (_, who, app) => ({ text: `${who} rotated the token of ${app}: update the snippet within 24 hours.`, screen: "install" }),
  "token.revoked": (_, who, app) => ({ text: `${who} revoked the token of ${app}: it no longer collects data.`, screen: "install" }),
};

/** The link's words by screen (short: the sentence says what it is about). */
const ACTIONS: Record<string, string> = {
  team: "Team",
  overview: "Open app",
  install: "Install",
  configuration: "Configuration",
};

/** The sentence and link of a notification; `me` is the reader's id. */
export function describeNotification(n: Notification, me?: number): NotificationView {
  const who = n.data.actor?.name || "Someone";
  const app = n.app_name || "an app";
  const describe = KINDS[n.kind];
  if (!describe) return { text: `${who}: ${n.kind.replace(".", " ")} (${app}).`, to: null, action: "" };
  const { text, screen, action } = describe(n, who, app, me);
  let to: RouteLocationRaw | null = null;
  if (screen === "invites") to = { name: "invites" };
  else if (screen && n.app !== null) to = { name: screen, params: { id: n.app } };
  return { text, to, action: action ?? (screen ? (ACTIONS[screen] ?? "Open") : "") };
}
