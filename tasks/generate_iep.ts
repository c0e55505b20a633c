import { z } from "zod";
import { defineTask, implementTask } from "../src/jobs/kit.ts";
import { runGeneration, type GenerationDeps } from "../src/services/generation/run.ts";

/**
 * `generate_iep`: drafts one generation (retrieving → drafting → validating → saving). The payload
 * is the generation id only; the row is the source of truth. One job per generation (by key).
 */
export const generateIep = defineTask({
  name: "generate_iep",
  payload: z.object({ generationId: z.uuid() }),
  maxAttempts: 3,
  jobKey: ({ generationId }) => `generate_iep:${generationId}`,
});

/** Runs the generation (the same service function `generateIep(async: false)` runs inline). */
export function implementGenerateIep(deps: GenerationDeps) {
  return implementTask(generateIep, deps.logger, async ({ generationId }, { helpers, logger }) => {
    await runGeneration({ ...deps, logger }, generationId, { signal: helpers.abortSignal });
  });
}
