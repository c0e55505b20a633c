import type pg from "pg";
import type { Viewer } from "./auth.ts";
import type { PubSub } from "./events/bus.ts";
import type { Gemini } from "./gemini/client.ts";
import type { Logger } from "./logger.ts";
import type { RunningGenerations } from "./services/generation/running.ts";

/** Long-lived dependencies shared by every request and job in one process. */
export interface AppDeps {
  pool: pg.Pool;
  gemini: Gemini;
  pubsub: PubSub;
  logger: Logger;
  /** Generations running in this process (cancellation reaches them over NOTIFY). */
  running: RunningGenerations;
  /** How long a generation waits after a Gemini outage before trying again (default 30 s). */
  outageRetryDelayMs?: number;
  jwtSecret: string;
  limits: { evidenceMaxChars: number; workerConcurrency: number };
}

/** Per-request GraphQL context: who is calling (always authenticated) and a request-scoped logger. */
export interface GraphQLContext {
  viewer: Viewer;
  deps: AppDeps;
  logger: Logger;
}
