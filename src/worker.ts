import { run, type Runner, type TaskList } from "graphile-worker";
import type pg from "pg";
import { createGenerateIepTask } from "../tasks/generate_iep.ts";
import { createIngestEvidenceTask } from "../tasks/ingest_evidence.ts";
import type { Gemini } from "./gemini/client.ts";
import { GENERATE_IEP_TASK } from "./jobs/generate_iep.ts";
import { INGEST_EVIDENCE_TASK } from "./jobs/ingest_evidence.ts";
import { graphileWorkerLogger, type Logger } from "./logger.ts";
import type { RunningGenerations } from "./services/generation/running.ts";

export interface WorkerDeps {
  pool: pg.Pool;
  gemini: Gemini;
  logger: Logger;
  running: RunningGenerations;
  outageRetryDelayMs?: number;
}

/** A running graphile-worker with iepgen's tasks. */
export interface WorkerHandle {
  readonly runner: Runner;
  isRunning(): boolean;
  /** Stops taking jobs and waits for running ones to finish (graceful). */
  stop(): Promise<void>;
}

/** Every task iepgen runs, by identifier; each comes from its own file in tasks/. */
export function buildTaskList(deps: WorkerDeps): TaskList {
  return {
    [INGEST_EVIDENCE_TASK]: createIngestEvidenceTask(deps),
    [GENERATE_IEP_TASK]: createGenerateIepTask(deps),
  };
}

export interface WorkerOptions {
  concurrency: number;
  pollIntervalMs?: number;
  /** On shutdown, running jobs get this long to finish before their AbortSignal fires (default 5 s). */
  shutdownAbortAfterMs?: number;
}

export async function startWorker(deps: WorkerDeps, options: WorkerOptions): Promise<WorkerHandle> {
  const runner = await run({
    pgPool: deps.pool,
    taskList: buildTaskList(deps),
    concurrency: options.concurrency,
    pollInterval: options.pollIntervalMs ?? 1000,
    noHandleSignals: true,
    parsedCronItems: [],
    gracefulShutdownAbortTimeout: options.shutdownAbortAfterMs ?? 5000,
    logger: graphileWorkerLogger(deps.logger),
  });
  let running = true;
  runner.promise.then(
    () => (running = false),
    (error: unknown) => {
      running = false;
      deps.logger.error({ err: error }, "worker stopped with an error");
    },
  );
  return {
    runner,
    isRunning: () => running,
    async stop() {
      if (running) await runner.stop();
    },
  };
}
