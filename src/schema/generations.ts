import { builder } from "../builder.ts";
import { audit } from "../services/audit.ts";
import { clearAllDataLoaders } from "@pothos/plugin-dataloader";
import type { GraphQLContext } from "../context.ts";
import { findGeneration, findGenerationsByIds, GENERATION_STAGES, TERMINAL_STATUSES, listEventsForGenerations, listAccessibleGenerations, type Generation, type GenerationEvent, type GenerationStage } from "../db/generations.ts";
import { badUserInput } from "../errors.ts";
import { estimateGeneration, typicalDurationSeconds } from "../services/generation/estimate.ts";
import { retryGeneration } from "../services/generation/request.ts";
import { streamGenerationEvents, type GenerationEventView } from "../services/generation/stream.ts";
import { IepRef, IepSectionKindEnum } from "./ieps.ts";
import { isUuid } from "../ids.ts";
import { assignedTo } from "../services/assignments.ts";
import { StudentRef } from "./students.ts";
import { watchAccess } from "./access.ts";

const GenerationStatusEnum = builder.enumType("GenerationStatus", {
  values: {
    QUEUED: { description: "Waiting for a worker (also between attempts after a transient failure)." },
    RUNNING: { description: "A worker is retrieving evidence, drafting, validating or saving." },
    SUCCEEDED: { description: "The IEP draft is saved; see `iep`." },
    FAILED: { description: "Gave up; see `error`. retryGeneration queues it again." },
    CANCELLED: { description: "Cancelled on request. retryGeneration queues it again." },
  },
});
const STAGE_DESCRIPTIONS: Record<GenerationStage, string> = {
  queued: "Waiting for a worker.",
  starting: "An attempt begins; `attempts` went up.",
  retrieving: "Hybrid search over the student's READY evidence.",
  drafting: "Gemini streams the draft (text arrives as `textDelta`).",
  repairing: "The draft failed validation; the model is asked once to repair it.",
  validating: "Checking the draft against the IEP schema, IDEA §300.320 and its citations.",
  saving: "Saving the IEP and SUCCEEDED in one transaction.",
  done: "Terminal: the IEP draft is saved.",
  failed: "Terminal: gave up; see `error`.",
  cancelled: "Terminal: cancelled on request.",
  waiting_to_retry: "QUEUED after a failed attempt; retried with exponential backoff.",
  waiting_for_gemini: "QUEUED while Gemini is unavailable; does not use up an attempt.",
  waiting_for_database: "QUEUED after the database was unreachable mid-run; does not use up an attempt.",
  interrupted: "QUEUED after its worker shut down mid-run; does not use up an attempt.",
  recovered: "QUEUED after the worker running it stopped beating (crashed); the crashed attempt counts.",
};

/** Stages in GraphQL: the stored value upper-cased (waiting_for_gemini → WAITING_FOR_GEMINI). */
export const GenerationStageEnum = builder.enumType("GenerationStage", {
  values: Object.fromEntries(GENERATION_STAGES.map((stage) => [stage.toUpperCase(), { value: stage, description: STAGE_DESCRIPTIONS[stage] }])) as
    Record<Uppercase<GenerationStage>, { value: GenerationStage; description: string }>,
});

const GenerationKindEnum = builder.enumType("GenerationKind", {
  values: {
    FULL_IEP: { description: "Drafts a whole IEP." },
    SECTION: { description: "Redrafts one section of an existing IEP into a new version." },
  },
});

/** Loaded in batches per request (iep.generation, event.generation). */
export const GenerationRef = builder.loadableObjectRef("Generation", {
  load: (ids: string[], ctx: GraphQLContext) => findGenerationsByIds(ctx.deps.pool, ctx.viewer.schoolId, ids),
  sort: (generation) => generation.id,
  cacheResolved: (generation) => generation.id,
});
const GenerationEventRef = builder.objectRef<GenerationEventView>("GenerationEvent");

