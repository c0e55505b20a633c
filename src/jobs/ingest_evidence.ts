import { z } from "zod";
import type { Queryable } from "../db/pool.ts";

/** graphile-worker task identifier; tasks/ingest_evidence.ts implements it. */
export const INGEST_EVIDENCE_TASK = "ingest_evidence";
/** Ingestion is retried with graphile-worker's exponential backoff up to this many attempts. */
export const INGEST_EVIDENCE_MAX_ATTEMPTS = 8;

/** The job contract shared by the enqueuing mutation and the task: ids only, rows are reloaded. */
export const IngestEvidencePayload = z.object({ evidenceId: z.uuid() });
export type IngestEvidencePayload = z.infer<typeof IngestEvidencePayload>;

/**
 * Adds the ingestion job on the caller's client, so that inside a transaction the job exists
 * if and only if the evidence row commits. The job key makes a second enqueue a no-op.
 */
export async function enqueueIngestEvidence(db: Queryable, payload: IngestEvidencePayload): Promise<void> {
  const valid = IngestEvidencePayload.parse(payload);
  await db.query(
    `select graphile_worker.add_job($1, $2::json, job_key => $3, max_attempts => $4, job_key_mode => 'preserve_run_at')`,
    [INGEST_EVIDENCE_TASK, JSON.stringify(valid), `${INGEST_EVIDENCE_TASK}:${valid.evidenceId}`, INGEST_EVIDENCE_MAX_ATTEMPTS],
  );
}

/** Adds the ingestion job again to run at `runAt` (after a Gemini outage; attempts start afresh). */
export async function rescheduleIngestEvidence(db: Queryable, payload: IngestEvidencePayload, runAt: Date): Promise<void> {
  const valid = IngestEvidencePayload.parse(payload);
  await db.query(
    `select graphile_worker.add_job($1, $2::json, run_at => $3, job_key => $4, max_attempts => $5)`,
    [INGEST_EVIDENCE_TASK, JSON.stringify(valid), runAt, `${INGEST_EVIDENCE_TASK}:${valid.evidenceId}`, INGEST_EVIDENCE_MAX_ATTEMPTS],
  );
}
