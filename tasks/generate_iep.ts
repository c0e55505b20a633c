import type { Task } from "graphile-worker";
import { GenerateIepPayload } from "../src/jobs/generate_iep.ts";
import { runGeneration, type GenerationDeps } from "../src/services/generation/run.ts";

/**
 * graphile-worker task `generate_iep`: validates its payload, then runs the generation (the same
 * service function `generateIep(async: false)` runs inline). A transient failure rethrows so the
 * queue retries with backoff; the generation row says QUEUED meanwhile.
 */
export function createGenerateIepTask(deps: GenerationDeps): Task {
  return async (payload, helpers) => {
    const { generationId } = GenerateIepPayload.parse(payload);
    const logger = deps.logger.child({ task: "generate_iep", jobId: helpers.job.id, generationId });
    await runGeneration({ ...deps, logger }, generationId, {
      isFinalAttempt: helpers.job.attempts >= helpers.job.max_attempts,
      signal: helpers.abortSignal,
    });
  };
}
