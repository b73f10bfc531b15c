/**
 * The shapes the API answers and accepts, taken from the backend's serializers and selectors.
 * Dates are ISO 8601 strings; dates of ranges are `YYYY-MM-DD` in the app's time zone.
 */

// -- accounts and organizations (accounts/serializers.py, orgs/serializers.py) ------------------

export interface TokenPair {
  access: string;
  refresh: string;
}

export interface LoginInput {
  email: string;
  password: string;
}

export interface User {
  id: number;
  email: string;
  first_name: string;
  last_name: string;
  position: string;
}

export interface Me extends User {
  /** null until the user belongs to an organization. */
  organization: { domain: string; name: string } | null;
  /** Whether the e-mail address is confirmed (an unverified user sees no apps). */
  verified: boolean;
}

export interface RegisterInput {
  email: string;
  password: string;
  first_name: string;
  last_name: string;
  /** The domain of the e-mail address (the organization is the e-mail domain). */
  organization: string;
}

export interface Registration extends Me {
  /** True when a confirmation link was sent (joining an existing organization). */
  verification_required: boolean;
}

export interface ProfileInput {
  first_name?: string;
  last_name?: string;
  position?: string;
}

export interface Organization {
  id: number;
  domain: string;
  name: string;
  created_at: string;
}

export interface OrganizationPage {
  organization: Organization;
  /** Verified users of the organization, the user excluded. */
  colleagues: User[];
}

// -- apps, members, invitations (apps_registry/serializers.py) ----------------------------------

export interface Person {
  id: number;
  email: string;
  first_name: string;
  last_name: string;
}

export type AppRole = "owner" | "member" | "colleague";

/** What the viewer may do with the app (the API stays the authority). */
export interface AppPermissions {
  view: boolean;
  edit_config: boolean;
  manage: boolean;
  issue_token: boolean;
  unlock: boolean;
  invite: boolean;
  delete: boolean;
  /** A member may leave the app; the owner may not (they transfer it first). */
  leave: boolean;
}

export interface App {
  id: number;
  name: string;
  url: string;
  origin: string;
  description: string;
  tags: string[];
  is_public: boolean;
  /** IANA time zone the app's dates are counted in. */
  timezone: string;
  allow_visitor_id: boolean;
  locked: boolean;
  locked_at: string | null;
  epoch: number;
  owner: Person;
  created_at: string;
  role: AppRole;
  can: AppPermissions;
}

export interface AppInput {
  name: string;
  url: string;
  description?: string;
  /** 1 to 5 tags of 1 to 32 characters, different from each other. */
  tags: string[];
  is_public?: boolean;
  timezone?: string;
  allow_visitor_id?: boolean;
}

export type AppUpdate = Partial<AppInput>;

export type InviteStatus = "pending" | "accepted" | "rejected" | "revoked" | "removed";

export interface Invite {
  id: number;
  app: { id: number; name: string; url: string };
  invitee: Person;
  invited_by: Person | null;
  status: InviteStatus;
  created_at: string;
  expires_at: string;
  expired: boolean;
  responded_at: string | null;
  last_reminded_at: string | null;
}

/** Either a verified colleague's id or an e-mail address. */
export type InviteInput = { user_id: number } | { email: string };

export interface Member {
  user: Person;
  since: string;
}

export interface Team {
  owner: Person;
  members: Member[];
  /** Pending invitations: present for the owner only. */
  pending?: Invite[];
}

export interface ArchivedEpoch {
  epoch: number;
  reason: string;
  retired_at: string;
  archived_at: string | null;
  events: number | null;
  path: string;
  deleted_at: string | null;
}

// -- configuration (funnels/validation.py, funnels/views.py) -------------------------------------

export type FunnelOrder = "ordered" | "strict" | "any";
export type StageKind = "page" | "click" | "event";

export interface FunnelStage {
  name: string;
  kind: StageKind;
  /** A path template (page), a CSS selector (click) or an event name (event). */
  match: string;
  /** Page stages only: query parameters to match, "*" for any value. */
  query?: Record<string, string>;
}

export interface Funnel {
  order: FunnelOrder;
  /** 60 to 7776000 (90 days). */
  window_seconds: number;
  stages: FunnelStage[];
}

export interface Campaign {
  name: string;
  utm_source?: string;
  utm_medium?: string;
  utm_campaign?: string;
  utm_term?: string;
  utm_content?: string;
}

export interface TrackedElement {
  name: string;
  selector: string;
}

export interface AppConfig {
  /** Send it back when saving: a stale version answers 409 `version_conflict`. */
  version: number;
  locked: boolean;
  funnel: Funnel;
  campaigns: Campaign[];
  elements: TrackedElement[];
}

export interface ConfigInput {
  version: number;
  funnel?: Funnel;
  campaigns?: Campaign[];
  elements?: TrackedElement[];
}

// -- tokens (tokens/views.py) --------------------------------------------------------------------

export interface AppToken {
  token: string;
  /** The `<script>` tag to paste into the site. */
  snippet: string;
  epoch: number;
  issued_at: string;
}

