/**
 * Prometheus metrics: one prom-client registry per process, served as /metrics by the API (yoga
 * plugin, src/http/metrics.ts) and by a worker-only process's health listener (src/server.ts).
 * Code elsewhere calls the small `observe…` functions; figures that live in Postgres (generations by
 * status, queue depth and age) and in objects (pools, breakers) are read when scraped.
 */
import type pg from "pg";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** The process's registry (default Node metrics included: event-loop lag, heap, GC, handles). */
export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: "iepgen_process_", eventLoopMonitoringPrecision: 20 });

/** The Content-Type of {@link renderMetrics}'s text. */
export const METRICS_CONTENT_TYPE = registry.contentType;

const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

const httpDuration = new Histogram({
  name: "iepgen_http_request_duration_seconds", help: "HTTP request latency, by method, route and status",
  labelNames: ["method", "route", "status"], buckets: SECONDS, registers: [registry],
});
const graphqlDuration = new Histogram({
  name: "iepgen_graphql_operation_duration_seconds", help: "GraphQL query and mutation execution latency, by operation name",
  labelNames: ["operation_name", "operation_type", "outcome"], buckets: SECONDS, registers: [registry],
});
const activeSubscriptions = new Gauge({
  name: "iepgen_graphql_active_subscriptions", help: "Open GraphQL subscription streams, by transport (sse, graphql-ws)",
  labelNames: ["transport"], registers: [registry],
});
const jobDuration = new Histogram({
  name: "iepgen_job_duration_seconds", help: "graphile-worker job run time, by task and outcome",
  labelNames: ["task", "outcome"], buckets: SECONDS, registers: [registry],
});
const extractionDuration = new Histogram({
  name: "iepgen_extraction_duration_seconds", help: "Reading one evidence file's text (PDF, DOCX, OCR), by media type and outcome",
  labelNames: ["media_type", "outcome"], buckets: [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600], registers: [registry],
});
const extractionPages = new Counter({
  name: "iepgen_extraction_pages_total", help: "Pages read from evidence files, by media type",
  labelNames: ["media_type"], registers: [registry],
});
const jobQueueWait = new Histogram({
  name: "iepgen_job_queue_wait_seconds", help: "Time from a job becoming due (run_at) to a worker starting it, by task",
  labelNames: ["task"], buckets: SECONDS, registers: [registry],
});
const geminiDuration = new Histogram({
  name: "iepgen_gemini_call_duration_seconds", help: "Gemini call latency (retries included), by operation and outcome",
  labelNames: ["operation", "outcome"], buckets: SECONDS, registers: [registry],
});
const geminiErrors = new Counter({
  name: "iepgen_gemini_errors_total",
  help: "Gemini errors by operation and kind: transient (retried), unavailable, quota_exhausted, failed, request, breaker_open, aborted",
  labelNames: ["operation", "kind"], registers: [registry],
});
const geminiQuotaWait = new Histogram({
  name: "iepgen_gemini_quota_wait_seconds", help: "Time a Gemini request waited for a shared rate-limit slot (GEMINI_RPM/TPM), by operation",
  labelNames: ["operation"], buckets: [0, ...SECONDS], registers: [registry],
});
const geminiTokens = new Counter({
  name: "iepgen_gemini_tokens_total", help: "Tokens Gemini reported (usageMetadata), by operation and direction (prompt, output)",
  labelNames: ["operation", "direction"], registers: [registry],
});

/** Circuit breakers to report, by name (the latest registered under a name wins). */
const breakers = new Map<string, { opened: boolean; halfOpen: boolean }>();
new Gauge({
  name: "iepgen_gemini_breaker_state", help: "Circuit breaker state: 0 closed, 1 open, 2 half-open",
  labelNames: ["breaker"], registers: [registry],
  collect() {
    this.reset();
    for (const [name, breaker] of breakers) this.set({ breaker: name }, breaker.halfOpen ? 2 : breaker.opened ? 1 : 0);
  },
});

/** Pools to report, by role ("api", "worker"); an ended pool is dropped. */
const pools = new Map<string, pg.Pool>();
new Gauge({
  name: "iepgen_db_pool_connections", help: "Postgres pool connections by pool and state (total, idle, waiting = queued requests)",
  labelNames: ["pool", "state"], registers: [registry],
  collect() {
    this.reset();
    for (const [name, pool] of livePools()) {
      this.set({ pool: name, state: "total" }, pool.totalCount);
      this.set({ pool: name, state: "idle" }, pool.idleCount);
      this.set({ pool: name, state: "waiting" }, pool.waitingCount);
    }
  },
});

const statements = new Counter({
  name: "iepgen_db_statements_total", help: "SQL statements sent to Postgres, by pool (transaction control and session settings included)",
  labelNames: ["pool"], registers: [registry],
});