GenerationRef.implement({
  authScopes: (generation) => ({ student: generation.student_id }),
  description: "An IEP generation job as the product sees it (the source of truth for status and progress).",
  fields: (t) => ({
    id: t.exposeID("id"),
    kind: t.field({ type: GenerationKindEnum, resolve: (g) => g.kind }),
    status: t.field({ type: GenerationStatusEnum, resolve: (g) => g.status }),
    progress: t.exposeFloat("progress", { description: "0 to 1." }),
    stage: t.field({ type: GenerationStageEnum, description: "Where it is within its status (see GenerationStage).", resolve: (g) => g.stage }),
    message: t.exposeString("message", { nullable: true, description: "What is happening, for people." }),
    attempts: t.exposeInt("attempts"),
    maxAttempts: t.exposeInt("max_attempts"),
    error: t.exposeString("error", { nullable: true }),
    priority: t.exposeInt("priority", { description: "graphile-worker priority: smaller runs first." }),
    academicYear: t.exposeString("academic_year"),
    instructions: t.exposeString("instructions", { nullable: true }),
    section: t.field({ type: IepSectionKindEnum, nullable: true, resolve: (g) => g.section_kind as never }),
    batchId: t.exposeID("batch_id", { nullable: true }),
    lastSeq: t.exposeInt("last_seq", { description: "The seq of the latest stored event (resume subscriptions from here)." }),
    createdAt: t.field({ type: "DateTime", resolve: (g) => g.created_at }),
    startedAt: t.field({ type: "DateTime", nullable: true, resolve: (g) => g.started_at }),
    finishedAt: t.field({ type: "DateTime", nullable: true, resolve: (g) => g.finished_at }),
    archivedAt: t.field({
      type: "DateTime",
      nullable: true,
      description: "When it was archived (finished longer ago than the retention): its events and instructions are gone, this row stays as a summary.",
      resolve: (g) => g.archived_at,
    }),
    queuePosition: t.int({
      nullable: true,
      description: "1 = next to run. Only while QUEUED.",
      resolve: async (g, _args, ctx) => (await estimate(ctx, g)).queuePosition,
    }),
    estimatedCompletionAt: t.field({
      type: "DateTime",
      nullable: true,
      description: "Estimated completion, from recent run times. Only while QUEUED or RUNNING.",
      resolve: async (g, _args, ctx) => (await estimate(ctx, g)).estimatedCompletionAt,
    }),
    student: t.field({ type: StudentRef, resolve: (g) => g.student_id }),
    iep: t.field({
      type: IepRef,
      nullable: true,
      description: "The IEP this generation saved (once SUCCEEDED).",
      resolve: (g) => g.iep_id,
    }),
    baseIep: t.field({
      type: IepRef,
      nullable: true,
      description: "For SECTION generations: the IEP whose section is redrafted.",
      resolve: (g) => g.base_iep_id,
    }),
    events: t.loadableGroup({
      type: GenerationEventRef,
      description: "Stored events after `afterSeq`, in seq order (text deltas are live only).",
      args: { afterSeq: t.arg.int() },
      byPath: true,
      load: async (generationIds: string[], ctx: GraphQLContext, args) =>
        (await listEventsForGenerations(ctx.deps.pool, ctx.viewer.schoolId, generationIds, args.afterSeq ?? 0)).map(toEventView),
      group: (event) => event.generationId,
      resolve: (g) => g.id,
    }),
  }),
});

function toEventView(e: GenerationEvent): GenerationEventView {
  return { generationId: e.generation_id, seq: e.seq, status: e.status, progress: e.progress, stage: e.stage,
    message: e.message, textDelta: null, at: e.created_at };
}

const estimates = new WeakMap<Generation, ReturnType<typeof estimateGeneration>>();
const typicalDurations = new WeakMap<GraphQLContext, Promise<number>>();

/** A generation's estimate, computed once per row, with the typical duration read once per request. */
function estimate(ctx: GraphQLContext, generation: Generation) {
  if (!typicalDurations.has(ctx)) typicalDurations.set(ctx, typicalDurationSeconds(ctx.deps.pool));
  if (!estimates.has(generation)) {
    estimates.set(generation, typicalDurations.get(ctx)!.then((meanSeconds) =>
      estimateGeneration(ctx.deps.pool, generation, { workerConcurrency: ctx.deps.limits.workerConcurrency, meanSeconds })));
  }
  return estimates.get(generation)!;
}

GenerationEventRef.implement({
  description: "One step of a generation. Stored events have strictly increasing seq; a text delta repeats the latest stored seq.",
  fields: (t) => ({
    seq: t.exposeInt("seq"),
    status: t.field({ type: GenerationStatusEnum, resolve: (e) => e.status }),
    progress: t.exposeFloat("progress"),
    stage: t.field({ type: GenerationStageEnum, resolve: (e) => e.stage }),
    message: t.exposeString("message", { nullable: true }),
    textDelta: t.exposeString("textDelta", { nullable: true, description: "Streamed draft text (live only, never stored)." }),
    at: t.field({ type: "DateTime", resolve: (e) => e.at }),
    generation: t.field({
      type: GenerationRef,
      description: "The generation as of this event: status, stage, progress, message and lastSeq are the event's; the other fields are the generation's row as read when the subscription started (and again at the terminal event). A normalised cache therefore sees its Generation reach SUCCEEDED when the stream ends.",
      resolve: (e, _args, ctx) => generationAsOf(e, ctx),
    }),
  }),
});

/**
 * The generation as of an event, with no read per event: the row comes from the request's
 * dataloader (primed by `generationEvents`' subscribe, cleared once at the terminal event so the
 * final iep, error and finishedAt are read once).
 */
