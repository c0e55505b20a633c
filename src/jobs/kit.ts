/**
 * Tasks are defined once (after Hive's workflows kit): `defineTask` gives a task its name, zod
 * payload (ids only), attempts and job key, and the helpers that add, replace and remove its jobs
 * on the CALLER's client (so inside the caller's transaction the job exists iff the rows commit),
 * through graphile-worker's add_jobs / remove_job (wrapped, so requests under row-level security
 * may call them: migrations/0009).
 * `implementTask` binds an implementation to that definition for graphile-worker's task list.
 */
import type { JobHelpers, Task } from "graphile-worker";
import type { z } from "zod";
import type { Queryable } from "../db/pool.ts";
import type { Logger } from "../logger.ts";
import { observeJob } from "../monitoring/metrics.ts";

export interface TaskDefinition<P> {
  readonly name: string;
  readonly payload: z.ZodType<P>;
  readonly maxAttempts: number;
  /** One job per subject: a second enqueue replaces the queued job instead of adding another. */
  jobKey(payload: P): string;
  /** Adds (or replaces, by key) the job. A job that is running keeps running; a new one is queued. */
  enqueue(db: Queryable, payload: P, options?: EnqueueOptions): Promise<void>;
  /** Adds many jobs with one `add_jobs` call. */
  enqueueMany(db: Queryable, jobs: readonly ({ payload: P } & EnqueueOptions)[]): Promise<void>;
  /** Removes the queued job (a running one is left to finish, and is not retried). */
  dequeue(db: Queryable, payload: P): Promise<void>;
  /**
   * A `graphile_worker.job_spec` SQL expression for a job of this task whose payload's id is the
   * SQL expression `id` (for tasks defined with `sql`), so a statement can add its own jobs
   * through iepgen_add_jobs without another round trip.
   */
  jobSpecSql(id: string, priority: string): string;
}

export interface EnqueueOptions {
  priority?: number;
  runAt?: Date;
}

/** Defines a task: name, payload schema, attempts and job key together. */
export function defineTask<P>(spec: {
  name: string;
  payload: z.ZodType<P>;
  maxAttempts: number;
  jobKey: (payload: P) => string;
  /** The payload and job key as SQL expressions of an id expression (jobSpecSql); the same as `payload` and `jobKey`. */
  sql?: { payload: (id: string) => string; jobKey: (id: string) => string };
}): TaskDefinition<P> {
  const definition: TaskDefinition<P> = {
    ...spec,
    async enqueue(db, payload, options = {}) {
      await definition.enqueueMany(db, [{ payload, ...options }]);
    },
    async enqueueMany(db, jobs) {
      if (jobs.length === 0) return;
      const payloads = jobs.map((job) => spec.payload.parse(job.payload));
      await db.query(
        `select iepgen_add_jobs(array(
           select row($1, spec.payload, null, spec.run_at, $2, spec.key, spec.priority, null)::graphile_worker.job_spec
           from unnest($3::json[], $4::text[], $5::int[], $6::timestamptz[]) as spec(payload, key, priority, run_at)
         ))`,
        [spec.name, spec.maxAttempts, payloads.map((p) => JSON.stringify(p)), payloads.map(spec.jobKey),
          jobs.map((job) => job.priority ?? 0), jobs.map((job) => job.runAt ?? null)],
      );
    },
    async dequeue(db, payload) {
      await db.query("select iepgen_remove_job($1)", [spec.jobKey(spec.payload.parse(payload))]);
    },
    jobSpecSql(id, priority) {
      if (!spec.sql) throw new Error(`task ${spec.name} has no SQL form`);
      return `row('${spec.name}', ${spec.sql.payload(id)}, null, null, ${spec.maxAttempts}, ${spec.sql.jobKey(id)}, ${priority}, null)::graphile_worker.job_spec`;
    },
  };
  return definition;
}

/** What an implementation gets besides its parsed payload. */
export interface TaskContext {
  helpers: JobHelpers;
  /** A child logger carrying the task name and job id (the service adds the ids it works on). */
  logger: Logger;
}

/**
 * Binds an implementation to a definition: validates the payload, then runs with a job logger; its
 * duration and queue wait (from run_at) go to /metrics.
 */
export function implementTask<P extends object>(
  definition: TaskDefinition<P>,
  logger: Logger,
  run: (payload: P, context: TaskContext) => Promise<void>,
): Task {
  return async (raw, helpers) => {
    const start = performance.now();
    const queueWaitMs = Date.now() - new Date(helpers.job.run_at).getTime();
    let outcome: "ok" | "error" = "error";
    try {
      const payload = definition.payload.parse(raw);
      const jobLogger = logger.child({ task: definition.name, jobId: helpers.job.id });
      await run(payload, { helpers, logger: jobLogger });
      outcome = "ok";
    } finally {
      observeJob(definition.name, outcome, performance.now() - start, queueWaitMs);
    }
  };
}
