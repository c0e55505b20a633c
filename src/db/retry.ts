import { isDatabaseUnavailable } from "../jobs/failure.ts";
import type { Logger } from "../logger.ts";

/**
 * Runs `work`, retrying while the database is unreachable (restarting, connections terminated),
 * with backoff from 250 ms to 5 s, for at most `maxMs` (default 60 s). Any other error, or the
 * database still gone after `maxMs`, is thrown. For writes that record how a run ended: losing
 * them would strand the work.
 */
export async function untilDatabaseAnswers<T>(work: () => Promise<T>, log: Logger, maxMs = 60_000): Promise<T> {
  const deadline = Date.now() + maxMs;
  for (let delay = 250; ; delay = Math.min(delay * 2, 5000)) {
    try {
      return await work();
    } catch (error) {
      if (!isDatabaseUnavailable(error) || Date.now() + delay > deadline) throw error;
      log.warn({ err: error, retryInMs: delay }, "database unavailable; retrying the write");
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
