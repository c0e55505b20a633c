/**
 * Crash recovery, run by every worker process (one at a time cluster-wide, under a
 * transaction-level advisory lock):
 * - the sweep (every few seconds) finds processes silent for longer than `deadAfterMs`, releases
 *   their graphile-worker locks, and recovers their running generations and the evidence they were
 *   ingesting (queued again with their jobs re-added, or FAILED once attempts are used up);
 * - the reconcile (each minute) re-adds the job of any QUEUED generation or PENDING evidence that
 *   has none (by job key, so it never duplicates), and reports what it fixed.
 */
import type pg from "pg";
import {
  claimDeadProcesses,
  forceUnlockWorkers,
  keysWithLiveJobs,
  lostEvidenceRunnerIds,
  lostGenerationIds,
  settledPendingEvidenceIds,
  settledQueuedGenerations,
  tryMaintenanceLock,
} from "../db/workers.ts";
import { withTransaction } from "../db/pool.ts";
import { jobPriority } from "../db/generations.ts";
import * as evidenceLifecycle from "../lifecycle/evidence.ts";
import * as generationLifecycle from "../lifecycle/generation.ts";
import type { Logger } from "../logger.ts";
import { generateIep } from "../../tasks/generate_iep.ts";
import { ingestEvidenceTask } from "../../tasks/ingest_evidence.ts";

export interface RecoveryOptions {
  /** A process silent this long is presumed dead (WORKER_DEAD_AFTER_MS, default 20 s). */
  deadAfterMs: number;
  /** How often to sweep (WORKER_HEARTBEAT_MS, default 5 s). */
  sweepEveryMs: number;
  /** How often to reconcile jobs (default 60 s). */
  reconcileEveryMs: number;
  /**
   * Whether this process may judge others now: false until its own heartbeat has succeeded for
   * `deadAfterMs` (after start, or after a database outage, when everyone's beats were late).
   */
  mayJudge: () => boolean;
}

export interface SweepReport {
  deadProcesses: number;
  recoveredGenerations: number;
  failedGenerations: number;
  recoveredEvidence: number;
  failedEvidence: number;
}

/** Recovers the work of dead processes; returns undefined when another process holds the lock. */
export async function sweep(pool: pg.Pool, log: Logger, deadAfterMs: number): Promise<SweepReport | undefined> {
  return withTransaction(pool, async (db) => {
    if (!(await tryMaintenanceLock(db))) return undefined;
    const dead = await claimDeadProcesses(db, deadAfterMs);
    await forceUnlockWorkers(db, dead.flatMap((p) => p.worker_ids));
    const ctx = { db, log };
    const generations = await generationLifecycle.recover(ctx, await lostGenerationIds(db, dead.map((p) => p.id), deadAfterMs));
    const requeued = generations.filter((g) => g.status === "QUEUED");
    await generateIep.enqueueMany(db, requeued.map((g) => ({ payload: { generationId: g.id }, priority: jobPriority(g) })));
    for (const g of generations) if (g.status === "FAILED") await generateIep.dequeue(db, { generationId: g.id });
    const evidence = await evidenceLifecycle.recover(ctx, await lostEvidenceRunnerIds(db, deadAfterMs), ingestEvidenceTask.maxAttempts);
    const pending = evidence.filter((e) => e.status === "PENDING");
    await ingestEvidenceTask.enqueueMany(db, pending.map((e) => ({ payload: { evidenceId: e.id } })));
    for (const e of evidence) if (e.status === "FAILED") await ingestEvidenceTask.dequeue(db, { evidenceId: e.id });
    const report = {
      deadProcesses: dead.length,
      recoveredGenerations: requeued.length,
      failedGenerations: generations.length - requeued.length,
      recoveredEvidence: pending.length,
      failedEvidence: evidence.length - pending.length,
    };
    if (Object.values(report).some((n) => n > 0)) log.warn({ ...report, dead: dead.map((p) => p.id) }, "recovered the work of dead workers");
    return report;
  });
}

/** Work waiting without a job: re-added by key. Returns undefined when another process holds the lock. */
export async function reconcile(pool: pg.Pool, log: Logger, graceMs: number): Promise<{ generations: number; evidence: number } | undefined> {
  return withTransaction(pool, async (db) => {
    if (!(await tryMaintenanceLock(db))) return undefined;
    const queued = await settledQueuedGenerations(db, graceMs);
    const liveGenerationJobs = await keysWithLiveJobs(db, queued.map((g) => generateIep.jobKey({ generationId: g.id })));
    const jobless = queued.filter((g) => !liveGenerationJobs.has(generateIep.jobKey({ generationId: g.id })));
    await generateIep.enqueueMany(db, jobless.map((g) => ({ payload: { generationId: g.id }, priority: jobPriority(g) })));
    const pending = await settledPendingEvidenceIds(db, graceMs);
    const liveEvidenceJobs = await keysWithLiveJobs(db, pending.map((id) => ingestEvidenceTask.jobKey({ evidenceId: id })));
    const orphans = pending.filter((id) => !liveEvidenceJobs.has(ingestEvidenceTask.jobKey({ evidenceId: id })));
    await ingestEvidenceTask.enqueueMany(db, orphans.map((id) => ({ payload: { evidenceId: id } })));
    if (jobless.length + orphans.length > 0) {
      log.warn({ generations: jobless.map((g) => g.id), evidence: orphans }, "reconciler re-added missing jobs");
    }
    return { generations: jobless.length, evidence: orphans.length };
  });
}

/** Runs the sweep and the reconcile on timers until stopped; failures are logged, never fatal. */
export function startRecovery(pool: pg.Pool, logger: Logger, options: RecoveryOptions): { stop(): Promise<void> } {
  const log = logger.child({ component: "recovery" });
  let running: Promise<unknown> = Promise.resolve();
  const guarded = (name: string, work: () => Promise<unknown>) => () => {
    running = running.then(work).catch((error: unknown) => log.warn({ err: error }, `${name} failed; trying again later`));
  };
  const timers = [
    setInterval(guarded("sweep", async () => options.mayJudge() && sweep(pool, log, options.deadAfterMs)), options.sweepEveryMs),
    setInterval(guarded("reconcile", () => reconcile(pool, log, options.deadAfterMs)), options.reconcileEveryMs),
  ];
  for (const timer of timers) timer.unref();
  return {
    async stop() {
      for (const timer of timers) clearInterval(timer);
      await running;
    },
  };
}