const generations = new Gauge({
  name: "iepgen_generations", help: "Generations by status, across every school", labelNames: ["status"], registers: [registry],
});
const queueDepth = new Gauge({
  name: "iepgen_queue_depth", help: "graphile-worker jobs due and not locked, by task", labelNames: ["task"], registers: [registry],
});
const queueOldest = new Gauge({
  name: "iepgen_queue_oldest_age_seconds", help: "Age of the oldest due, unlocked job (0 when none)", registers: [registry],
});
const STATUSES = ["QUEUED", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED"];

/** One owner-role query for the database figures; errors leave them unreported for this scrape. */
async function collectDatabase(): Promise<void> {
  const pool = livePools().find(([name]) => name === "api")?.[1] ?? livePools()[0]?.[1];
  generations.reset();
  queueDepth.reset();
  queueOldest.reset();
  if (!pool) return;
  const { rows } = await pool.query<{ kind: string; label: string; value: string }>(
    `select 'generation' as kind, status::text as label, count(*)::text as value from generations group by status
     union all
     select 'queue', task_identifier, count(*)::text from graphile_worker.jobs
      where locked_at is null and run_at <= now() and attempts < max_attempts group by task_identifier
     union all
     select 'oldest', '', coalesce(extract(epoch from now() - min(run_at)), 0)::text from graphile_worker.jobs
      where locked_at is null and run_at <= now() and attempts < max_attempts`);
  for (const status of STATUSES) generations.set({ status }, 0);
  for (const row of rows) {
    if (row.kind === "generation") generations.set({ status: row.label }, Number(row.value));
    else if (row.kind === "queue") queueDepth.set({ task: row.label }, Number(row.value));
    else queueOldest.set(Number(row.value));
  }
}

function livePools(): [string, pg.Pool][] {
  for (const [name, pool] of pools) if (pool.ending || pool.ended) pools.delete(name);
  return [...pools];
}

/** Reports a pool's usage under `name` (and, for the first one, runs the database figures on it). */
export function registerPool(name: string, pool: pg.Pool): void {
  pools.set(name, pool);
}

/** Counts one statement sent on a client of the pool named `pool` (src/db/pool.ts calls it). */
export function countStatement(pool: string): void {
  statements.inc({ pool });
}

/** Reports a circuit breaker's state under `name`. */
export function registerBreaker(name: string, breaker: { opened: boolean; halfOpen: boolean }): void {
  breakers.set(name, breaker);
}

/** The exposition text (Prometheus text format 0.0.4). */
export async function renderMetrics(): Promise<string> {
  await collectDatabase().catch(() => undefined);
  return registry.metrics();
}

export function observeHttp(method: string, route: string, status: number, ms: number): void {
  httpDuration.observe({ method, route, status: String(status) }, ms / 1000);
}

/** Operation names are the client's: past this many distinct ones, new names are reported as "other". */
const MAX_OPERATION_NAMES = 200;
const operationNames = new Set<string>();

export function observeGraphql(operationName: string, operationType: string, outcome: "ok" | "error", ms: number): void {
  let name = operationName.slice(0, 100);
  if (!operationNames.has(name)) {
    if (operationNames.size < MAX_OPERATION_NAMES) operationNames.add(name);
    else name = "other";
  }
  graphqlDuration.observe({ operation_name: name, operation_type: operationType, outcome }, ms / 1000);
}

/** Counts a subscription stream open; call the returned function once when it ends. */
export function trackSubscription(transport: "sse" | "graphql-ws"): () => void {
  activeSubscriptions.inc({ transport });
  let ended = false;
  return () => {
    if (ended) return;
    ended = true;
    activeSubscriptions.dec({ transport });
  };
}

export function observeJob(task: string, outcome: "ok" | "error", durationMs: number, queueWaitMs: number): void {
  jobDuration.observe({ task, outcome }, durationMs / 1000);
  jobQueueWait.observe({ task }, Math.max(0, queueWaitMs) / 1000);
}

/** One file's extraction: its media type, `ok` or the failure code (TIMED_OUT, ENCRYPTED, …), time and pages read. */
export function observeExtraction(mediaType: string, outcome: string, ms: number, pages: number): void {
  extractionDuration.observe({ media_type: mediaType, outcome }, ms / 1000);
  if (pages > 0) extractionPages.inc({ media_type: mediaType }, pages);
}

export function observeGeminiCall(operation: string, outcome: "ok" | "error", ms: number): void {
  geminiDuration.observe({ operation, outcome }, ms / 1000);
}

export function countGeminiError(
  operation: string,
  kind: "transient" | "unavailable" | "quota_exhausted" | "failed" | "request" | "breaker_open" | "aborted",
): void {
  geminiErrors.inc({ operation, kind });
}

/** One rate-limit slot granted after waiting `ms` (0 when free at once). */
export function observeGeminiQuotaWait(operation: string, ms: number): void {
  geminiQuotaWait.observe({ operation }, ms / 1000);
}

/** Adds Gemini's reported token counts (usageMetadata), when present. */
export function countGeminiTokens(operation: string, usage: { promptTokenCount?: number; candidatesTokenCount?: number } | undefined): void {
  if (usage?.promptTokenCount) geminiTokens.inc({ operation, direction: "prompt" }, usage.promptTokenCount);
  if (usage?.candidatesTokenCount) geminiTokens.inc({ operation, direction: "output" }, usage.candidatesTokenCount);
}
