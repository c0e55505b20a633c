import type pg from "pg";
import { lockEvidence, replaceChunks, type Evidence } from "../db/evidence.ts";
import { withTransaction } from "../db/pool.ts";
import { untilDatabaseAnswers } from "../db/retry.ts";
import type { ExtractionPool } from "../extraction/index.ts";
import type { Gemini } from "../gemini/client.ts";
import { classifyFailure, type Failure } from "../jobs/failure.ts";
import { nextRunAt, type RetryTimings } from "../jobs/retry-policy.ts";
import * as lifecycle from "../lifecycle/evidence.ts";
import type { Logger } from "../logger.ts";
import { pseudonymizerForStudent } from "../privacy/load.ts";
import { ingestEvidenceTask } from "../../tasks/ingest_evidence.ts";
import { chunkText } from "./chunking.ts";
import { documentText, type DocumentText } from "./file-extraction.ts";

export interface IngestionDeps {
  pool: pg.Pool;
  gemini: Gemini;
  logger: Logger;
  /** Threads that read uploaded files (PDF, DOCX, images with OCR). */
  extraction: ExtractionPool;
  /** This process's id (its worker_heartbeats row), recorded on the documents it ingests. */
  runnerId: string;
  /** How long failed or interrupted ingestions wait before their next try. */
  retry?: RetryTimings;
}

/** READY or FAILED: done; SKIPPED: nothing to do; RESCHEDULED: its job runs again later (outage, retry). */
export type IngestionOutcome = "READY" | "FAILED" | "SKIPPED" | "RESCHEDULED";

/**
 * Reads one evidence document's text (a file's through the extraction threads, stage EXTRACTING;
 * then stage EMBEDDING with the text stored as its body), chunks it page by page, embeds the
 * chunks and stores them, marking it READY in the same transaction (NOTIFYed at commit).
 * Idempotent: a document that is no longer PENDING is skipped, and chunks are replaced rather than
 * appended. A failure is classified (src/jobs/failure.ts): an outage or shutdown re-adds its job
 * without using an attempt, a failed attempt backs off until its attempts are used up, a permanent
 * failure (a file that cannot be read, Gemini rejecting the input) marks it FAILED. Gemini embeds
 * the chunks with the student's identifiers replaced by placeholders (src/privacy/); the stored
 * chunk text is the original.
 */
export async function ingestEvidence(deps: IngestionDeps, evidenceId: string, options: { signal?: AbortSignal } = {}): Promise<IngestionOutcome> {
  const evidence = await lifecycle.start({ db: deps.pool, log: deps.logger }, evidenceId, deps.runnerId);
  if (!evidence) return "SKIPPED";
  try {
    const text = await documentText(deps, evidence, options.signal);
    const chunks = chunkPages(text);
    if (evidence.file_media_type) await enterEmbedding(deps, evidence, text);
    const privacy = await pseudonymizerForStudent(deps.pool, evidence.school_id, evidence.student_id);
    const embeddings = await deps.gemini.embed(chunks.map((chunk) => privacy.mask(chunk.text)), "RETRIEVAL_DOCUMENT", options.signal);
    const outcome = await withTransaction(deps.pool, async (client) => {
      const current = await lockEvidence(client, evidence.id);
      if (current?.status !== "PENDING") return "SKIPPED" as const;
      await replaceChunks(client, evidence, chunks.map((chunk, i) => ({ ...chunk, embedding: embeddings[i]! })));
      await lifecycle.succeed({ db: client, log: deps.logger }, evidence.id, chunks.length);
      return "READY" as const;
    });
    deps.logger.info({ evidenceId, chunks: chunks.length, outcome }, "evidence ingestion finished");
    return outcome;
  } catch (error) {
    return untilDatabaseAnswers(() => finishFailedIngestion(deps, evidence, error, options.signal), deps.logger);
  }
}

/** Chunks each page on its own, so every chunk keeps the page it came from. */
function chunkPages(text: DocumentText): { text: string; page: number | null }[] {
  return text.pages.flatMap(({ page, text: pageText }) => chunkText(pageText).map((chunk) => ({ text: chunk, page })));
}

/** Stage EMBEDDING: the extracted text becomes the document's body, with its page count. */
async function enterEmbedding(deps: IngestionDeps, evidence: Evidence, text: DocumentText): Promise<void> {
  const body = text.pages.map((page) => page.text.trim()).filter((page) => page !== "").join("\n\n");
  await lifecycle.step({ db: deps.pool, log: deps.logger }, evidence.id, {
    stage: "EMBEDDING", pagesDone: text.pageCount ?? 0, pageCount: text.pageCount, body, pages: text.pages,
  });
}

async function finishFailedIngestion(deps: IngestionDeps, evidence: Evidence, error: unknown, signal?: AbortSignal): Promise<IngestionOutcome> {
  const failure = classifyFailure(error, signal);
  const runAt = nextRunAt(
    failure,
    { attempts: evidence.attempts, maxAttempts: ingestEvidenceTask.maxAttempts, requestedAt: evidence.created_at },
    deps.retry,
  );
  const log = deps.logger.child({ evidenceId: evidence.id, kind: failure.kind });
  if (!runAt) {
    await lifecycle.fail({ db: deps.pool, log }, evidence.id, failure.reason);
    log.warn({ err: failure.reason }, "evidence ingestion failed");
    return "FAILED";
  }
  const refundAttempt = failure.kind !== "retryable";
  const reason = `${waitReason(failure, evidence.attempts)}; trying again at ${runAt.toISOString()}${refundAttempt ? " (this does not use up an attempt)" : ""}`;
  await withTransaction(deps.pool, async (client) => {
    const waiting = await lifecycle.requeue({ db: client, log }, evidence.id, reason, refundAttempt);
    if (waiting) await ingestEvidenceTask.enqueue(client, { evidenceId: evidence.id }, { runAt });
  });
  log.warn({ err: failure.reason, runAt, refundAttempt }, "evidence ingestion rescheduled");
  return "RESCHEDULED";
}

function waitReason(failure: Failure, attempts: number): string {
  if (failure.kind === "interrupted") return "The worker shut down mid-ingestion";
  if (failure.kind === "unavailable") {
    return failure.dependency === "database" ? `The database was unavailable (${failure.reason})` : `Gemini is unavailable (${failure.reason})`;
  }
  return `Attempt ${attempts} of ${ingestEvidenceTask.maxAttempts} failed (${failure.reason})`;
}