async function generationAsOf(e: GenerationEventView, ctx: GraphQLContext): Promise<Generation> {
  const row = await GenerationRef.getDataloader(ctx).load(e.generationId);
  if (!row) throw new Error(`Generation ${e.generationId} was not found`);
  return { ...row, status: e.status, stage: e.stage, progress: e.progress, message: e.message, last_seq: e.seq };
}

builder.objectField(IepRef, "generation", (t) =>
  t.field({
    type: GenerationRef,
    nullable: true,
    resolve: (iep) => iep.generation_id,
  }),
);

const GenerationFilterRef = builder.inputType("GenerationFilter", {
  fields: (t) => ({
    status: t.field({ type: [GenerationStatusEnum] }),
    studentId: t.id(),
    batchId: t.id(),
  }),
});

const GenerationConnection = builder.connectionObject({ type: GenerationRef, name: "GenerationConnection" }, { name: "GenerationEdge" });

builder.queryFields((t) => ({
  generation: t.field({
    type: GenerationRef,
    nullable: true,
    description: "A generation of a student on the caller's caseload; each read is recorded in the audit log (VIEWED).",
    authScopes: (_root, { id }) => (isUuid(id) ? { generation: id } : { staff: true }),
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, ctx) => {
      const generation = isUuid(id) ? await findGeneration(ctx.deps.pool, ctx.viewer.schoolId, id) : undefined;
      if (generation) await audit(ctx.deps.pool, ctx.viewer, ctx.logger, "VIEWED", "GENERATION", [{ id: generation.id, studentId: generation.student_id }]);
      return generation ?? null;
    },
  }),
  generations: t.field({
    type: GenerationConnection,
    description: "The generations of the students the caller may see (ADMIN: the whole school), newest first. `first` is 1–100 (default 20).",
    authScopes: { staff: true },
    args: { filter: t.arg({ type: GenerationFilterRef }), first: t.arg.int(), after: t.arg.string() },
    resolve: async (_root, args, ctx) => {
      const first = args.first ?? 20;
      if (first < 1 || first > 100) throw badUserInput("first must be between 1 and 100", ["first"]);
      if (args.after && !isUuid(args.after)) throw badUserInput("after is not a cursor from this list", ["after"]);
      for (const key of ["studentId", "batchId"] as const) {
        const value = args.filter?.[key];
        if (value && !isUuid(value)) throw badUserInput(`${key} must be an id`, ["filter", key]);
      }
      const rows = await listAccessibleGenerations(ctx.deps.pool, ctx.viewer.schoolId, assignedTo(ctx.viewer), {
        statuses: args.filter?.status ?? null, studentId: args.filter?.studentId ?? null, batchId: args.filter?.batchId ?? null,
      }, first + 1, args.after ?? null);
      const page = rows.slice(0, first);
      return {
        edges: page.map((g) => ({ node: g, cursor: g.id })),
        pageInfo: { hasNextPage: rows.length > first, hasPreviousPage: Boolean(args.after),
          startCursor: page[0]?.id ?? null, endCursor: page.at(-1)?.id ?? null },
      };
    },
  }),
}));

builder.subscriptionFields((t) => ({
  generationEvents: t.field({
    type: GenerationEventRef,
    description: "A generation's events after `afterSeq` (stored ones replayed, then live, text deltas included); completes after the terminal event. Reconnect with the last seq you saw to miss nothing.",
    authScopes: (_root, args) => ({ generation: args.id }),
    args: { id: t.arg.id({ required: true }), afterSeq: t.arg.int({ defaultValue: 0 }) },
    subscribe: async (_root, args, ctx) => {
      const generation = isUuid(args.id) ? await findGeneration(ctx.deps.pool, ctx.viewer.schoolId, args.id) : undefined;
      if (!generation) throw badUserInput(`Generation ${args.id} was not found`, ["id"]);
      if ((args.afterSeq ?? 0) < 0) throw badUserInput("afterSeq must be 0 or more", ["afterSeq"]);
      // Past the latest stored event nothing could ever match (not even the terminal one): it would never complete.
      if ((args.afterSeq ?? 0) > generation.last_seq) {
        throw badUserInput(`afterSeq must be at most the generation's lastSeq (${generation.last_seq})`, ["afterSeq"]);
      }
      GenerationRef.getDataloader(ctx).prime(generation.id, generation);
      const events = streamGenerationEvents(ctx.deps.pool, ctx.deps.pubsub, { schoolId: ctx.viewer.schoolId, generationId: generation.id, archived: generation.archived_at !== null }, args.afterSeq ?? 0);
      return watchAccess(ctx, events, { kind: "generation", id: generation.id });
    },
    resolve: (event, _args, ctx) => {
      // Nested data is read once per subscription, and once more for the terminal event (the final state).
      if (TERMINAL_STATUSES.includes(event.status) && event.textDelta === null) clearAllDataLoaders(ctx);
      return event;
    },
  }),
}));

