import type pg from "pg";
import { batchCounts } from "../../db/generations.ts";
import type { PubSub } from "../../events/bus.ts";
import { subscribeGeneration, type GenerationEventView } from "../../events/generation-feed.ts";
import { listenNow, withResync } from "../../events/listen.ts";

export type { GenerationEventView } from "../../events/generation-feed.ts";

/**
 * A generation's events after `afterSeq`, resumable without loss: stored events in seq order, no
 * duplicates, text deltas (live only, carrying the latest stored seq) between them. Every subscriber
 * of the generation in this process shares one feed (src/events/generation-feed.ts), which reads a
 * stored event from Postgres at most once, replays from memory, fills gaps from the table, and
 * re-reads it when the LISTEN connection comes back and every 10 s, so a lost NOTIFY (the terminal
 * one, say) delays an event but never hangs the subscription.
 * Completes once the latest stored event is terminal (SUCCEEDED, FAILED, CANCELLED), and at once
 * for an archived generation (its events are deleted).
 */
export function streamGenerationEvents(
  pool: pg.Pool,
  pubsub: PubSub,
  target: { schoolId: string; generationId: string; archived?: boolean },
  afterSeq: number,
): AsyncIterableIterator<GenerationEventView> {
  if (target.archived) return (async function* () {})();
  return subscribeGeneration(pool, pubsub, target, afterSeq);
}

/** A batch's counts by status; `done` once every generation is terminal. */
export interface BatchProgressView {
  batchId: string;
  total: number;
  queued: number;
  running: number;
  succeeded: number;
  failed: number;
  cancelled: number;
  done: boolean;
}

export async function loadBatchProgress(pool: pg.Pool, schoolId: string, batchId: string): Promise<BatchProgressView | undefined> {
  const found = await batchCounts(pool, schoolId, batchId);
  if (!found) return undefined;
  const { counts, total } = found;
  const terminal = counts.SUCCEEDED + counts.FAILED + counts.CANCELLED;
  return {
    batchId, total, queued: counts.QUEUED, running: counts.RUNNING, succeeded: counts.SUCCEEDED,
    failed: counts.FAILED, cancelled: counts.CANCELLED, done: terminal >= total,
  };
}

/** Streams a batch's progress: the current counts at once, then on every change, until all are terminal. */
export async function* streamBatchProgress(pool: pg.Pool, pubsub: PubSub, schoolId: string, batchId: string): AsyncGenerator<BatchProgressView> {
  const live = listenNow(withResync(pubsub, pubsub.subscribe("batch", batchId)));
  try {
    let previous = await loadBatchProgress(pool, schoolId, batchId);
    if (!previous) return;
    yield previous;
    if (previous.done) return;
    for (let item = await live.next(); !item.done; item = await live.next()) {
      const current = await loadBatchProgress(pool, schoolId, batchId);
      if (!current || JSON.stringify(current) === JSON.stringify(previous)) continue;
      previous = current;
      yield current;
      if (current.done) return;
    }
  } finally {
    await live.close();
  }
}
