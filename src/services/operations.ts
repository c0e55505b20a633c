import type { Viewer } from "../auth.ts";
import { activeProcesses, schoolQueueFigures, type ActiveProcess, type SchoolQueueFigures } from "../db/operations.ts";
import { geminiCallsLastHour, geminiQuotaUsage, type GeminiKindCount, type GeminiQuotaUsage } from "../db/gemini.ts";
import type { Queryable } from "../db/pool.ts";
import { GEMINI_ERROR_KINDS } from "../gemini/call-stats.ts";
import type { Gemini } from "../gemini/client.ts";
import type { ResilientCaller } from "../gemini/resilience.ts";
import { archive } from "../lifecycle/generation.ts";
import type { Logger } from "../logger.ts";

export type BreakerState = "CLOSED" | "OPEN" | "HALF_OPEN";

/** Gemini calls of every process in the last hour, and the shared rate limit (this process's settings). */
export interface GeminiFigures {
  /** Calls that ended (ok or with an error); retries and quota waits are inside a call. */
  calls: number;
  errors: number;
  byKind: GeminiKindCount[];
  rateLimit: { rpm: number | null; tpm: number | null; waitMs: number | null } & GeminiQuotaUsage;
}

/**
 * What an ADMIN sees of the queue: their school's figures (generations are school data) and the
 * process-wide ones (this process's Gemini breaker, every live iepgen process).
 */
export interface QueueStats {
  school: SchoolQueueFigures;
  breaker: BreakerState;
  processes: ActiveProcess[];
  gemini: GeminiFigures;
}

/** The opossum breaker's state in this process. */
export function breakerState(caller: Pick<ResilientCaller, "breaker">): BreakerState {
  if (caller.breaker.halfOpen) return "HALF_OPEN";
  return caller.breaker.opened ? "OPEN" : "CLOSED";
}

/** Queue statistics for `viewer`'s school plus process-wide figures. */
export async function queueStats(db: Queryable, viewer: Viewer, gemini: Pick<Gemini, "caller" | "config">): Promise<QueueStats> {
  const [school, processes, calls, usage] = await Promise.all([
    schoolQueueFigures(db, viewer.schoolId), activeProcesses(db), geminiCallsLastHour(db), geminiQuotaUsage(db),
  ]);
  return { school, breaker: breakerState(gemini.caller), processes, gemini: geminiFigures(calls, usage, gemini.config.quota) };
}

function geminiFigures(byKind: GeminiKindCount[], usage: GeminiQuotaUsage, quota: Gemini["config"]["quota"]): GeminiFigures {
  const sum = (counts: GeminiKindCount[]) => counts.reduce((total, count) => total + count.count, 0);
  const errors = sum(byKind.filter((count) => (GEMINI_ERROR_KINDS as readonly string[]).includes(count.kind)));
  return {
    calls: sum(byKind.filter((count) => count.kind === "ok")) + errors,
    errors,
    byKind,
    rateLimit: { rpm: quota?.rpm ?? null, tpm: quota?.tpm ?? null, waitMs: quota ? quota.waitMs : null, ...usage },
  };
}

/**
 * Archives finished generations older than `olderThanDays` (see `archive` in the lifecycle):
 * one school's, or every school's when `schoolId` is null (the daily task, as the owner).
 */
export async function cleanupGenerations(db: Queryable, log: Logger, olderThanDays: number, schoolId: string | null): Promise<number> {
  const archived = await archive({ db, log }, olderThanDays, schoolId);
  log.info({ archived, olderThanDays, schoolId }, "archived finished generations");
  return archived;
}
