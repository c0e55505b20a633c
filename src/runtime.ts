import { randomUUID } from "node:crypto";
import type pg from "pg";
import type { AppDeps } from "./context.ts";
import { createPool } from "./db/pool.ts";
import { DEFAULT_EVIDENCE_FILE_LIMITS, type EvidenceFileLimits } from "./evidence-limits.ts";
import { ExtractionPool } from "./extraction/index.ts";
import { startEventBus, type EventBus } from "./events/bus.ts";
import { createGemini, type Gemini, type GeminiConfig } from "./gemini/client.ts";
import { startGeminiServices } from "./gemini/quota.ts";
import type { RetryTimings } from "./jobs/retry-policy.ts";
import type { Logger } from "./logger.ts";
import { DEFAULT_SECURITY, type SecurityConfig } from "./security.ts";
import { startEventLoopMonitor, type EventLoopSnapshot } from "./monitoring/event-loop.ts";
import { registerPool } from "./monitoring/metrics.ts";
import { startHeartbeat } from "./recovery/heartbeat.ts";
import { startRecovery } from "./recovery/sweeper.ts";
import { listen, type ListeningServer } from "./server.ts";
import { createRunningGenerations } from "./services/generation/running.ts";
import { startWorker, type WorkerHandle, type WorkerOptions } from "./worker.ts";
import { authenticate, createApp, type App, type HealthReport } from "./yoga.ts";

/** Everything one iepgen process needs; main.ts builds it from the environment, tests directly. */
export interface RuntimeConfig {
  databaseUrl: string;
  poolMax: number;
  jwtSecret: string;
  evidenceMaxChars: number;
  /** Upload and extraction limits (defaults: DEFAULT_EVIDENCE_FILE_LIMITS, with these merged over them). */
  evidenceFiles?: Partial<EvidenceFileLimits>;
  production: boolean;
  gemini: GeminiConfig;
  logger: Logger;
  /** Run graphile-worker in this process. */
  worker?: WorkerOptions;
  /** How long failed or interrupted work waits before its next try (defaults: DEFAULT_RETRY_TIMINGS). */
  retry?: RetryTimings;
  /** Heartbeats and crash recovery (defaults: beat every 5 s, dead after 20 s, reconcile each minute). */
  recovery?: Partial<RecoveryTimings>;
  /** Worker concurrency assumed for queue estimates when the worker runs in another process. */
  workerConcurrencyHint?: number;
  /** Serve the API in this process. */
  api?: { host: string; port: number };
  /** Tokens, CORS, request limits, rate limits (defaults: DEFAULT_SECURITY, with `security` merged over it). */
  security?: Partial<SecurityConfig>;
}

/** How often a process beats, when it counts as dead, how often jobs are reconciled. */
export interface RecoveryTimings {
  heartbeatMs: number;
  deadAfterMs: number;
  reconcileMs: number;
}

const DEFAULT_RECOVERY: RecoveryTimings = { heartbeatMs: 5000, deadAfterMs: 20_000, reconcileMs: 60_000 };

/** A started process: API and/or worker (each with its own pool) sharing one Gemini gateway and one event bus. */
export interface Runtime {
  readonly deps: AppDeps;
  readonly app: App;
  readonly pool: pg.Pool;
  readonly gemini: Gemini;
  readonly bus: EventBus;
  readonly worker?: WorkerHandle;
  readonly server?: ListeningServer;
  /** This process's id in worker_heartbeats. */
  readonly runnerId: string;
  health(): Promise<HealthReport>;
  /** Graceful: stop accepting requests, let running jobs finish, then close connections. */
  close(): Promise<void>;
}

