/**
 * Gemini call outcomes counted in memory by each process and added to gemini_call_stats every few
 * seconds and on close (one upsert), so queueStats can report every process's calls and errors.
 */
import { addGeminiCallCounts, type GeminiCallCount } from "../db/gemini.ts";
import type { Queryable } from "../db/pool.ts";
import type { Logger } from "../logger.ts";
import type { GeminiErrorKind } from "./resilience.ts";

/**
 * What is counted: one `ok` or error kind per call (its final outcome), plus `transient` per retried
 * failure and `quota_wait` per request that waited for a rate-limit slot.
 */
export type GeminiCallKind = "ok" | "transient" | "quota_wait" | GeminiErrorKind;

export const GEMINI_ERROR_KINDS: readonly GeminiErrorKind[] = ["unavailable", "quota_exhausted", "failed", "request", "breaker_open", "aborted"];

export interface GeminiCallStats {
  record(operation: string, kind: GeminiCallKind): void;
  /** Adds the counts so far to Postgres now (kept for the next flush if that fails). */
  flush(): Promise<void>;
  /** Stops the timer and flushes once more. */
  close(): Promise<void>;
}

export const DEFAULT_STATS_FLUSH_MS = 5_000;

export function startGeminiCallStats(db: Queryable, logger: Logger, flushMs = DEFAULT_STATS_FLUSH_MS): GeminiCallStats {
  let pending = new Map<string, GeminiCallCount>();
  let flushing: Promise<void> = Promise.resolve();

  function add(count: GeminiCallCount): void {
    const key = `${count.minute.getTime()}|${count.operation}|${count.kind}`;
    const entry = pending.get(key);
    if (entry) entry.count += count.count;
    else pending.set(key, { ...count });
  }

  async function write(): Promise<void> {
    if (pending.size === 0) return;
    const batch = [...pending.values()];
    pending = new Map();
    try {
      await addGeminiCallCounts(db, batch);
    } catch (error) {
      for (const count of batch) add(count);
      logger.warn({ err: error, rows: batch.length }, "could not save Gemini call statistics; keeping them for the next flush");
    }
  }

  const flush = () => (flushing = flushing.then(write));
  const timer = setInterval(() => void flush(), flushMs);
  timer.unref();

  return {
    record(operation, kind) {
      const now = new Date();
      now.setSeconds(0, 0);
      add({ minute: now, operation, kind, count: 1 });
    },
    flush,
    async close() {
      clearInterval(timer);
      await flush();
    },
  };
}
