import CircuitBreaker from "opossum";
import { ApiError } from "@google/genai";
import type { Logger } from "../logger.ts";
import { countGeminiError, observeGeminiCall, registerBreaker } from "../monitoring/metrics.ts";
import type { GeminiCallKind } from "./call-stats.ts";
import type { GeminiQuota, QuotaBudget } from "./quota.ts";

/**
 * Gemini is unavailable for everyone right now (breaker open, or 429/5xx/connection refused outlasting
 * the in-call retries). Work waits it out without using an attempt; `retryAfterMs` is the server's
 * requested wait, when it gave one.
 */
export class GeminiUnavailableError extends Error {
  override readonly name = "GeminiUnavailableError";
  readonly retryAfterMs: number | undefined;

  constructor(message: string, options: { cause?: unknown; retryAfterMs?: number } = {}) {
    super(message, { cause: options.cause });
    this.retryAfterMs = options.retryAfterMs;
  }
}

/**
 * This request kept failing in its own way (malformed output, timing out, the stream cut) while
 * Gemini answers others: the attempt counts, and the breaker is not fed.
 */
export class GeminiCallFailedError extends Error {
  override readonly name = "GeminiCallFailedError";
}

/** Gemini rejected the request itself (bad request, auth, not found): retrying will not help. */
export class GeminiRequestError extends Error {
  override readonly name = "GeminiRequestError";
}

export interface ResilienceOptions {
  maxRetries: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  breaker?: { errorThresholdPercentage?: number; resetTimeoutMs?: number; volumeThreshold?: number };
}

/** The kind label of a call's final error. */
export type GeminiErrorKind = "unavailable" | "quota_exhausted" | "failed" | "request" | "breaker_open" | "aborted";

/** What a caller reports to and waits on besides the breaker: the shared rate limit and call statistics. */
export interface ResilienceHooks {
  quota?: GeminiQuota;
  stats?: { record(operation: string, kind: GeminiCallKind): void };
}

