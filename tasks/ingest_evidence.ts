import type { Task } from "graphile-worker";
import { IngestEvidencePayload } from "../src/jobs/ingest_evidence.ts";
import { ingestEvidence, type IngestionDeps } from "../src/services/ingestion.ts";

/** graphile-worker task `ingest_evidence`: validates its payload, then chunks, embeds and stores one document. */
export function createIngestEvidenceTask(deps: IngestionDeps): Task {
  return async (payload, helpers) => {
    const { evidenceId } = IngestEvidencePayload.parse(payload);
    const logger = deps.logger.child({ task: "ingest_evidence", jobId: helpers.job.id, evidenceId });
    await ingestEvidence({ ...deps, logger }, evidenceId, {
      isFinalAttempt: helpers.job.attempts >= helpers.job.max_attempts,
      signal: helpers.abortSignal,
    });
  };
}
