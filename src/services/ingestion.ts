import type pg from "pg";
import { findEvidenceForTask, lockEvidence, storeChunksAndMarkReady, updateEvidenceStatus } from "../db/evidence.ts";
import { withTransaction } from "../db/pool.ts";
import type { Gemini } from "../gemini/client.ts";
import { GeminiRequestError, GeminiUnavailableError, messageOf } from "../gemini/resilience.ts";
import { rescheduleIngestEvidence } from "../jobs/ingest_evidence.ts";
import { outageRetryAt } from "../jobs/outage.ts";
import type { Logger } from "../logger.ts";
import { chunkText } from "./chunking.ts";
import { publishEvidenceStatus } from "./evidence.ts";

export interface IngestionDeps {
  pool: pg.Pool;
  gemini: Gemini;
  logger: Logger;
  /** How long to wait after a Gemini outage before trying again (default 30 s). */
  outageRetryDelayMs?: number;
}

/** READY or FAILED: done; SKIPPED: nothing to do; RESCHEDULED: Gemini is down, its job runs again later. */
export type IngestionOutcome = "READY" | "FAILED" | "SKIPPED" | "RESCHEDULED";

/**
 * Chunks one evidence document, embeds the chunks and stores them, marking it READY in the same
 * transaction (and publishing the status change at commit). Idempotent: a READY document is
 * skipped, and chunks are replaced rather than appended. A Gemini outage reschedules it without
 * using up an attempt (for up to 24 h); a permanent failure (Gemini rejects the input) or the last
 * attempt marks it FAILED with the reason; any other failure rethrows so the queue retries it.
 */
export async function ingestEvidence(
  deps: IngestionDeps,
  evidenceId: string,
  options: { isFinalAttempt: boolean; signal?: AbortSignal },
): Promise<IngestionOutcome> {
  const evidence = await findEvidenceForTask(deps.pool, evidenceId);
  if (!evidence || evidence.status === "READY") return "SKIPPED";
  const chunks = chunkText(evidence.body);
  try {
    const embeddings = await deps.gemini.embed(chunks, "RETRIEVAL_DOCUMENT", options.signal);
    const outcome = await withTransaction(deps.pool, async (client) => {
      const current = await lockEvidence(client, evidence.id);
      if (!current || current.status === "READY") return "SKIPPED" as const;
      const stored = await storeChunksAndMarkReady(
        client,
        evidence,
        chunks.map((text, i) => ({ text, embedding: embeddings[i]! })),
      );
      await publishEvidenceStatus(client, stored);
      return "READY" as const;
    });
    deps.logger.info({ evidenceId, chunks: chunks.length, outcome }, "evidence ingestion finished");
    return outcome;
  } catch (error) {
    const retryAt = error instanceof GeminiUnavailableError ? outageRetryAt(evidence.created_at, deps.outageRetryDelayMs) : undefined;
    if (retryAt && !options.signal?.aborted) return waitOutOutage(deps, evidence.id, retryAt, messageOf(error));
    const permanent = error instanceof GeminiRequestError;
    if (!permanent && !options.isFinalAttempt) throw error;
    await withTransaction(deps.pool, async (client) => {
      await publishEvidenceStatus(client, await updateEvidenceStatus(client, evidence.id, "FAILED", messageOf(error)));
    });
    deps.logger.warn({ evidenceId, err: messageOf(error) }, "evidence ingestion failed");
    return "FAILED";
  }
}

/**
 * Gemini is down: the document stays PENDING (its `error` says why and when it is tried again)
 * and its job is added again for `retryAt`, without using up an attempt.
 */
async function waitOutOutage(deps: IngestionDeps, evidenceId: string, retryAt: Date, reason: string): Promise<IngestionOutcome> {
  await withTransaction(deps.pool, async (client) => {
    const waiting = await updateEvidenceStatus(client, evidenceId, "PENDING",
      `Gemini is unavailable (${reason}); trying again at ${retryAt.toISOString()}`);
    await rescheduleIngestEvidence(client, { evidenceId }, retryAt);
    await publishEvidenceStatus(client, waiting);
  });
  deps.logger.warn({ evidenceId, retryAt, err: reason }, "Gemini unavailable; evidence ingestion rescheduled without using an attempt");
  return "RESCHEDULED";
}
