import type pg from "pg";
import type { AppDeps } from "./context.ts";
import { createPool } from "./db/pool.ts";
import { startEventBus, type EventBus } from "./events/bus.ts";
import { createGemini, type Gemini, type GeminiConfig } from "./gemini/client.ts";
import type { Logger } from "./logger.ts";
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
  production: boolean;
  gemini: GeminiConfig;
  logger: Logger;
  /** Run graphile-worker in this process. */
  worker?: WorkerOptions;
  /** How long a generation waits after a Gemini outage before trying again (default 30 s). */
  outageRetryDelayMs?: number;
  /** Worker concurrency assumed for queue estimates when the worker runs in another process. */
  workerConcurrencyHint?: number;
  /** Serve the API in this process. */
  api?: { host: string; port: number };
}

/** A started process: API and/or worker sharing one pool, one Gemini gateway and one event bus. */
export interface Runtime {
  readonly deps: AppDeps;
  readonly app: App;
  readonly pool: pg.Pool;
  readonly gemini: Gemini;
  readonly bus: EventBus;
  readonly worker?: WorkerHandle;
  readonly server?: ListeningServer;
  health(): Promise<HealthReport>;
  /** Graceful: stop accepting requests, let running jobs finish, then close connections. */
  close(): Promise<void>;
}

export async function startRuntime(config: RuntimeConfig): Promise<Runtime> {
  const { logger } = config;
  const pool = createPool(config.databaseUrl, config.poolMax, (error) => logger.warn({ err: error }, "idle database client error"));
  const gemini = createGemini(config.gemini, logger);
  const bus = startEventBus(config.databaseUrl, logger);
  const running = createRunningGenerations(bus.pubsub);
  const deps: AppDeps = {
    pool,
    gemini,
    pubsub: bus.pubsub,
    logger,
    running,
    outageRetryDelayMs: config.outageRetryDelayMs,
    jwtSecret: config.jwtSecret,
    limits: { evidenceMaxChars: config.evidenceMaxChars, workerConcurrency: config.worker?.concurrency ?? config.workerConcurrencyHint ?? 4 },
  };
  const worker = config.worker ? await startWorker(deps, config.worker) : undefined;
  const health = () => checkHealth(pool, gemini, worker);
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
    deps, app, pool, gemini, bus, worker, server, health,
    async close() {
      await server?.close();
      await worker?.stop();
      await running.close();
      await bus.close();
      gemini.caller.breaker.shutdown();
      await pool.end();
    },
  };
}

async function checkHealth(pool: pg.Pool, gemini: Gemini, worker: WorkerHandle | undefined): Promise<HealthReport> {
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
    gemini: {
      mode: gemini.config.simulated ? "simulator" : gemini.config.baseUrl ? "custom-endpoint" : "google",
      breaker: breaker.opened ? "open" : breaker.halfOpen ? "half-open" : "closed",
    },
  };
}
