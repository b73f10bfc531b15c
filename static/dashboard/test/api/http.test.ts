import { afterEach, describe, expect, it } from "vitest";

import { ApiError, getMe, login, NETWORK_ERROR, parseError } from "@/api";
import { connectSession } from "@/api/http";
import { mockApi } from "../helpers";

afterEach(() => connectSession(null));

describe("parseError", () => {
  it("reads the API's one error shape", () => {
    const error = parseError(400, {
      error: {
        code: "invalid",
        message: "Some fields are not valid.",
        fields: { email: ["Enter a valid email address."], password: ["Too short.", "Too common."] },
      },
    });
    expect(error).toBeInstanceOf(ApiError);
    expect(error.status).toBe(400);
    expect(error.code).toBe("invalid");
    expect(error.detail).toBe("Some fields are not valid.");
    expect(error.fieldError("email")).toBe("Enter a valid email address.");
    expect(error.fieldError("password")).toBe("Too short. Too common.");
    expect(error.fieldError("name")).toBeUndefined();
  });

  it("keeps extra members such as retry_after and current_version", () => {
    const throttled = parseError(429, {
      error: { code: "rate_limited", message: "Request was throttled.", retry_after: 42 },
    });
    expect(throttled.retryAfter).toBe(42);
    const conflict = parseError(409, {
      error: { code: "version_conflict", message: "Reload.", current_version: 7 },
    });
    expect(conflict.extra.current_version).toBe(7);
  });

  it("flattens nested field errors to dotted paths", () => {
    const error = parseError(400, {
      error: {
        code: "invalid",
        message: "Some fields are not valid.",
        fields: { funnel: { stages: [{}, { match: ["Not a path."] }] }, tags: { 0: ["Too long."] } },
      },
    });
    expect(error.fields).toEqual({ "funnel.stages.1.match": ["Not a path."], "tags.0": ["Too long."] });
  });

  it("puts errors about the whole input under non_field_errors", () => {
    const error = parseError(400, {
      error: { code: "invalid", message: "Some fields are not valid.", fields: { non_field_errors: ["Give either user_id or email."] } },
    });
    expect(error.general).toBe("Give either user_id or email.");
  });

  it("words answers that are not the API's JSON", () => {
    const gateway = parseError(502, undefined);
    expect(gateway.code).toBe("server_error");
    expect(gateway.detail).toMatch(/502/);
    expect(parseError(404, "<html>").detail).toBe("Not found.");
  });
});

describe("requests", () => {
  it("reject with the parsed ApiError", async () => {
    mockApi({
      "POST /api/v1/auth/login": {
        status: 401,
        body: { error: { code: "invalid_credentials", message: "E-mail or password is wrong." } },
      },
    });
    const failure = await login({ email: "a@example.com", password: "x" }).catch((e) => e);
    expect(failure).toBeInstanceOf(ApiError);
    expect(failure.code).toBe("invalid_credentials");
    expect(failure.detail).toBe("E-mail or password is wrong.");
  });

  it("turn a network failure into a network_error", async () => {
    const { fetchMock } = mockApi({});
    fetchMock.mockRejectedValueOnce(new TypeError("Failed to fetch"));
    const failure = await getMe().catch((e) => e);
    expect(failure).toBeInstanceOf(ApiError);
    expect(failure.code).toBe(NETWORK_ERROR);
    expect(failure.status).toBe(0);
  });

  it("send JSON with the session's bearer token", async () => {
    const { calls } = mockApi({ "GET /api/v1/me": { body: { id: 1 } } });
    connectSession({ accessToken: async () => "token-1", renew: async () => null });
    await expect(getMe()).resolves.toEqual({ id: 1 });
    expect(calls[0]?.headers.Authorization).toBe("Bearer token-1");
    expect(calls[0]?.headers.Accept).toBe("application/json");
  });
});
