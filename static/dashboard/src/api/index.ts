/**
 * The one typed client of datalab's REST API (/api/v1). Views and stores call these functions;
 * nothing else builds API URLs. Every function rejects with an `ApiError` (see ./http).
 */
import { del, fetchWithSession, get, patch, post, put, type Query } from "./http";
import type {
  App,
  AppConfig,
  AppInput,
  AppSummary,
  AppToken,
  AppUpdate,
  ArchivedEpoch,
  ConfigInput,
  Dropoffs,
  Elements,
  FunnelReport,
  InsightParams,
  Invite,
  InviteInput,
  JourneyDirection,
  Journeys,
  LiveSnapshot,
  LoginInput,
  Me,
  Notification,
  OrganizationPage,
  Overview,
  Pages,
  ProfileInput,
  RegisterInput,
  Registration,
  Sources,
  Team,
  Technology,
  TokenPair,
  User,
} from "./types";

export * from "./types";
export { ApiError, isAbort, NETWORK_ERROR, parseError, toApiError, type Query } from "./http";

type Signal = { signal?: AbortSignal };
const noSession = { auth: false } as const;

// -- authentication (no session needed) -----------------------------------------------------------

export const login = (input: LoginInput) => post<TokenPair>("/auth/login", input, noSession);
export const refreshTokens = (refresh: string) => post<TokenPair>("/auth/refresh", { refresh }, noSession);
export const register = (input: RegisterInput) => post<Registration>("/auth/register", input, noSession);
export const verifyEmail = (token: string) => post<Me>("/auth/verify", { token }, noSession);
export const resendVerification = (email: string) =>
  post<void>("/auth/verify/resend", { email }, noSession);
/** Ends the session of `refresh` (the API answers 204). */
export const logout = (refresh: string) => post<void>("/auth/logout", { refresh }, noSession);

// -- the user and the organization ----------------------------------------------------------------

export const getMe = (options?: Signal) => get<Me>("/me", options);
export const updateMe = (input: ProfileInput) => patch<Me>("/me", input);
/** 403 `not_verified` until the e-mail address is confirmed. */
export const getOrganization = (options?: Signal) => get<OrganizationPage>("/org", options);
/** Verified colleagues whose name or e-mail address contains `search` (20 at most). */
export const searchColleagues = (search: string, options?: Signal) =>
  get<User[]>("/org/colleagues", { ...options, query: { search } });

// -- apps -----------------------------------------------------------------------------------------

export const listApps = (options?: Signal) => get<App[]>("/apps", options);
/** Today's visitors and page views, and visitors now, of every app the user sees. */
export const getAppsSummary = (options?: Signal) =>
  get<{ results: AppSummary[] }>("/apps/summary", options);
export const getApp = (id: number, options?: Signal) => get<App>(`/apps/${id}`, options);
export const createApp = (input: AppInput) => post<App>("/apps", input);
export const updateApp = (id: number, changes: AppUpdate) => patch<App>(`/apps/${id}`, changes);
export const deleteApp = (id: number) => del(`/apps/${id}`);
/** Owner: retires the current epoch and starts a new one (docs/archiving.md). */
export const unlockApp = (id: number) => post<App>(`/apps/${id}/unlock`);
export const transferApp = (id: number, userId: number) =>
  post<App>(`/apps/${id}/transfer`, { user_id: userId });
export const listArchives = (id: number, options?: Signal) =>
  get<ArchivedEpoch[]>(`/apps/${id}/archives`, options);

// -- team -----------------------------------------------------------------------------------------

export const getTeam = (id: number, options?: Signal) => get<Team>(`/apps/${id}/members`, options);
export const removeMember = (id: number, userId: number) => del(`/apps/${id}/members/${userId}`);
export const invite = (id: number, input: InviteInput) => post<Invite>(`/apps/${id}/invites`, input);
export const remindInvite = (id: number, inviteId: number) =>
  post<Invite>(`/apps/${id}/invites/${inviteId}/remind`);
export const revokeInvite = (id: number, inviteId: number) => del(`/apps/${id}/invites/${inviteId}`);

