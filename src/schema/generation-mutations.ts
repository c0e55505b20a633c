/** Generation mutations: request (async or inline), redraft a section, cancel, retry. */
import { builder } from "../builder.ts";
import type { GraphQLContext } from "../context.ts";
import type { Generation } from "../db/generations.ts";
import { InvalidStateError, NotFoundError, RateLimitedError, ValidationError } from "../errors.ts";
import { cancelGeneration, requestIepGeneration, requestSectionGeneration, retryGeneration, type RequestedGeneration } from "../services/generation/request.ts";
import { runGeneration } from "../services/generation/run.ts";
import { EvidenceKindEnum } from "./evidence.ts";
import { IepSectionKindEnum } from "./ieps.ts";
import { GenerationRef } from "./generations.ts";

const GenerateIepSuccess = builder.objectRef<RequestedGeneration>("GenerateIepSuccess").implement({
  fields: (t) => ({
    generation: t.field({ type: GenerationRef, resolve: (r) => r.generation }),
    created: t.exposeBoolean("created", { description: "False when an idempotency key returned an existing generation." }),
  }),
});

/** Shared by generateIep, regenerateIepSection and retryGeneration; listed errors are returned as members. */
const GenerateIepPayload = builder.errorUnion("GenerateIepPayload", {
  types: [GenerateIepSuccess, ValidationError, NotFoundError, InvalidStateError, RateLimitedError],
  resolveType: () => "GenerateIepSuccess",
});

const CancelGenerationSuccess = builder.objectRef<{ cancelled: Generation }>("CancelGenerationSuccess").implement({
  fields: (t) => ({ generation: t.field({ type: GenerationRef, resolve: (r) => r.cancelled }) }),
});
const CancelGenerationPayload = builder.errorUnion("CancelGenerationPayload", {
  types: [CancelGenerationSuccess, NotFoundError, InvalidStateError],
  resolveType: () => "CancelGenerationSuccess",
});

const GenerateIepInputRef = builder.inputType("GenerateIepInput", {
  fields: (t) => ({
    studentId: t.id({ required: true }),
    academicYear: t.string({ description: "e.g. 2026-2027; defaults to the school year of the effective (or meeting) date, else today's." }),
    instructions: t.string({ description: "Extra guidance for the drafter (at most 2,000 characters)." }),
    idempotencyKey: t.string({ description: "The same key from the same user returns the existing generation." }),
    priority: t.int({ description: "graphile-worker priority, -100..100: smaller runs first (default 0)." }),
    ...iepOptionFields(t),
  }),
});

/**
 * The IEP a FULL_IEP request drafts: its template, dates and evidence kinds (generateIep and
 * generateIeps). Bad dates are a ValidationError; a template the school may not use, a NotFoundError.
 */
export function iepOptionFields(t: PothosSchemaTypes.InputFieldBuilder<SchemaTypes, "InputObject">) {
  return {
    templateId: t.id({ description: "An IEP template of the school (its latest version is used and recorded); default: the built-in §300.320 one." }),
    meetingDate: t.field({ type: "LocalDate", description: "Default: today within the academic year (else its first day), or the effective date when earlier." }),
    effectiveDate: t.field({ type: "LocalDate", description: "Not before the meeting; default: the meeting date. Services start from it." }),
    annualReviewDate: t.field({ type: "LocalDate", description: "After the effective date, within one year of it; default: the day before its first anniversary. Goals and services end by it." }),
    evidenceKinds: t.field({ type: [EvidenceKindEnum], description: "Only these kinds of evidence feed the draft; null (default): every kind; empty: a ValidationError." }),
  };
}
type SchemaTypes = typeof builder extends PothosSchemaTypes.SchemaBuilder<infer T> ? T : never;

const RegenerateIepSectionInputRef = builder.inputType("RegenerateIepSectionInput", {
  fields: (t) => ({
    iepId: t.id({ required: true }),
    section: t.field({ type: IepSectionKindEnum, required: true }),
    instructions: t.string(),
    idempotencyKey: t.string(),
    priority: t.int(),
  }),
});
type RequestGeneration = typeof requestIepGeneration;

/**
 * Creates a generation; with async it is queued in the same transaction and returned at once,
 * without it the just-created generation runs inline (the same function the task runs).
 */
async function requestAndMaybeRun(ctx: GraphQLContext, request: RequestGeneration, input: unknown, async: boolean | null | undefined) {
  const enqueue = async !== false;
  const requested = await request(ctx.deps.pool, ctx.viewer, input, { enqueue, log: ctx.logger, rateLimits: ctx.deps.security.rateLimits });
  if (enqueue || !requested.created) return requested;
  const finished = await runGeneration({ ...ctx.deps, logger: ctx.logger }, requested.generation.id);
  return { ...requested, generation: finished ?? requested.generation };
}

builder.mutationFields((t) => ({
  generateIep: t.field({
    type: GenerateIepPayload,
    description: "Asks for an IEP draft. async (default): queued in the same transaction, returns at once. async: false: runs inline and returns the finished (or failed) generation.",
    authScopes: (_root, args) => ({ students: [args.input.studentId] }),
    args: { input: t.arg({ type: GenerateIepInputRef, required: true }), async: t.arg.boolean({ defaultValue: true }) },
    resolve: (_root, args, ctx) => requestAndMaybeRun(ctx, requestIepGeneration, args.input, args.async),
  }),
  regenerateIepSection: t.field({
    type: GenerateIepPayload,
    description: "Redrafts one section of an IEP, keeping the others, as a new IEP version.",
    authScopes: (_root, args) => ({ iep: args.input.iepId }),
    args: { input: t.arg({ type: RegenerateIepSectionInputRef, required: true }), async: t.arg.boolean({ defaultValue: true }) },
    resolve: (_root, args, ctx) => requestAndMaybeRun(ctx, requestSectionGeneration, args.input, args.async),
  }),
  cancelGeneration: t.field({
    type: CancelGenerationPayload,
    description: "Cancels a QUEUED (removed from the queue) or RUNNING (stopped within ~2 s) generation.",
    authScopes: (_root, args) => ({ generation: args.id }),
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => ({ cancelled: await cancelGeneration(ctx.deps.pool, ctx.viewer, args.id, ctx.logger) }),
  }),
  retryGeneration: t.field({
    type: GenerateIepPayload,
    description: "Queues a FAILED or CANCELLED generation again.",
    authScopes: (_root, args) => ({ generation: args.id }),
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => ({ generation: await retryGeneration(ctx.deps.pool, ctx.viewer, args.id, ctx.logger, ctx.deps.security.rateLimits), created: false }),
  }),
}));

