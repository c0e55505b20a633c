import type pg from "pg";
import { batchCounts, listGenerationEvents, TERMINAL_STATUSES, type GenerationEvent, type GenerationStage, type GenerationStatus } from "../../db/generations.ts";
import type { PubSub } from "../../events/bus.ts";
import { listenNow, withResync } from "../../events/listen.ts";

/** What a `generationEvents` subscriber receives: a stored event, or live draft text (`textDelta`). */
export interface GenerationEventView {
  generationId: string;
  seq: number;
  status: GenerationStatus;
  progress: number;
  stage: GenerationStage;
  message: string | null;
  textDelta: string | null;
  at: Date;
}

function storedView(event: GenerationEvent): GenerationEventView {
  return { generationId: event.generation_id, seq: event.seq, status: event.status, progress: event.progress,
    stage: event.stage, message: event.message, textDelta: null, at: event.created_at };
}

/**
 * A generation's events after `afterSeq`, resumable without loss: listens to live events first,
 * then replays stored ones, fills any gap in the live stream from the table, drops duplicates by
 * seq, and delivers in seq order. Text deltas are live only and carry the latest stored seq. It
 * also re-reads the table when the LISTEN connection comes back and every 10 s, so a lost NOTIFY
 * (the terminal one, say) delays an event but never hangs the subscription.
 * Completes once the latest stored event is terminal (SUCCEEDED, FAILED, CANCELLED), and at once
 * for an archived generation (its events are deleted).
 */
export async function* streamGenerationEvents(
  pool: pg.Pool,
  pubsub: PubSub,
  target: { schoolId: string; generationId: string; archived?: boolean },
  afterSeq: number,
): AsyncGenerator<GenerationEventView> {
  const live = listenNow(withResync(pubsub, pubsub.subscribe("generation", target.generationId)));
  let lastSeq = afterSeq;
  let latest: GenerationEventView | undefined;
  const isFinished = () => latest !== undefined && TERMINAL_STATUSES.includes(latest.status);
  /**
   * Yields stored events after lastSeq, up to `upTo`. In the live loop `upTo` is the seq of the live
   * event being handled: reading past it would overtake text deltas still queued behind it (published
   * before the next stored event), and those would then be dropped as stale.
   */
  const catchUp = async function* (upTo = Number.POSITIVE_INFINITY) {
    for (const event of await listGenerationEvents(pool, target.schoolId, target.generationId, lastSeq)) {
      if (event.seq > upTo) break;
      latest = storedView(event);
      lastSeq = event.seq;
      yield latest;
    }
  };
  try {
    const [resumedFrom] = afterSeq > 0 ? await listGenerationEvents(pool, target.schoolId, target.generationId, afterSeq - 1) : [];
    if (resumedFrom?.seq === afterSeq) latest = storedView(resumedFrom);
    yield* catchUp();
    if (isFinished() || target.archived) return;
    for (let item = await live.next(); !item.done; item = await live.next()) {
      const event = item.value;
      if (event.type === "bus.resync") {
        yield* catchUp();
        if (isFinished()) return;
        continue;
      }
      if (event.seq > lastSeq) {
        yield* catchUp(event.seq);
        if (isFinished()) return;
      }
      if (event.type === "generation.delta" && event.seq === lastSeq && latest) {
        yield { ...latest, textDelta: event.text, at: new Date() };
      }
    }
  } finally {
    await live.close();
  }
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