/** The invitations addressed to the user. */
export const listMyInvites = (options?: Signal) => get<Invite[]>("/invites", options);
export const acceptInvite = (inviteId: number) => post<Invite>(`/invites/${inviteId}/accept`);
export const rejectInvite = (inviteId: number) => post<Invite>(`/invites/${inviteId}/reject`);

// -- configuration and token ----------------------------------------------------------------------

export const getConfig = (id: number, options?: Signal) => get<AppConfig>(`/apps/${id}/config`, options);
/** 409 `version_conflict` (extra.current_version) when someone saved first; 423 when locked. */
export const saveConfig = (id: number, input: ConfigInput) => put<AppConfig>(`/apps/${id}/config`, input);

/** 404 while the app has no usable token. */
export const getToken = (id: number, options?: Signal) => get<AppToken>(`/apps/${id}/token`, options);
/** Owner: issues the token, which freezes the configuration and locks the app. */
export const issueToken = (id: number) => post<AppToken>(`/apps/${id}/token`);
export const rotateToken = (id: number) => post<AppToken>(`/apps/${id}/token/rotate`);
export const revokeToken = (id: number) => del(`/apps/${id}/token`);

// -- insights (docs/insights.md) ------------------------------------------------------------------

/** The insights endpoints, by the name of their path under /apps/{id}/insights/. */
export type InsightName =
  | "overview"
  | "pages"
  | "technology"
  | "sources"
  | "funnel"
  | "funnel/dropoffs"
  | "journeys"
  | "elements"
  | "live";

const insight = <T>(id: number, name: InsightName, query: Query, options?: Signal) =>
  get<T>(`/apps/${id}/insights/${name}`, { ...options, query });

/** `compare: "previous"` adds the KPIs of the previous period of the same length. */
export const getOverview = (
  id: number,
  params: InsightParams & { compare?: "previous" },
  options?: Signal,
) => insight<Overview>(id, "overview", { ...params }, options);
export const getPages = (id: number, params: InsightParams, options?: Signal) =>
  insight<Pages>(id, "pages", { ...params }, options);
export const getTechnology = (id: number, params: InsightParams, options?: Signal) =>
  insight<Technology>(id, "technology", { ...params }, options);
export const getSources = (id: number, params: InsightParams, options?: Signal) =>
  insight<Sources>(id, "sources", { ...params }, options);
export const getFunnel = (id: number, params: InsightParams & { distinct?: boolean }, options?: Signal) =>
  insight<FunnelReport>(id, "funnel", { ...params, distinct: params.distinct || undefined }, options);
/** Up to 100 visitors who reached stage `stage - 1` but not `stage` (stage >= 2). */
export const getFunnelDropoffs = (id: number, params: InsightParams & { stage: number }, options?: Signal) =>
  insight<Dropoffs>(id, "funnel/dropoffs", { ...params }, options);
export const getJourneys = (
  id: number,
  params: InsightParams & { start?: string; steps?: number; direction?: JourneyDirection },
  options?: Signal,
) => insight<Journeys>(id, "journeys", { ...params }, options);
export const getElements = (id: number, params: InsightParams, options?: Signal) =>
  insight<Elements>(id, "elements", { ...params }, options);
export const getLive = (id: number, options?: Signal) => insight<LiveSnapshot>(id, "live", {}, options);

/** The CSV form of an insight (`?format=csv`): the endpoint's main table. */
export async function fetchInsightCsv(id: number, name: InsightName, query: Query): Promise<Blob> {
  const response = await fetchWithSession("GET", `/apps/${id}/insights/${name}`, {
    query: { ...query, format: "csv" },
    accept: "text/csv",
  });
  return response.blob();
}

// -- notifications (the /ws/live socket offers the same actions) ----------------------------------

/** The user's notifications that are not hidden, newest first (at most 200). */
export const listNotifications = (options?: Signal) => get<Notification[]>("/notifications", options);
export const readNotification = (notificationId: number) =>
  post<Notification>(`/notifications/${notificationId}/read`);
export const hideNotification = (notificationId: number) => del(`/notifications/${notificationId}`);
/** Hides every notification of the user. */
export const clearNotifications = () => del("/notifications");