// -- insights (insights/selectors.py, insights/engine.py, docs/insights.md) ---------------------

export const FILTER_KEYS = ["browser", "os", "device", "path", "referrer", "campaign"] as const;
export type FilterKey = (typeof FILTER_KEYS)[number];
export type Filters = Partial<Record<FilterKey, string>>;

export interface InsightParams extends Filters {
  from?: string;
  to?: string;
  epoch?: number;
}

/** The overview's figures (of a range, or of one bucket of its series). */
export interface Kpis {
  pageviews: number;
  visitors: number;
  /** Sessions in the range; in a series bucket, the sessions that start in it. */
  sessions: number;
  /** 0 to 1: sessions with one page view among those with any. */
  bounce_rate: number;
  avg_session_seconds: number;
}

export interface SeriesPoint extends Kpis {
  /** A date (daily series) or an ISO date-time with offset (hourly), in the app's time zone. */
  t: string;
}

export interface Overview extends Kpis {
  series: SeriesPoint[];
  interval: "hour" | "day";
  /** With `compare: "previous"`: the period of the same length just before. */
  previous?: Kpis & { from: string; to: string };
}

/** GET /apps/summary: today's figures of each app the user sees (in the app's time zone). */
export interface AppSummary {
  app: number;
  visitors_today: number;
  pageviews_today: number;
  /** Visitors of the last five minutes. */
  visitors_now: number;
}

export interface PageRow {
  path: string;
  pageviews: number;
  visitors: number;
  /** Mean time on page from the snippet's leave events; null when none. */
  avg_seconds: number | null;
  entries: number;
  exits: number;
}

export interface Pages {
  results: PageRow[];
}

export interface BreakdownRow {
  name: string;
  visitors: number;
  pageviews: number;
}

export interface Technology {
  browsers: BreakdownRow[];
  os: BreakdownRow[];
  devices: BreakdownRow[];
}

export interface ReferrerRow {
  /** A host, or "(direct)". */
  name: string;
  visitors: number;
}

export interface CampaignRow {
  name: string;
  visitors: number;
  /** Visitors of the campaign who completed the whole funnel in the range. */
  conversions: number;
}

export interface Sources {
  referrers: ReferrerRow[];
  campaigns: CampaignRow[];
}

export interface FunnelStageResult {
  name: string;
  visitors: number;
  /** 0 to 1. */
  conversion_from_start: number;
  conversion_from_previous: number;
  drop_off: number;
  median_seconds_from_previous: number | null;
}

interface FunnelReportBase {
  order: FunnelOrder;
  window_seconds: number;
  unit: "visitor";
}

/** `?distinct=true` counts, per stage, the visitors whose first ever entry falls in the range. */
export type FunnelReport =
  | (FunnelReportBase & { distinct?: undefined; stages: FunnelStageResult[] })
  | (FunnelReportBase & { distinct: true; stages: { name: string; visitors: number }[] });

export interface DroppedVisitor {
  visitor: string;
  last_page: string | null;
  /** Epoch milliseconds. */
  last_seen: number | null;
}

export interface Dropoffs {
  stage: number;
  visitors: DroppedVisitor[];
}

export type JourneyDirection = "forward" | "backward";

export interface JourneyNode {
  /** "step:path" */
  id: string;
  name: string;
  step: number;
  visitors: number;
}

export interface JourneyLink {
  source: string;
  target: string;
  visitors: number;
}

export interface Journeys {
  start: string | null;
  steps: number;
  direction: JourneyDirection;
  /** The 20 most common walks; a walk that ends sooner than `steps` ends in "(left)". */
  paths: { path: string[]; visitors: number }[];
  nodes: JourneyNode[];
  links: JourneyLink[];
}

export interface ElementRow {
  name: string;
  hovers: number;
  clicks: number;
  leaves: number;
  click_through_rate: number;
  median_hover_ms_before_click: number | null;
  median_hover_ms_before_leave: number | null;
}

export interface Elements {
  results: ElementRow[];
}

export interface LiveEvent {
  /** Epoch milliseconds. */
  ts: number;
  type: string;
  path: string;
  name: string;
  stages: string[];
}

export interface LiveSnapshot {
  /** Visitors with events in the last 5 minutes. */
  visitors: number;
  pages: { path: string; visitors: number }[];
  events: LiveEvent[];
}

// -- notifications (live/serializers.py, live/events.py) -----------------------------------------

export type NotificationKind =
  | "invite.sent"
  | "invite.reminded"
  | "invite.accepted"
  | "invite.rejected"
  | "invite.revoked"
  | "member.removed"
  | "member.left"
  | "app.created"
  | "app.updated"
  | "app.locked"
  | "app.unlocked"
  | "app.deleted"
  | "app.transferred"
  | "config.changed"
  | "token.rotated"
  | "token.revoked";

export interface Notification {
  id: number;
  kind: NotificationKind;
  app: number | null;
  app_name: string;
  /** The event's data, with `actor: {id, name} | null`. */
  data: Record<string, unknown> & { actor?: { id: number; name: string } | null };
  created_at: string;
  read_at: string | null;
}
