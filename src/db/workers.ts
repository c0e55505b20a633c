import { z } from "zod";
import type { Queryable } from "./pool.ts";

/** One iepgen process as it announces itself in worker_heartbeats. */
export interface ProcessIdentity {
  id: string;
  role: "api" | "worker" | "all";
  host: string;
  pid: number;
  concurrency: number;
}

/** What a beat reports: graphile-worker's worker ids in this process and the generations it runs. */
export interface ProcessState {
  workerIds: readonly string[];
  runningIds: readonly string[];
}

/**
 * Records that the process is alive (inserting its row if missing: a process presumed dead and
 * swept comes back as a new beat, while its old runs stay fenced off).
 */
export async function beat(db: Queryable, who: ProcessIdentity, state: ProcessState): Promise<void> {
  await db.query(
    `insert into worker_heartbeats (id, role, host, pid, concurrency, worker_ids, running_ids)
     values ($1, $2, $3, $4, $5, $6, $7)
     on conflict (id) do update set last_seen_at = now(), worker_ids = excluded.worker_ids, running_ids = excluded.running_ids`,
    [who.id, who.role, who.host, who.pid, who.concurrency, state.workerIds, state.runningIds],
  );
}

/** Removes the process's row (graceful shutdown: nothing of it needs recovering). */
export async function removeHeartbeat(db: Queryable, id: string): Promise<void> {
  await db.query("delete from worker_heartbeats where id = $1", [id]);
}

const DeadProcess = z.object({ id: z.string(), worker_ids: z.array(z.string()) });

/** Deletes the rows of processes silent for longer than `deadAfterMs` and returns them. */
export async function claimDeadProcesses(db: Queryable, deadAfterMs: number): Promise<z.infer<typeof DeadProcess>[]> {
  const { rows } = await db.query(
    "delete from worker_heartbeats where last_seen_at < now() - make_interval(secs => $1::float8 / 1000) returning id, worker_ids",
    [deadAfterMs],
  );
  return rows.map((row) => DeadProcess.parse(row));
}

/** Releases graphile-worker's locks held by these worker ids (their jobs become runnable at once). */
export async function forceUnlockWorkers(db: Queryable, workerIds: readonly string[]): Promise<void> {
  if (workerIds.length > 0) await db.query("select graphile_worker.force_unlock_workers($1::text[])", [workerIds]);
}

/**
 * RUNNING generations nobody runs: every one of `deadRunnerIds` (just claimed dead), and those
 * whose runner is otherwise gone from worker_heartbeats, or alive but not running them, once
 * unchanged for `graceMs` (so a run that has just started is never taken).
 */
export async function lostGenerationIds(db: Queryable, deadRunnerIds: readonly string[], graceMs: number): Promise<string[]> {
  const { rows } = await db.query(
    `select g.id from generations g left join worker_heartbeats h on h.id = g.runner_id
     where g.status = 'RUNNING'
       and (g.runner_id = any($1::uuid[])
         or (g.updated_at < now() - make_interval(secs => $2::float8 / 1000)
             and (h.id is null or not (g.id = any(h.running_ids)))))`,
    [deadRunnerIds, graceMs],
  );
  return rows.map((row) => z.string().parse(row.id));
}

/** Runner ids of PENDING evidence being ingested by a process that no longer beats. */
export async function lostEvidenceRunnerIds(db: Queryable, graceMs: number): Promise<string[]> {
  const { rows } = await db.query(
    `select distinct e.runner_id from evidence e
     where e.status = 'PENDING' and e.runner_id is not null
       and e.updated_at < now() - make_interval(secs => $1::float8 / 1000)
       and not exists (select 1 from worker_heartbeats h where h.id = e.runner_id)`,
    [graceMs],
  );
  return rows.map((row) => z.string().parse(row.runner_id));
}

/** Keys among `keys` that have a job that will run: queued, waiting, or locked by a worker. */
export async function keysWithLiveJobs(db: Queryable, keys: readonly string[]): Promise<Set<string>> {
  if (keys.length === 0) return new Set();
  const { rows } = await db.query(
    `select key from graphile_worker.jobs
     where key = any($1::text[]) and (locked_at is not null or attempts < max_attempts)`,
    [keys],
  );
  return new Set(rows.map((row) => z.string().parse(row.key)));
}

/** QUEUED generations unchanged for `graceMs` (a job is added in the transaction that queues them). */
export async function settledQueuedGenerations(db: Queryable, graceMs: number, limit = 1000) {
  const { rows } = await db.query(
    `select id, priority, queue_rank from generations
     where status = 'QUEUED' and updated_at < now() - make_interval(secs => $1::float8 / 1000) limit $2`,
    [graceMs, limit],
  );
  return rows.map((row) => z.object({ id: z.string(), priority: z.number(), queue_rank: z.number() }).parse(row));
}

/** PENDING evidence unchanged for `graceMs` and not being ingested. */
export async function settledPendingEvidenceIds(db: Queryable, graceMs: number, limit = 1000): Promise<string[]> {
  const { rows } = await db.query(
    `select id from evidence
     where status = 'PENDING' and runner_id is null and updated_at < now() - make_interval(secs => $1::float8 / 1000) limit $2`,
    [graceMs, limit],
  );
  return rows.map((row) => z.string().parse(row.id));
}

/** Takes the cluster-wide maintenance lock for this transaction, if no other process holds it. */
export async function tryMaintenanceLock(db: Queryable): Promise<boolean> {
  const { rows } = await db.query("select pg_try_advisory_xact_lock(hashtextextended('iepgen:maintenance', 0)) as locked");
  return rows[0]?.locked === true;
}
