import type pg from "pg";
import { queuePosition, recentMeanDurationSeconds, type Generation } from "../../db/generations.ts";

/** Assumed run time before any generation has finished (Gemini drafts take 30–120 s). */
export const DEFAULT_DURATION_SECONDS = 60;

export interface QueueEstimate {
  /** 1 = next to run. Null unless QUEUED. */
  queuePosition: number | null;
  /** When it should finish, from the mean of recent successful runs. Null once finished. */
  estimatedCompletionAt: Date | null;
}

/** Mean run time of recent successful generations, or the default before there are any. */
export async function typicalDurationSeconds(pool: pg.Pool): Promise<number> {
  return (await recentMeanDurationSeconds(pool)) ?? DEFAULT_DURATION_SECONDS;
}

/**
 * Queue position and estimated completion of a QUEUED or RUNNING generation. `meanSeconds` comes
 * from typicalDurationSeconds, read once per request however many generations are estimated.
 */
export async function estimateGeneration(
  pool: pg.Pool,
  generation: Generation,
  options: { workerConcurrency: number; meanSeconds: number; now?: Date },
): Promise<QueueEstimate> {
  if (generation.status !== "QUEUED" && generation.status !== "RUNNING") return { queuePosition: null, estimatedCompletionAt: null };
  const { meanSeconds, workerConcurrency, now = new Date() } = options;
  if (generation.status === "RUNNING") {
    const started = generation.started_at ?? now;
    const expectedEnd = started.getTime() + meanSeconds * 1000;
    const remainingByProgress = meanSeconds * 1000 * (1 - generation.progress);
    return { queuePosition: null, estimatedCompletionAt: new Date(Math.max(expectedEnd, now.getTime() + remainingByProgress)) };
  }
  const position = await queuePosition(pool, generation);
  const roundsAhead = Math.ceil(position / Math.max(1, workerConcurrency));
  return { queuePosition: position, estimatedCompletionAt: new Date(now.getTime() + roundsAhead * meanSeconds * 1000) };
}
