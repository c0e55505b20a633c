import { z } from "zod";
import { defineTask, implementTask } from "../src/jobs/kit.ts";
import { ingestEvidence, type IngestionDeps } from "../src/services/ingestion.ts";

/**
 * `ingest_evidence`: chunks, embeds and stores one evidence document. The payload is the evidence
 * id only. One job per document (by key).
 */
export const ingestEvidenceTask = defineTask({
  name: "ingest_evidence",
  payload: z.object({ evidenceId: z.uuid() }),
  maxAttempts: 8,
  jobKey: ({ evidenceId }) => `ingest_evidence:${evidenceId}`,
});

/** Ingests the document; failures are classified and handled inside (see src/jobs/failure.ts). */
export function implementIngestEvidence(deps: IngestionDeps) {
  return implementTask(ingestEvidenceTask, deps.logger, async ({ evidenceId }, { helpers, logger }) => {
    await ingestEvidence({ ...deps, logger }, evidenceId, { signal: helpers.abortSignal });
  });
}
