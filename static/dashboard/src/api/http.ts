/**
 * The transport under every API call: JSON in and out, the one error shape of the API
 * (datalab/errors.py) as a typed `ApiError`, and the bearer token, renewed once and retried
 * when the server answers 401.
 *
 * The session itself (which tokens, how they are renewed, what happens when it ends) belongs to
 * the auth store, which plugs itself in with `connectSession`.
 */

export const API_ROOT = "/api/v1";

export type FieldErrors = Record<string, string[]>;

/** An error answered by the API (or the network), as `{error: {code, message, fields}}`. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly detail: string;
  readonly fields: FieldErrors;
  /** Other members of the error body, such as `retry_after` or `current_version`. */
  readonly extra: Record<string, unknown>;

  constructor(init: {
    status: number;
    code: string;
    detail: string;
    fields?: FieldErrors;
    extra?: Record<string, unknown>;
  }) {
    super(init.detail);
    this.name = "ApiError";
    this.status = init.status;
    this.code = init.code;
    this.detail = init.detail;
    this.fields = init.fields ?? {};
    this.extra = init.extra ?? {};
  }

  /** Seconds to wait before trying again (429 answers). */
  get retryAfter(): number | undefined {
    const value = this.extra.retry_after;
    return typeof value === "number" ? value : undefined;
  }

  /** The messages about one field, joined into a sentence, or undefined. */
  fieldError(name: string): string | undefined {
    const messages = this.fields[name];
    return messages && messages.length ? messages.join(" ") : undefined;
  }

  /** Errors not about any one field: `non_field_errors`, else the message. */
  get general(): string {
    return this.fieldError("non_field_errors") ?? this.detail;
  }
}

export const NETWORK_ERROR = "network_error";

const STATUS_WORDS: Record<number, string> = {
  401: "Please log in again.",
  403: "You may not do this.",
  404: "Not found.",
  429: "Too many requests: wait a moment and try again.",
};

function flattenFields(value: unknown, prefix = "", into: FieldErrors = {}): FieldErrors {
  if (Array.isArray(value) && value.every((item) => typeof item === "string")) {
    into[prefix || "non_field_errors"] = value as string[];
  } else if (Array.isArray(value)) {
    value.forEach((item, index) => flattenFields(item, prefix ? `${prefix}.${index}` : String(index), into));
  } else if (value && typeof value === "object") {
    for (const [key, item] of Object.entries(value)) {
      flattenFields(item, prefix ? `${prefix}.${key}` : key, into);
    }
  } else if (typeof value === "string") {
    into[prefix || "non_field_errors"] = [value];
  }
  return into;
}

/**
 * The ApiError of an answer that was not ok. `body` is the parsed JSON, or undefined when the
 * answer was not JSON (a proxy's HTML page, an empty body). Nested field errors (DRF's lists of
 * objects) are flattened to dotted paths: `funnel.stages.2.match`.
 */
export function parseError(status: number, body: unknown): ApiError {
  const error = body && typeof body === "object" ? (body as { error?: unknown }).error : undefined;
  if (error && typeof error === "object") {
    const { code, message, fields, ...extra } = error as Record<string, unknown>;
    return new ApiError({
      status,
      code: typeof code === "string" ? code : "error",
      detail: typeof message === "string" && message ? message : fallbackDetail(status),
      fields: fields ? flattenFields(fields) : {},
      extra,
    });
  }
  return new ApiError({
    status,
    code: status >= 500 ? "server_error" : "error",
    detail: fallbackDetail(status),
  });
}

function fallbackDetail(status: number): string {
  if (STATUS_WORDS[status]) return STATUS_WORDS[status];
  if (status >= 500) return `The server failed to answer (${status}). Try again in a moment.`;
  return `The request failed (${status}).`;
}

export function networkError(): ApiError {
  return new ApiError({
    status: 0,
    code: NETWORK_ERROR,
    detail: "Could not reach the server. Check your connection and try again.",
  });
}

/** Any failure as an ApiError (a bug in the client becomes `client_error`). */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  return new ApiError({ status: 0, code: "client_error", detail: String(error) });
}

export function isAbort(error: unknown): boolean {
  return error instanceof DOMException && error.name === "AbortError";
}

/** How the transport asks the session for tokens. Provided by the auth store. */
export interface SessionHooks {
  /** A valid access token (renewed first when about to expire), or null when logged out. */
  accessToken(): Promise<string | null>;
  /** A new access token after `rejected` got a 401 (one renewal shared by every caller), or
   * null when the session has ended. */
  renew(rejected: string): Promise<string | null>;
}

let session: SessionHooks | null = null;

export function connectSession(hooks: SessionHooks | null): void {
  session = hooks;
}

export type QueryValue = string | number | boolean | null | undefined;
export type Query = Record<string, QueryValue>;

export function withQuery(path: string, query?: Query): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== null && value !== "") search.set(key, String(value));
  }
  const text = search.toString();
  return `${API_ROOT}${path}${text ? `?${text}` : ""}`;
}

export interface RequestOptions {
  body?: unknown;
  query?: Query;
  /** false for the calls made without a session (login, register, refresh...). */
  auth?: boolean;
  signal?: AbortSignal;
  accept?: string;
}

async function send(method: string, url: string, token: string | null, options: RequestOptions) {
  const headers: Record<string, string> = { Accept: options.accept ?? "application/json" };
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;
  try {
    return await fetch(url, {
      method,
      headers,
      body: options.body !== undefined ? JSON.stringify(options.body) : undefined,
      signal: options.signal,
      credentials: "same-origin",
    });
  } catch (error) {
    if (isAbort(error)) throw error;
    throw networkError();
  }
}

async function readJson(response: Response): Promise<unknown> {
  const text = await response.text();
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Sends a request with the session's token; on 401, renews the token once and retries. */
export async function fetchWithSession(method: string, path: string, options: RequestOptions = {}) {
  const url = withQuery(path, options.query);
  const useSession = options.auth !== false && session !== null;
  const token = useSession ? await session!.accessToken() : null;
  let response = await send(method, url, token, options);
  if (response.status === 401 && useSession && token) {
    const renewed = await session!.renew(token);
    if (renewed) response = await send(method, url, renewed, options);
  }
  if (!response.ok) throw parseError(response.status, await readJson(response));
  return response;
}

/** A JSON request; resolves to the parsed body (undefined for 204 and 202). */
export async function request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
  const response = await fetchWithSession(method, path, options);
  return (await readJson(response)) as T;
}

export const get = <T>(path: string, options?: RequestOptions) => request<T>("GET", path, options);
export const post = <T>(path: string, body?: unknown, options?: RequestOptions) =>
  request<T>("POST", path, { ...options, body });
export const patch = <T>(path: string, body: unknown, options?: RequestOptions) =>
  request<T>("PATCH", path, { ...options, body });
export const put = <T>(path: string, body: unknown, options?: RequestOptions) =>
  request<T>("PUT", path, { ...options, body });
export const del = <T = void>(path: string, options?: RequestOptions) => request<T>("DELETE", path, options);
