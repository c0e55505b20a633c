import { z } from "zod";
import { schoolOfEvidence } from "../src/db/evidence.ts";
import { asSchool } from "../src/db/tenant.ts";
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

/**
 * Ingests the document as its school (statements under row-level security for it); failures are
 * classified and handled inside (see src/jobs/failure.ts).
 */
export function implementIngestEvidence(deps: IngestionDeps) {
  return implementTask(ingestEvidenceTask, deps.logger, async ({ evidenceId }, { helpers, logger }) => {
    const schoolId = await schoolOfEvidence(deps.pool, evidenceId);
    if (schoolId) await asSchool(schoolId, () => ingestEvidence({ ...deps, logger }, evidenceId, { signal: helpers.abortSignal }));
  });
}
