import { z } from "zod";
import { findGenerationForTask, jobPriority, schoolOfGeneration } from "../src/db/generations.ts";
import { DEFAULT_RETRY_TIMINGS } from "../src/jobs/retry-policy.ts";
import { asSchool } from "../src/db/tenant.ts";
import { defineTask, implementTask, type TaskContext } from "../src/jobs/kit.ts";
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
  sql: { payload: (id) => `json_build_object('generationId', ${id})`, jobKey: (id) => `'generate_iep:' || ${id}` },
});

/**
 * Runs the generation (the same service function `generateIep(async: false)` runs inline), as
 * the generation's school: its statements run under row-level security for it. The school is
 * looked up on graphile-worker's own connection, as the system (src/worker.ts). While
 * this process's Gemini circuit is open, a QUEUED generation is not started at all: its job is
 * deferred to when the circuit half-opens, so an outage does not churn every queued draft through
 * RUNNING and back (no attempt, no event).
 */
export function implementGenerateIep(deps: GenerationDeps) {
  return implementTask(generateIep, deps.logger, async ({ generationId }, context) => {
    const schoolId = await context.helpers.withPgClient((client) => schoolOfGeneration(client, generationId));
    if (schoolId) await asSchool(schoolId, () => generate(deps, generationId, context));
  });
}

async function generate(deps: GenerationDeps, generationId: string, { helpers, logger }: TaskContext): Promise<void> {
  if (deps.gemini.caller.breaker.opened) {
    const generation = await findGenerationForTask(deps.pool, generationId);
    if (generation?.status === "QUEUED") {
      const runAt = new Date(Date.now() + (deps.retry ?? DEFAULT_RETRY_TIMINGS).outageDelayMs);
      await generateIep.enqueue(deps.pool, { generationId }, { priority: jobPriority(generation), runAt });
      logger.debug({ runAt }, "Gemini circuit open: generation deferred without starting an attempt");
      return;
    }
  }
  await runGeneration({ ...deps, logger }, generationId, { signal: helpers.abortSignal });
}
