import { ApiError } from "@google/genai";
import { describe, expect, it } from "vitest";
import { GeminiCallFailedError, GeminiRequestError, GeminiUnavailableError, isOutageSignal } from "../src/gemini/resilience.ts";
import { classifyFailure, isDatabaseUnavailable, type FailureKind } from "../src/jobs/failure.ts";
import { DEFAULT_RETRY_TIMINGS, nextRunAt, OUTAGE_WINDOW_MS } from "../src/jobs/retry-policy.ts";
import { DraftRejectedError, GenerationCancelledError, PermanentGenerationError, RunSupersededError } from "../src/services/generation/errors.ts";

const aborted = (reason?: unknown) => {
  const controller = new AbortController();
  controller.abort(reason);
  return controller.signal;
};
const pgError = (code: string, message = "pg error") => Object.assign(new Error(message), { code });
const apiError = (status: number) => new ApiError({ message: `{"error":{"code":${status}}}`, status });

describe("classifyFailure", () => {
  const table: [string, unknown, AbortSignal | undefined, FailureKind, string?][] = [
    ["cancelled on request", new GenerationCancelledError("g"), undefined, "cancelled"],
    ["taken over by another run", new RunSupersededError("g"), undefined, "cancelled"],
    ["aborted because it was cancelled", new Error("AbortError"), aborted(new GenerationCancelledError("g")), "cancelled"],
    ["the worker shutting down", new Error("This operation was aborted"), aborted(), "interrupted"],
    ["Gemini breaker open", new GeminiUnavailableError("circuit breaker is open"), undefined, "unavailable", "gemini"],
    ["Gemini 429/503 outlasting retries", new GeminiUnavailableError("failed after 4 attempts", { retryAfterMs: 7000 }), undefined, "unavailable", "gemini"],
    ["Postgres shutting down (57P01)", pgError("57P01", "terminating connection due to administrator command"), undefined, "unavailable", "database"],
    ["Postgres starting up (57P03)", pgError("57P03", "the database system is starting up"), undefined, "unavailable", "database"],
    ["connection refused", pgError("ECONNREFUSED", "connect ECONNREFUSED 127.0.0.1:5432"), undefined, "unavailable", "database"],
    ["connection terminated", new Error("Connection terminated unexpectedly"), undefined, "unavailable", "database"],
    ["wrapped connection loss", new Error("query failed", { cause: pgError("08006") }), undefined, "unavailable", "database"],
    ["no evidence", new PermanentGenerationError("The student has no READY evidence yet"), undefined, "permanent"],
    ["Gemini rejected the request (400)", new GeminiRequestError("Gemini draft failed: 400"), undefined, "permanent"],
    ["invalid draft", new DraftRejectedError("does not match the IEP schema"), undefined, "retryable"],
    ["malformed or timing out every time", new GeminiCallFailedError("failed after 4 attempts: timed out"), undefined, "retryable"],
    ["a unique violation (a bug, not an outage)", pgError("23505", "duplicate key value"), undefined, "retryable"],
    ["anything else", new TypeError("x is undefined"), undefined, "retryable"],
  ];

  it.each(table)("%s → %s", (_what, error, signal, kind, dependency) => {
    const failure = classifyFailure(error, signal);
    expect(failure.kind).toBe(kind);
    expect(failure.dependency).toBe(dependency);
    expect(failure.reason).toBe(error instanceof Error ? error.message : String(error));
  });

  it("carries the server's retry delay of a Gemini outage", () => {
    expect(classifyFailure(new GeminiUnavailableError("429", { retryAfterMs: 7000 })).retryAfterMs).toBe(7000);
  });

  it("tells database outages from query errors", () => {
    expect(isDatabaseUnavailable(pgError("57P01"))).toBe(true);
    expect(isDatabaseUnavailable(pgError("42P01", "relation does not exist"))).toBe(false);
    expect(isDatabaseUnavailable(new Error("timeout exceeded when trying to connect"))).toBe(true);
  });
});

describe("isOutageSignal: only what fails for everyone feeds the breaker", () => {
  it.each([
    [429, true], [500, true], [502, true], [503, true], [504, true], [400, false], [403, false], [404, false], [408, false],
  ])("HTTP %i → %s", (status, outage) => expect(isOutageSignal(apiError(status))).toBe(outage));

  it("counts an unreachable Gemini, not a malformed answer or a timeout", () => {
    expect(isOutageSignal(new TypeError("fetch failed", { cause: pgError("ECONNREFUSED") }))).toBe(true);
    expect(isOutageSignal(new SyntaxError("Unexpected token < in JSON"))).toBe(false);
    expect(isOutageSignal(new Error("Gemini draft request timed out"))).toBe(false);
  });
});

describe("nextRunAt", () => {
  const now = new Date("2026-11-27T12:00:00Z");
  const work = { attempts: 1, maxAttempts: 3, requestedAt: new Date(now.getTime() - 60_000) };
  const delay = (at: Date | undefined) => (at ? at.getTime() - now.getTime() : undefined);

  it("runs an interrupted job again at once, and never a cancelled or permanent one", () => {
    expect(delay(nextRunAt({ kind: "interrupted", reason: "" }, work, DEFAULT_RETRY_TIMINGS, now))).toBe(0);
    expect(nextRunAt({ kind: "cancelled", reason: "" }, work, DEFAULT_RETRY_TIMINGS, now)).toBeUndefined();
    expect(nextRunAt({ kind: "permanent", reason: "" }, work, DEFAULT_RETRY_TIMINGS, now)).toBeUndefined();
  });

  it("waits out a Gemini outage (at least the server's delay) and a database outage, whatever the attempts", () => {
    const spent = { ...work, attempts: 3 };
    expect(delay(nextRunAt({ kind: "unavailable", dependency: "gemini", reason: "" }, spent, DEFAULT_RETRY_TIMINGS, now))).toBe(30_000);
    expect(delay(nextRunAt({ kind: "unavailable", dependency: "gemini", retryAfterMs: 45_000, reason: "" }, spent, DEFAULT_RETRY_TIMINGS, now))).toBe(45_000);
    expect(delay(nextRunAt({ kind: "unavailable", dependency: "database", reason: "" }, spent, DEFAULT_RETRY_TIMINGS, now))).toBe(2000);
  });

  it("gives up waiting for an outage after 24 h", () => {
    const old = { ...work, requestedAt: new Date(now.getTime() - OUTAGE_WINDOW_MS - 1) };
    expect(nextRunAt({ kind: "unavailable", dependency: "gemini", reason: "" }, old, DEFAULT_RETRY_TIMINGS, now)).toBeUndefined();
  });

  it("backs off exponentially with jitter until the attempts are used up", () => {
    const timings = { ...DEFAULT_RETRY_TIMINGS, backoffBaseMs: 1000 };
    const first = delay(nextRunAt({ kind: "retryable", reason: "" }, { ...work, attempts: 1 }, timings, now))!;
    const second = delay(nextRunAt({ kind: "retryable", reason: "" }, { ...work, attempts: 2 }, timings, now))!;
    expect(first).toBeGreaterThanOrEqual(500);
    expect(first).toBeLessThanOrEqual(1000);
    expect(second).toBeGreaterThanOrEqual(1000);
    expect(second).toBeLessThanOrEqual(2000);
    expect(nextRunAt({ kind: "retryable", reason: "" }, { ...work, attempts: 3 }, timings, now)).toBeUndefined();
  });
});
