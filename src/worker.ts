import { EventEmitter } from "node:events";
import { parseCronItems, run, type ParsedCronItem, type Runner, type TaskList, type WorkerEvents } from "graphile-worker";
import type pg from "pg";
import { cleanupGenerationsTask, DEFAULT_RETENTION_DAYS, implementCleanupGenerations } from "../tasks/cleanup_generations.ts";
import { implementGenerateIep, generateIep } from "../tasks/generate_iep.ts";
import { implementIngestEvidence, ingestEvidenceTask } from "../tasks/ingest_evidence.ts";
import { createPool } from "./db/pool.ts";
import { forceUnlockWorkers } from "./db/workers.ts";
import type { ExtractionPool } from "./extraction/index.ts";
import type { Gemini } from "./gemini/client.ts";
import type { RetryTimings } from "./jobs/retry-policy.ts";
import { graphileWorkerLogger, type Logger } from "./logger.ts";
import { registerPool } from "./monitoring/metrics.ts";
import type { RunningGenerations } from "./services/generation/running.ts";

export interface WorkerDeps {
  pool: pg.Pool;
  gemini: Gemini;
  logger: Logger;
  extraction: ExtractionPool;
  running: RunningGenerations;
  runnerId: string;
  retry?: RetryTimings;
}

/** graphile-worker running iepgen's tasks, restarted with backoff if it ever stops on its own. */
export interface WorkerHandle {
  isRunning(): boolean;
  /** graphile-worker's pool and worker ids in this process now (reported in the heartbeat; jobs are locked by these). */
  workerIds(): string[];
  /** How many times the runner has been restarted after stopping on its own. */
  restarts(): number;
  /** The graphile-worker runner now (undefined while it is being restarted). */
  runner(): Runner | undefined;
  /** Stops taking jobs and waits for running ones to finish (graceful). */
  stop(): Promise<void>;
}

/** Every task iepgen runs, by identifier; each is defined once in tasks/. */
export function buildTaskList(deps: WorkerDeps): TaskList {
  return {
    [ingestEvidenceTask.name]: implementIngestEvidence(deps),
    [generateIep.name]: implementGenerateIep(deps),
    [cleanupGenerationsTask.name]: implementCleanupGenerations(deps),
  };
}

/**
 * iepgen's crontab: `cleanup_generations` daily at 03:17 UTC with the retention. graphile-worker
 * schedules each occurrence once across all workers (known_crontabs); a missed day is not backfilled.
 */
export function buildCronItems(options: Pick<WorkerOptions, "retentionDays">): ParsedCronItem[] {
  return parseCronItems([{
    task: cleanupGenerationsTask.name,
    identifier: "cleanup_generations_daily",
    match: "17 3 * * *",
    payload: { olderThanDays: options.retentionDays ?? DEFAULT_RETENTION_DAYS },
    options: { backfillPeriod: 0, maxAttempts: cleanupGenerationsTask.maxAttempts, jobKey: "cleanup_generations", jobKeyMode: "replace" },
  }]);
}

export interface WorkerOptions {
  concurrency: number;
  pollIntervalMs?: number;
  /** On shutdown, running jobs get this long to finish before their AbortSignal fires (default 5 s). */
  shutdownAbortAfterMs?: number;
  /** Days a finished generation is kept before the daily cleanup archives it (GENERATION_RETENTION_DAYS, default 30). */
  retentionDays?: number;
}

const RESTART_DELAY = { firstMs: 500, maxMs: 15_000 };
/**
 * Connections for graphile-worker's own statements: one holds its LISTEN, the others serve its
 * get/complete statements, a millisecond or two each (200 jobs starting at once wait ~0.1 s).
 */
const QUEUE_POOL_MAX = 4;

/**
 * Starts graphile-worker under a supervisor. graphile-worker shuts its pool down when it cannot
 * record a job's outcome (the database went away mid-job); the supervisor then waits until the
 * database answers, releases the locks the stopped pool still holds, and starts a new runner, so
 * a database restart delays work instead of ending the process.
 *
 * graphile-worker's own statements (get, complete, fail a job; its LISTEN) run on a small pool of
 * their own ("queue", QUEUE_POOL_MAX): they run as the connecting role, and on the tasks' tenant
 * pool each one would switch a connection away from the school a task had set on it, and the next
 * task statement would switch it back (src/db/tenant.ts), two statements more per job.
 */
export async function startWorker(deps: WorkerDeps, options: WorkerOptions): Promise<WorkerHandle> {
  const log = deps.logger.child({ component: "worker" });
  const taskList = buildTaskList(deps);
  const queuePool = createPool(deps.pool.options.connectionString!, Math.min(QUEUE_POOL_MAX, deps.pool.options.max), (error) =>
    log.warn({ err: error }, "idle database client error"), { name: "iepgen-queue" });
  registerPool("queue", queuePool);
  let current: Runner | undefined;
  let ids = new Set<string>();
  let stopping = false;
  let restarts = 0;
  let restarting: Promise<void> | undefined;

  const launch = async () => {
    const runnerIds = new Set<string>();
    const events: WorkerEvents = new EventEmitter();
    // graphile-worker 0.18 locks jobs with its pool's id (the workers' own ids appear in logs):
    // both are recorded, so force_unlock_workers releases whatever a dead process held.
    events.on("pool:create", ({ workerPool }) => runnerIds.add(workerPool.id));
    events.on("worker:create", ({ worker }) => runnerIds.add(worker.workerId));
    const runner = await run({
      events,
      pgPool: queuePool,
      taskList,
      concurrency: options.concurrency,
      pollInterval: options.pollIntervalMs ?? 1000,
      noHandleSignals: true,
      parsedCronItems: buildCronItems(options),
      gracefulShutdownAbortTimeout: options.shutdownAbortAfterMs ?? 5000,
      logger: graphileWorkerLogger(deps.logger),
    });
    ids = runnerIds;
    current = runner;
    runner.promise.then(() => onStopped(runner, runnerIds), (error: unknown) => onStopped(runner, runnerIds, error));
  };

  const onStopped = (runner: Runner, stoppedIds: Set<string>, error?: unknown) => {
    if (stopping || current !== runner) return;
    current = undefined;
    log.error({ err: error }, "graphile-worker stopped on its own; restarting it once the database answers");
    restarting = restartAfter(stoppedIds).finally(() => (restarting = undefined));
  };

  const restartAfter = async (stoppedIds: Set<string>) => {
    for (let delay = RESTART_DELAY.firstMs; !stopping; delay = Math.min(delay * 2, RESTART_DELAY.maxMs)) {
      await new Promise((resolve) => setTimeout(resolve, delay));
      if (stopping) return;
      try {
        await forceUnlockWorkers(deps.pool, [...stoppedIds]);
        await launch();
        restarts += 1;
        log.warn({ restarts }, "graphile-worker restarted");
        return;
      } catch (error) {
        log.warn({ err: error, retryInMs: delay }, "could not restart graphile-worker yet");
      }
    }
  };

  await launch();
  return {
    isRunning: () => !stopping && (current !== undefined || restarting !== undefined),
    workerIds: () => [...ids],
    restarts: () => restarts,
    runner: () => current,
    async stop() {
      if (stopping) return;
      stopping = true;
      await restarting;
      const runner = current;
      current = undefined;
      await runner?.stop();
      await queuePool.end();
    },
  };
}
