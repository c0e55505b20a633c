import { builder } from "../builder.ts";
import type { ActiveProcess, SchoolQueueFigures } from "../db/operations.ts";
import { badUserInput } from "../errors.ts";
import type { GeminiKindCount } from "../db/gemini.ts";
import { cleanupGenerations, queueStats, type GeminiFigures, type QueueStats } from "../services/operations.ts";

const BreakerStateEnum = builder.enumType("GeminiBreakerState", {
  description: "The Gemini circuit breaker of the process that answered.",
  values: {
    CLOSED: { description: "Calls go through." },
    OPEN: { description: "Gemini looked down: calls fail fast and generations wait (waiting_for_gemini) without using attempts." },
    HALF_OPEN: { description: "Trying Gemini again with the next call." },
  },
});

const StatusCountsRef = builder.objectRef<SchoolQueueFigures["byStatus"]>("GenerationStatusCounts").implement({
  description: "How many of the school's generations are in each status (archived ones included).",
  fields: (t) => ({
    queued: t.exposeInt("QUEUED"),
    running: t.exposeInt("RUNNING"),
    succeeded: t.exposeInt("SUCCEEDED"),
    failed: t.exposeInt("FAILED"),
    cancelled: t.exposeInt("CANCELLED"),
  }),
});

const PercentilesRef = builder.objectRef<{ p50: number | null; p95: number | null }>("SecondsPercentiles").implement({
  description: "Percentiles in seconds; null when nothing was measured.",
  fields: (t) => ({
    p50: t.exposeFloat("p50", { nullable: true }),
    p95: t.exposeFloat("p95", { nullable: true }),
  }),
});

const WorkerProcessRef = builder.objectRef<ActiveProcess>("WorkerProcess").implement({
  description: "An iepgen process that beats in worker_heartbeats (one silent past the dead-after time is swept).",
  fields: (t) => ({
    id: t.exposeID("id"),
    role: t.exposeString("role", { description: "api, worker or all." }),
    host: t.exposeString("host"),
    pid: t.exposeInt("pid"),
    concurrency: t.exposeInt("concurrency"),
    running: t.exposeInt("running", { description: "Generations it is running now (any school's)." }),
    lastSeenAt: t.field({ type: "DateTime", resolve: (p) => p.last_seen_at }),
  }),
});

const GeminiOperationEnum = builder.enumType("GeminiOperation", {
  description: "What a Gemini call was for.",
  values: {
    EMBED: { value: "embed", description: "Embedding evidence chunks or search queries (one batch request per call)." },
    DRAFT: { value: "draft", description: "Drafting an IEP (a streamed structured-output request)." },
  },
});

const GEMINI_CALL_KINDS = {
  OK: { value: "ok", description: "The call succeeded (perhaps after retries)." },
  TRANSIENT: { value: "transient", description: "A failure retried within the call (429, 5xx, timeout, malformed answer); not a call of its own." },
  QUOTA_WAIT: { value: "quota_wait", description: "A request that waited for a rate-limit slot (GEMINI_RPM/TPM) before being sent; not a call of its own." },
  UNAVAILABLE: { value: "unavailable", description: "The call ended because Gemini was down for everyone (429/5xx/unreachable past the retries): the draft waits without using an attempt." },
  QUOTA_EXHAUSTED: { value: "quota_exhausted", description: "The call got no rate-limit slot within GEMINI_QUOTA_WAIT_MS: the draft waits without using an attempt." },
  FAILED: { value: "failed", description: "The call's own failure outlasted the retries (malformed output, timeouts, a cut stream): the attempt counts." },
  REQUEST: { value: "request", description: "Gemini rejected the request (bad request, auth, not found): retrying cannot help." },
  BREAKER_OPEN: { value: "breaker_open", description: "Skipped: the circuit breaker was open." },
  ABORTED: { value: "aborted", description: "Aborted by its caller (a cancellation or shutdown)." },
} as const;
const KNOWN_KINDS = new Set<string>(Object.values(GEMINI_CALL_KINDS).map((kind) => kind.value));

const GeminiCallKindEnum = builder.enumType("GeminiCallKind", {
  description: "How a Gemini call ended, or what happened within one.",
  values: GEMINI_CALL_KINDS,
});

const GeminiCallCountRef = builder.objectRef<GeminiKindCount>("GeminiCallCount").implement({
  description: "How many times Gemini calls of one operation ended, or met something, of one kind in the last hour.",
  fields: (t) => ({
    operation: t.field({ type: GeminiOperationEnum, resolve: (c) => c.operation as "embed" | "draft" }),
    kind: t.field({ type: GeminiCallKindEnum, resolve: (c) => c.kind as (typeof GEMINI_CALL_KINDS)[keyof typeof GEMINI_CALL_KINDS]["value"] }),
    count: t.exposeInt("count"),
  }),
});

