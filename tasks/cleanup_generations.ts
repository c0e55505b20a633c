import { z } from "zod";
import { defineTask, implementTask } from "../src/jobs/kit.ts";
import type { Queryable } from "../src/db/pool.ts";
import type { Logger } from "../src/logger.ts";
import { cleanupGenerations } from "../src/services/operations.ts";

/** The retention when a job names none (GENERATION_RETENTION_DAYS' default). */
export const DEFAULT_RETENTION_DAYS = 30;

/**
 * `cleanup_generations`: archives every school's finished generations older than `olderThanDays`
 * (default 30). Scheduled daily by the worker's crontab (src/worker.ts); one job at a time (by key).
 */
export const cleanupGenerationsTask = defineTask({
  name: "cleanup_generations",
  payload: z.object({ olderThanDays: z.number().int().min(1).default(DEFAULT_RETENTION_DAYS) }),
  maxAttempts: 3,
  jobKey: () => "cleanup_generations",
});

/** Runs as the owner (no school: this is system work across every school). */
export function implementCleanupGenerations(deps: { pool: Queryable; logger: Logger }) {
  return implementTask(cleanupGenerationsTask, deps.logger, async ({ olderThanDays }, { logger }) => {
    await cleanupGenerations(deps.pool, logger, olderThanDays, null);
  });
}
