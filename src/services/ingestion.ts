import type pg from "pg";
import { findEvidenceForTask, lockEvidence, storeChunksAndMarkReady, updateEvidenceStatus } from "../db/evidence.ts";
import { withTransaction } from "../db/pool.ts";
import type { Gemini } from "../gemini/client.ts";
import { GeminiRequestError, messageOf } from "../gemini/resilience.ts";
import type { Logger } from "../logger.ts";
import { chunkText } from "./chunking.ts";
import { publishEvidenceStatus } from "./evidence.ts";

export interface IngestionDeps {
  pool: pg.Pool;
  gemini: Gemini;
  logger: Logger;
}

export type IngestionOutcome = "READY" | "FAILED" | "SKIPPED";

/**
 * Chunks one evidence document, embeds the chunks and stores them, marking it READY in the same
 * transaction (and publishing the status change at commit). Idempotent: a READY document is
 * skipped, and chunks are replaced rather than appended. A permanent failure (Gemini rejects the
 * input) or the last attempt marks it FAILED with the reason; a transient one rethrows so the
 * queue retries it later.
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
    const permanent = error instanceof GeminiRequestError;
    if (!permanent && !options.isFinalAttempt) throw error;
    await withTransaction(deps.pool, async (client) => {
      await publishEvidenceStatus(client, await updateEvidenceStatus(client, evidence.id, "FAILED", messageOf(error)));
    });
    deps.logger.warn({ evidenceId, err: messageOf(error) }, "evidence ingestion failed");
    return "FAILED";
  }
}
