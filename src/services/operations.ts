import type { Viewer } from "../auth.ts";
import { activeProcesses, schoolQueueFigures, type ActiveProcess, type SchoolQueueFigures } from "../db/operations.ts";
import type { Queryable } from "../db/pool.ts";
import type { ResilientCaller } from "../gemini/resilience.ts";
import { archive } from "../lifecycle/generation.ts";
import type { Logger } from "../logger.ts";

export type BreakerState = "CLOSED" | "OPEN" | "HALF_OPEN";

/**
 * What an ADMIN sees of the queue: their school's figures (generations are school data) and the
 * process-wide ones (this process's Gemini breaker, every live iepgen process).
 */
export interface QueueStats {
  school: SchoolQueueFigures;
  breaker: BreakerState;
  processes: ActiveProcess[];
}

/** The opossum breaker's state in this process. */
export function breakerState(caller: Pick<ResilientCaller, "breaker">): BreakerState {
  if (caller.breaker.halfOpen) return "HALF_OPEN";
  return caller.breaker.opened ? "OPEN" : "CLOSED";
}

/** Queue statistics for `viewer`'s school plus process-wide figures. */
export async function queueStats(db: Queryable, viewer: Viewer, caller: Pick<ResilientCaller, "breaker">): Promise<QueueStats> {
  const [school, processes] = await Promise.all([schoolQueueFigures(db, viewer.schoolId), activeProcesses(db)]);
  return { school, breaker: breakerState(caller), processes };
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
