import type { Failure } from "./failure.ts";

/** How long work waits before its next try, by why it stopped; tests shorten these. */
export interface RetryTimings {
  /** After a Gemini outage; matches the breaker's reset time, so the next try finds it half-open (30 s). */
  outageDelayMs: number;
  /** After the database was unreachable (2 s). */
  databaseDelayMs: number;
  /** First retry after a failed attempt; doubles each attempt, at most 60 s (2 s). */
  backoffBaseMs: number;
}

export const DEFAULT_RETRY_TIMINGS: RetryTimings = { outageDelayMs: 30_000, databaseDelayMs: 2_000, backoffBaseMs: 2_000 };

/** After this long since it was requested, an outage counts as an ordinary failure (24 h). */
export const OUTAGE_WINDOW_MS = 24 * 60 * 60 * 1000;
const MAX_BACKOFF_MS = 60_000;

/**
 * When to run again after `failure`, or undefined when it should not run again. Outages (of Gemini
 * or the database) and shutdowns do not use attempts; a retryable failure backs off exponentially
 * with jitter until `attempts` reaches `maxAttempts`; a permanent one never runs again.
 */
export function nextRunAt(
  failure: Failure,
  work: { attempts: number; maxAttempts: number; requestedAt: Date },
  timings: RetryTimings = DEFAULT_RETRY_TIMINGS,
  now = new Date(),
): Date | undefined {
  const after = (ms: number) => new Date(now.getTime() + ms);
  switch (failure.kind) {
    case "interrupted":
      return now;
    case "unavailable":
      if (now.getTime() - work.requestedAt.getTime() > OUTAGE_WINDOW_MS) return undefined;
      if (failure.dependency === "database") return after(timings.databaseDelayMs);
      return after(Math.max(timings.outageDelayMs, failure.retryAfterMs ?? 0));
    case "retryable": {
      if (work.attempts >= work.maxAttempts) return undefined;
      const exponential = Math.min(MAX_BACKOFF_MS, timings.backoffBaseMs * 2 ** Math.max(0, work.attempts - 1));
      return after(exponential / 2 + Math.random() * (exponential / 2));
    }
    case "permanent":
    case "cancelled":
      return undefined;
  }
}