const TRANSIENT_STATUSES = new Set([408, 429, 500, 502, 503, 504]);
/** Statuses that mean Gemini is failing for everyone, not just for this request. */
const OUTAGE_STATUSES = new Set([429, 500, 502, 503, 504]);
const CONNECTION_FAILURES = new Set(["ECONNREFUSED", "ECONNRESET", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH"]);

/** Whether an SDK error is worth retrying: rate limits, server errors, timeouts, broken or malformed responses. */
export function isTransient(error: unknown): boolean {
  if (error instanceof ApiError) return TRANSIENT_STATUSES.has(error.status);
  if (error instanceof GeminiRequestError) return false;
  return !(error instanceof Error && error.name === "AbortError" && !/timeout/i.test(error.message));
}

/**
 * Whether an error says Gemini is down for everyone: rate limited or overloaded (429, 5xx), or not
 * reachable at all. Only these open the breaker and wait without using attempts.
 */
export function isOutageSignal(error: unknown): boolean {
  if (error instanceof ApiError) return OUTAGE_STATUSES.has(error.status);
  for (let cause: unknown = error; cause instanceof Error; cause = cause.cause) {
    const code = (cause as { code?: unknown }).code;
    if (typeof code === "string" && CONNECTION_FAILURES.has(code)) return true;
  }
  return false;
}

/** The server's requested wait (Retry-After or RetryInfo.retryDelay in the error body), if any. */
export function retryAfterMs(error: unknown): number | undefined {
  if (!(error instanceof ApiError)) return undefined;
  const match = /"retryDelay"\s*:\s*"(\d+(?:\.\d+)?)s"/.exec(error.message);
  return match ? Math.ceil(Number(match[1]) * 1000) : undefined;
}

/**
 * Wraps Gemini calls in one opossum circuit breaker plus bounded retries with exponential backoff
 * and jitter (honouring the server's retry delay). An open breaker fails fast with
 * GeminiUnavailableError so that queued jobs back off instead of hammering a dead API. Retries
 * exhausted on an outage signal give GeminiUnavailableError; on anything else (malformed output,
 * timeouts, a cut stream) GeminiCallFailedError; a rejected request at once GeminiRequestError.
 */
export function createResilientCaller(name: string, options: ResilienceOptions, logger: Logger, hooks: ResilienceHooks = {}) {
  const log = logger.child({ component: "gemini", breaker: name });
  const breaker = new CircuitBreaker(async (call: () => Promise<unknown>) => call(), {
    name,
    timeout: false,
    errorThresholdPercentage: options.breaker?.errorThresholdPercentage ?? 50,
    resetTimeout: options.breaker?.resetTimeoutMs ?? 30_000,
    volumeThreshold: options.breaker?.volumeThreshold ?? 5,
    // Only outage signals count against the breaker: one request's malformed output or timeouts
    // must not make Gemini fail fast for every other draft.
    errorFilter: (error: unknown) => !isOutageSignal(error),
  });
  breaker.on("open", () => log.warn("circuit opened: Gemini calls fail fast until it half-opens"));
  breaker.on("halfOpen", () => log.info("circuit half-open: trying Gemini again"));
  breaker.on("close", () => log.info("circuit closed"));
  registerBreaker(name, breaker);

  /**
   * One Gemini call, timed and counted in /metrics (src/monitoring/metrics.ts) and in the call
   * statistics; each attempt first waits for a rate-limit slot for about `tokens` tokens.
   */
  async function call<T>(operation: string, attempt: () => Promise<T>, signal?: AbortSignal, tokens = 0): Promise<T> {
    const start = performance.now();
    try {
      const result = await retrying(operation, attempt, signal, tokens);
      observeGeminiCall(operation, "ok", performance.now() - start);
      hooks.stats?.record(operation, "ok");
      return result;
    } catch (error) {
      const kind = errorKind(error, signal);
      observeGeminiCall(operation, "error", performance.now() - start);
      countGeminiError(operation, kind);
      hooks.stats?.record(operation, kind);
      throw error;
    }
  }

  /** Waits for a slot unless the breaker is open (its fast failure needs none). */
  async function slot(operation: string, tokens: number, budget: QuotaBudget, signal?: AbortSignal): Promise<void> {
    if (!hooks.quota || breaker.opened) return;
    const waited = await hooks.quota.acquire(operation, tokens, budget, signal);
    if (waited > 0) hooks.stats?.record(operation, "quota_wait");
  }

  async function retrying<T>(operation: string, attempt: () => Promise<T>, signal: AbortSignal | undefined, tokens: number): Promise<T> {
    const budget: QuotaBudget = { waitedMs: 0 };
    for (let retry = 0; ; retry++) {
      signal?.throwIfAborted();
      await slot(operation, tokens, budget, signal);
      try {
        return (await breaker.fire(() => timeoutAware(operation, attempt, signal))) as T;
      } catch (error) {
        if (breaker.opened && isBreakerOpenError(error)) {
          throw new GeminiUnavailableError(`Gemini ${operation} skipped: circuit breaker is open`, { cause: error });
        }
        if (signal?.aborted) throw error;
        if (!isTransient(error)) throw new GeminiRequestError(`Gemini ${operation} failed: ${messageOf(error)}`, { cause: error });
        if (retry >= options.maxRetries) throw exhausted(operation, retry + 1, error);
        countGeminiError(operation, "transient");
        hooks.stats?.record(operation, "transient");
        const delay = backoffDelay(retry, retryAfterMs(error), options);
        log.warn({ operation, retry: retry + 1, delayMs: delay, err: messageOf(error) }, "transient Gemini failure; retrying");
        await sleep(delay, signal);
      }
    }
  }

  return { call, breaker };
}

export type ResilientCaller = ReturnType<typeof createResilientCaller>;

/**
 * The SDK enforces `httpOptions.timeout` by aborting the request without a reason, so a timeout
 * surfaces as a bare AbortError, like a caller's abort. When the caller's signal is not aborted it
 * was the timeout: report it as such, so that it is retried (and counted by the breaker).
 */
async function timeoutAware<T>(operation: string, attempt: () => Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  try {
    return await attempt();
  } catch (error) {
    if (error instanceof Error && error.name === "AbortError" && !signal?.aborted) {
      throw new Error(`Gemini ${operation} request timed out`, { cause: error });
    }
    throw error;
  }
}

/** What in-call retries running out means: an outage (wait) or this request's own failure (counts). */
function exhausted(operation: string, tries: number, error: unknown): Error {
  const message = `Gemini ${operation} failed after ${tries} attempts: ${messageOf(error)}`;
  return isOutageSignal(error)
    ? new GeminiUnavailableError(message, { cause: error, retryAfterMs: retryAfterMs(error) })
    : new GeminiCallFailedError(message, { cause: error });
}

/** The kind label of a call's final error (its retried failures count as "transient"). */
function errorKind(error: unknown, signal: AbortSignal | undefined): GeminiErrorKind {
  if (signal?.aborted) return "aborted";
  if (error instanceof GeminiUnavailableError) {
    if (isBreakerOpenError(error.cause)) return "breaker_open";
    return error.cause instanceof Error && error.cause.name === "GeminiQuotaExhaustedError" ? "quota_exhausted" : "unavailable";
  }
  if (error instanceof GeminiRequestError) return "request";
  return "failed";
}

function isBreakerOpenError(error: unknown): boolean {
  return error instanceof Error && (error as { code?: string }).code === "EOPENBREAKER";
}

function backoffDelay(retry: number, serverDelayMs: number | undefined, options: ResilienceOptions): number {
  const base = options.baseDelayMs ?? 500;
  const max = options.maxDelayMs ?? 30_000;
  const exponential = Math.min(max, base * 2 ** retry);
  const jittered = exponential / 2 + Math.random() * (exponential / 2);
  return Math.min(max, Math.max(jittered, serverDelayMs ?? 0));
}

/** Waits `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      reject(signal.reason);
    }, { once: true });
  });
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message.slice(0, 500) : String(error);
}
