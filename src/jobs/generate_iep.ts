import { z } from "zod";
import type { Queryable } from "../db/pool.ts";

/** graphile-worker task identifier; tasks/generate_iep.ts implements it. */
export const GENERATE_IEP_TASK = "generate_iep";
/** Attempts per generation (graphile-worker retries transient failures with exponential backoff). */
export const GENERATE_IEP_MAX_ATTEMPTS = 3;

/** The job contract shared by the enqueuing mutations and the task: the generation id only. */
export const GenerateIepPayload = z.object({ generationId: z.uuid() });
export type GenerateIepPayload = z.infer<typeof GenerateIepPayload>;

/** The job key of a generation's job: a second enqueue replaces rather than duplicates it. */
export function generateIepJobKey(generationId: string): string {
  return `${GENERATE_IEP_TASK}:${generationId}`;
}

/** Adds one generation's job on the caller's client (inside its transaction). */
export async function enqueueGenerateIep(db: Queryable, payload: GenerateIepPayload, priority: number): Promise<void> {
  await enqueueGenerateIeps(db, [{ payload, priority }]);
}

/** Adds many generations' jobs with one `add_jobs` call, on the caller's client (inside its transaction). */
export async function enqueueGenerateIeps(db: Queryable, jobs: readonly { payload: GenerateIepPayload; priority: number }[]): Promise<void> {
  const valid = jobs.map((job) => GenerateIepPayload.parse(job.payload));
  await db.query(
    `select graphile_worker.add_jobs(array(
       select row($1, json_build_object('generationId', id), null, null, $2, $1 || ':' || id, priority, null)::graphile_worker.job_spec
       from unnest($3::uuid[], $4::int[]) as spec(id, priority)
     ))`,
    [GENERATE_IEP_TASK, GENERATE_IEP_MAX_ATTEMPTS, valid.map((p) => p.generationId), jobs.map((job) => job.priority)],
  );
}

/**
 * Queues a generation's job again to run at `runAt` (e.g. after a Gemini outage). Called from
 * inside the running job: graphile-worker then gives the new job the key and lets the old finish.
 */
export async function rescheduleGenerateIep(db: Queryable, payload: GenerateIepPayload, priority: number, runAt: Date): Promise<void> {
  const valid = GenerateIepPayload.parse(payload);
  await db.query(
    `select graphile_worker.add_job($1, $2::json, run_at => $3, max_attempts => $4, job_key => $5, priority => $6)`,
    [GENERATE_IEP_TASK, JSON.stringify(valid), runAt, GENERATE_IEP_MAX_ATTEMPTS, generateIepJobKey(valid.generationId), priority],
  );
}

/** Removes a generation's queued job; a job already running is kept but will not be retried. */
export async function dequeueGenerateIep(db: Queryable, generationId: string): Promise<void> {
  await db.query("select graphile_worker.remove_job($1)", [generateIepJobKey(generationId)]);
}
