import type pg from "pg";
import type { Viewer } from "./auth.ts";
import type { EvidenceFileLimits } from "./evidence-limits.ts";
import type { ExtractionPool } from "./extraction/index.ts";
import type { PubSub } from "./events/bus.ts";
import type { Gemini } from "./gemini/client.ts";
import type { RetryTimings } from "./jobs/retry-policy.ts";
import type { SecurityConfig } from "./security.ts";
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
  /** This process's id in worker_heartbeats, recorded on the generations and evidence it runs. */
  runnerId: string;
  /** How long failed or interrupted work waits before its next try (defaults: DEFAULT_RETRY_TIMINGS). */
  retry?: RetryTimings;
  jwtSecret: string;
  /** Token, CORS, request-limit and rate-limit settings (src/security.ts). */
  security: SecurityConfig;
  limits: { evidenceMaxChars: number; workerConcurrency: number; evidenceFiles: EvidenceFileLimits };
  /** Worker threads reading PDFs, DOCX and images (threads start on first use). */
  extraction: ExtractionPool;
}

/** Per-request GraphQL context: who is calling (always authenticated) and a request-scoped logger. */
export interface GraphQLContext {
  viewer: Viewer;
  deps: AppDeps;
  logger: Logger;
}
