import { z } from "zod";
import { GENERATION_STATUSES, GenerationStatus } from "./generations.ts";
import type { Queryable } from "./pool.ts";

const seconds = z.number().nullable();

const SchoolQueueRow = z.object({
  oldest_queued_seconds: seconds,
  finished_last_hour: z.number(),
  retried_last_hour: z.number(),
  duration_p50: seconds,
  duration_p95: seconds,
  wait_p50: seconds,
  wait_p95: seconds,
});

/** A school's queue figures; durations and waits are over the last hour, in seconds. */
export type SchoolQueueFigures = z.infer<typeof SchoolQueueRow> & { byStatus: Record<GenerationStatus, number> };

/**
 * One school's queue: counts by status, the age of its oldest QUEUED generation, what finished in
 * the last hour, p50/p95 run duration (finished − started) and queue wait (started − created) of
 * the last hour, and generations started in the last hour on a second or later attempt.
 */
export async function schoolQueueFigures(db: Queryable, schoolId: string): Promise<SchoolQueueFigures> {
  const [summary, counts] = await Promise.all([
    db.query(
      `select
         (extract(epoch from now() - min(created_at) filter (where status = 'QUEUED')))::float8 as oldest_queued_seconds,
         (count(*) filter (where finished_at > now() - interval '1 hour'))::int as finished_last_hour,
         (count(*) filter (where attempts > 1 and started_at > now() - interval '1 hour'))::int as retried_last_hour,
         (percentile_cont(0.5) within group (order by extract(epoch from finished_at - started_at))
           filter (where finished_at > now() - interval '1 hour' and started_at is not null))::float8 as duration_p50,
         (percentile_cont(0.95) within group (order by extract(epoch from finished_at - started_at))
           filter (where finished_at > now() - interval '1 hour' and started_at is not null))::float8 as duration_p95,
         (percentile_cont(0.5) within group (order by extract(epoch from started_at - created_at))
           filter (where started_at > now() - interval '1 hour'))::float8 as wait_p50,
         (percentile_cont(0.95) within group (order by extract(epoch from started_at - created_at))
           filter (where started_at > now() - interval '1 hour'))::float8 as wait_p95
       from generations where school_id = $1`,
      [schoolId],
    ),
    db.query("select status, count(*)::int as n from generations where school_id = $1 group by status", [schoolId]),
  ]);
  const byStatus = Object.fromEntries(GENERATION_STATUSES.map((status) => [status, 0])) as Record<GenerationStatus, number>;
  for (const row of counts.rows) {
    const parsed = z.object({ status: GenerationStatus, n: z.number() }).parse(row);
    byStatus[parsed.status] = parsed.n;
  }
  return { ...SchoolQueueRow.parse(summary.rows[0]), byStatus };
}

const ActiveProcessRow = z.object({
  id: z.string(),
  role: z.string(),
  host: z.string(),
  pid: z.number(),
  concurrency: z.number(),
  running: z.number(),
  last_seen_at: z.date(),
});
export type ActiveProcess = z.infer<typeof ActiveProcessRow>;

/** Every iepgen process in worker_heartbeats (any school's work), most recently seen first. */
export async function activeProcesses(db: Queryable): Promise<ActiveProcess[]> {
  const { rows } = await db.query(
    `select id, role, host, pid, concurrency, cardinality(running_ids)::int as running, last_seen_at
     from worker_heartbeats order by last_seen_at desc`,
  );
  return rows.map((row) => ActiveProcessRow.parse(row));
}
