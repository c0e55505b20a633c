import { builder } from "../builder.ts";
import type { ActiveProcess, SchoolQueueFigures } from "../db/operations.ts";
import { badUserInput } from "../errors.ts";
import { cleanupGenerations, queueStats, type QueueStats } from "../services/operations.ts";

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

const QueueStatsRef = builder.objectRef<QueueStats>("QueueStats").implement({
  description: "The generation queue as an operator sees it: the caller's school's figures, and process-wide ones (breaker, workers).",
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
  }),
});

builder.queryField("queueStats", (t) =>
  t.field({
    type: QueueStatsRef,
    description: "ADMIN only: the generation queue's figures for the caller's school, this process's Gemini breaker and the live workers.",
    authScopes: { admin: true },
    resolve: (_root, _args, ctx) => queueStats(ctx.deps.pool, ctx.viewer, ctx.deps.gemini.caller),
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