export async function startRuntime(config: RuntimeConfig): Promise<Runtime> {
  const { logger } = config;
  const security: SecurityConfig = { ...DEFAULT_SECURITY, ...config.security };
  const onPoolError = (error: Error) => logger.warn({ err: error }, "idle database client error");
  // API requests and worker jobs have pools of their own, so no request can starve the worker;
  // API statements are bounded by a timeout, job statements are not. A request's statements run
  // under row-level security for its school (src/db/tenant.ts).
  const pool = createPool(config.databaseUrl, config.poolMax, onPoolError, {
    statementTimeoutMs: security.apiStatementTimeoutMs, name: "iepgen-api", tenant: true,
  });
  const workerPool = config.worker ? createPool(config.databaseUrl, config.poolMax, onPoolError, { name: "iepgen-worker", tenant: true }) : undefined;
  registerPool("api", pool);
  if (workerPool) registerPool("worker", workerPool);
  const geminiServices = startGeminiServices(config.databaseUrl, config.gemini.quota, logger);
  const gemini = createGemini(config.gemini, logger, geminiServices);
  const bus = startEventBus(config.databaseUrl, logger);
  const running = createRunningGenerations(bus.pubsub);
  const runnerId = randomUUID();
  const recovery = { ...DEFAULT_RECOVERY, ...config.recovery };
  const eventLoop = startEventLoopMonitor(logger);
  const evidenceFiles: EvidenceFileLimits = { ...DEFAULT_EVIDENCE_FILE_LIMITS, ...config.evidenceFiles };
  const extraction = new ExtractionPool({
    size: evidenceFiles.extractionThreads,
    limits: {
      maxPages: evidenceFiles.maxPages, budgetMs: evidenceFiles.extractionBudgetMs,
      maxImagePixels: evidenceFiles.maxImagePixels, maxUncompressedBytes: evidenceFiles.maxUncompressedBytes,
    },
    logger: logger.child({ component: "extraction" }),
  });
  const deps: AppDeps = {
    pool,
    gemini,
    pubsub: bus.pubsub,
    logger,
    running,
    runnerId,
    retry: config.retry,
    jwtSecret: config.jwtSecret,
    security,
    limits: {
      evidenceMaxChars: config.evidenceMaxChars, evidenceFiles,
      workerConcurrency: config.worker?.concurrency ?? config.workerConcurrencyHint ?? 4,
    },
    extraction,
  };
  let worker: WorkerHandle | undefined;
  const heartbeat = await startHeartbeat({
    pool, logger, id: runnerId, role: config.worker ? (config.api ? "all" : "worker") : "api",
    concurrency: config.worker?.concurrency ?? 0, intervalMs: recovery.heartbeatMs,
    state: () => ({ workerIds: worker?.workerIds() ?? [], runningIds: running.ids() }),
  });
  if (config.worker) worker = await startWorker({ ...deps, pool: workerPool! }, config.worker);
  const sweeper = worker
    ? startRecovery(workerPool!, logger, {
        deadAfterMs: recovery.deadAfterMs, sweepEveryMs: recovery.heartbeatMs, reconcileEveryMs: recovery.reconcileMs,
        mayJudge: () => heartbeat.healthyForMs() >= recovery.deadAfterMs,
      })
    : undefined;
  const health = () => checkHealth(pool, gemini, worker, eventLoop.snapshot());
  const app = createApp(deps, { health, production: config.production });
  const server = config.api
    ? await listen(app, {
        ...config.api,
        production: config.production,
        authorizeConnection: (params) =>
          authenticate(deps, typeof params.authorization === "string" ? params.authorization : undefined),
      })
    : undefined;
  await bus.ready();

  return {
    deps, app, pool, gemini, bus, worker, server, health, runnerId,
    async close() {
      await server?.close();
      await sweeper?.stop();
      await worker?.stop();
      await extraction.close();
      await heartbeat.stop();
      eventLoop.stop();
      await running.close();
      await bus.close();
      gemini.caller.breaker.shutdown();
      await geminiServices.close();
      await pool.end();
      await workerPool?.end();
    },
  };
}

async function checkHealth(pool: pg.Pool, gemini: Gemini, worker: WorkerHandle | undefined, eventLoop: EventLoopSnapshot): Promise<HealthReport> {
  const database = await Promise.race([
    pool.query("select 1").then(() => "up" as const),
    new Promise<"down">((resolve) => setTimeout(() => resolve("down"), 2000).unref()),
  ]).catch(() => "down" as const);
  const workerState = worker ? (worker.isRunning() ? "running" : "stopped") : "not-in-this-process";
  const breaker = gemini.caller.breaker;
  return {
    ok: database === "up" && workerState !== "stopped",
    database,
    worker: workerState,
    workerRestarts: worker?.restarts() ?? 0,
    eventLoop: { p50Ms: eventLoop.p50Ms, p99Ms: eventLoop.p99Ms, maxMs: eventLoop.maxMs },
    gemini: {
      mode: gemini.config.simulated ? "simulator" : gemini.config.baseUrl ? "custom-endpoint" : "google",
      breaker: breaker.opened ? "open" : breaker.halfOpen ? "half-open" : "closed",
    },
  };
}