const GeminiRateLimitRef = builder.objectRef<GeminiFigures["rateLimit"]>("GeminiRateLimit").implement({
  description: "The Gemini rate limit shared by every process through Postgres: requests wait for a slot instead of drawing 429s.",
  fields: (t) => ({
    requestsPerMinute: t.int({ nullable: true, description: "GEMINI_RPM of the process that answered; null: no request limit.", resolve: (r) => r.rpm }),
    tokensPerMinute: t.int({ nullable: true, description: "GEMINI_TPM (estimated prompt tokens) of the process that answered; null: no token limit.", resolve: (r) => r.tpm }),
    waitBudgetMs: t.int({ nullable: true, description: "GEMINI_QUOTA_WAIT_MS: how long one call may wait for slots before its draft is requeued (no attempt used); null when no limit is set.", resolve: (r) => r.waitMs }),
    grantedLastMinute: t.int({ description: "Requests granted a slot in the last 60 s, by every process (nothing is recorded without a limit).", resolve: (r) => r.granted_last_minute }),
    tokensLastMinute: t.int({ description: "Estimated prompt tokens of those requests.", resolve: (r) => r.tokens_last_minute }),
    reservedAhead: t.int({ description: "Requests holding a slot later than now: they are waiting for it.", resolve: (r) => r.reserved_ahead }),
  }),
});

const GeminiStatsRef = builder.objectRef<GeminiFigures>("GeminiStats").implement({
  description: "Gemini calls of every iepgen process in the last hour (each process adds its counts every few seconds), and the shared rate limit.",
  fields: (t) => ({
    calls: t.exposeInt("calls", { description: "Calls that ended in the last hour, successfully or not (a call's retries are part of it)." }),
    errors: t.exposeInt("errors", { description: "Of those, the calls that ended in an error (every kind but OK, TRANSIENT and QUOTA_WAIT)." }),
    byKind: t.field({
      type: [GeminiCallCountRef],
      description: "Counts by operation and kind, including TRANSIENT retries and QUOTA_WAITs.",
      resolve: (g) => g.byKind.filter((count) => KNOWN_KINDS.has(count.kind) && (count.operation === "embed" || count.operation === "draft")),
    }),
    rateLimit: t.field({ type: GeminiRateLimitRef, resolve: (g) => g.rateLimit }),
  }),
});

const QueueStatsRef = builder.objectRef<QueueStats>("QueueStats").implement({
  description: "The generation queue as an operator sees it: the caller's school's figures, and process-wide ones (breaker, workers, Gemini calls and rate limit).",
  fields: (t) => ({
    generationsByStatus: t.field({ type: StatusCountsRef, resolve: (s) => s.school.byStatus }),
    oldestQueuedSeconds: t.float({ nullable: true, description: "Age of the school's oldest QUEUED generation (since it was requested).", resolve: (s) => s.school.oldest_queued_seconds }),
    finishedLastHour: t.int({ description: "The school's generations that reached SUCCEEDED, FAILED or CANCELLED in the last hour.", resolve: (s) => s.school.finished_last_hour }),
    retriesLastHour: t.int({ description: "The school's generations started in the last hour on their second or later attempt.", resolve: (s) => s.school.retried_last_hour }),
    durationSeconds: t.field({
      type: PercentilesRef,
      description: "Run time (finished − started, of the last attempt) of generations finished in the last hour.",
      resolve: (s) => ({ p50: s.school.duration_p50, p95: s.school.duration_p95 }),
    }),
    queueWaitSeconds: t.field({
      type: PercentilesRef,
      description: "Queue wait (started − requested) of generations started in the last hour.",
      resolve: (s) => ({ p50: s.school.wait_p50, p95: s.school.wait_p95 }),
    }),
    breaker: t.field({ type: BreakerStateEnum, resolve: (s) => s.breaker }),
    workers: t.field({ type: [WorkerProcessRef], description: "Every live iepgen process, most recently seen first.", resolve: (s) => s.processes }),
    gemini: t.field({ type: GeminiStatsRef, description: "Gemini calls and errors by kind in the last hour (every process), and the shared rate limit.", resolve: (s) => s.gemini }),
  }),
});

builder.queryField("queueStats", (t) =>
  t.field({
    type: QueueStatsRef,
    description: "ADMIN only: the generation queue's figures for the caller's school, this process's Gemini breaker, the live workers, and Gemini calls and the rate limit of every process.",
    authScopes: { admin: true },
    resolve: (_root, _args, ctx) => queueStats(ctx.deps.pool, ctx.viewer, ctx.deps.gemini),
  }),
);

builder.mutationField("cleanupGenerations", (t) =>
  t.int({
    description: "ADMIN only: archives the school's finished generations (SUCCEEDED, FAILED, CANCELLED) that finished more than `olderThanDays` ago: their events and instructions are removed, the row stays as a summary, IEPs are kept. Returns how many were archived. A daily task does the same for every school (GENERATION_RETENTION_DAYS).",
    authScopes: { admin: true },
    args: { olderThanDays: t.arg.int({ required: true }) },
    resolve: (_root, { olderThanDays }, ctx) => {
      if (olderThanDays < 1 || olderThanDays > 36_500) throw badUserInput("olderThanDays must be between 1 and 36500", ["olderThanDays"]);
      return cleanupGenerations(ctx.deps.pool, ctx.logger, olderThanDays, ctx.viewer.schoolId);
    },
  }),
);
