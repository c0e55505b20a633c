/**
 * The Gemini rate limit shared by every iepgen process (GEMINI_RPM, GEMINI_TPM): each request
 * reserves a slot in a sliding window kept in Postgres (gemini_quota_grants, one statement per
 * request, see migrations/0011_gemini_quota.sql) and sleeps until its slot instead of drawing 429s.
 * A call that would wait longer than its budget (GEMINI_QUOTA_WAIT_MS, summed over its attempts)
 * fails with GeminiUnavailableError, so a draft is requeued without using an attempt.
 */
import type pg from "pg";
import { acquireGeminiSlot } from "../db/gemini.ts";
import { createPool, type Queryable } from "../db/pool.ts";
import type { Logger } from "../logger.ts";
import { observeGeminiQuotaWait, registerPool } from "../monitoring/metrics.ts";
import { startGeminiCallStats, type GeminiCallStats } from "./call-stats.ts";
import { GeminiUnavailableError, sleep } from "./resilience.ts";

/** The shared limits; unset rpm and tpm mean no limit (and no Postgres statement per request). */
export interface GeminiQuotaConfig {
  /** Requests per window, across every process (GEMINI_RPM). */
  rpm?: number;
  /** Estimated prompt tokens per window, across every process (GEMINI_TPM). */
  tpm?: number;
  /** How long one call may wait for slots in total before it gives up (GEMINI_QUOTA_WAIT_MS). */
  waitMs: number;
  /** The server's window (default 60 000 ms; tests shorten it). */
  windowMs?: number;
  /**
   * A grant holds its slot this much longer than the window (default 1 000 ms), absorbing the time
   * between the grant and the request reaching Gemini, so a server counting a strict window never
   * sees more than `rpm` requests in it.
   */
  slackMs?: number;
}

export const DEFAULT_QUOTA_WINDOW_MS = 60_000;
export const DEFAULT_QUOTA_SLACK_MS = 1_000;

/** Quota time one call has spent, summed over its attempts. */
export interface QuotaBudget {
  waitedMs: number;
}

export interface GeminiQuota {
  readonly config: GeminiQuotaConfig;
  /**
   * Waits for a slot for one request of about `tokens` tokens (abortable by `signal`); returns the
   * ms waited. Throws GeminiUnavailableError (retryAfterMs: the wait it would have needed) when the
   * wait would take `budget` past `config.waitMs` (then nothing is reserved). The slot is reserved
   * before the wait, so an aborted wait leaves it unused: the limit errs on the side of fewer requests.
   */
  acquire(operation: string, tokens: number, budget: QuotaBudget, signal?: AbortSignal): Promise<number>;
}

/** Marks a GeminiUnavailableError as the rate limit's: no slot within the call's budget. */
export class GeminiQuotaExhaustedError extends Error {
  override readonly name = "GeminiQuotaExhaustedError";
}

/** A rough token estimate before the call: about four characters per token. */
export function estimateTokens(...texts: readonly string[]): number {
  return Math.ceil(texts.reduce((sum, text) => sum + text.length, 0) / 4);
}

/** Whether a quota config limits anything. */
export function limitsRequests(config: GeminiQuotaConfig | undefined): config is GeminiQuotaConfig {
  return config?.rpm !== undefined || config?.tpm !== undefined;
}

export function createGeminiQuota(db: Queryable, config: GeminiQuotaConfig): GeminiQuota {
  const windowMs = (config.windowMs ?? DEFAULT_QUOTA_WINDOW_MS) + (config.slackMs ?? DEFAULT_QUOTA_SLACK_MS);
  return {
    config,
    async acquire(operation, tokens, budget, signal) {
      signal?.throwIfAborted();
      const remaining = Math.max(0, config.waitMs - budget.waitedMs);
      const slot = await acquireGeminiSlot(db, { rpm: config.rpm, tpm: config.tpm, tokens, windowMs, maxWaitMs: remaining });
      if (!slot.granted) {
        throw new GeminiUnavailableError(
          `Gemini ${operation} skipped: no rate-limit slot within ${config.waitMs} ms (next in ${slot.waitMs} ms)`,
          { cause: new GeminiQuotaExhaustedError("rate limit slot budget spent"), retryAfterMs: slot.waitMs },
        );
      }
      observeGeminiQuotaWait(operation, slot.waitMs);
      if (slot.waitMs > 0) await sleep(slot.waitMs, signal);
      budget.waitedMs += slot.waitMs;
      return slot.waitMs;
    },
  };
}

/** What a process's Gemini gateway keeps in Postgres: the shared rate limit (when set) and call statistics. */
export interface GeminiServices {
  quota?: GeminiQuota;
  stats: GeminiCallStats;
  /** Flushes the statistics and closes the connections. */
  close(): Promise<void>;
}

/**
 * Starts the Postgres side of a process's Gemini gateway on a small pool of its own, outside row-level
 * security (its statements are neither school data nor run per request), so each acquire is exactly one
 * statement whichever school's job asks.
 */
export function startGeminiServices(
  databaseUrl: string,
  quota: GeminiQuotaConfig | undefined,
  logger: Logger,
  options: { statsFlushMs?: number } = {},
): GeminiServices {
  const pool: pg.Pool = createPool(databaseUrl, 2, (error) => logger.warn({ err: error }, "idle database client error"), { name: "iepgen-gemini" });
  registerPool("gemini", pool);
  const stats = startGeminiCallStats(pool, logger, options.statsFlushMs);
  return {
    quota: limitsRequests(quota) ? createGeminiQuota(pool, quota) : undefined,
    stats,
    async close() {
      await stats.close();
      await pool.end();
    },
  };
}
