import { builder } from "../builder.ts";
import type { Generation } from "../db/generations.ts";
import { badUserInput, NotFoundError, RateLimitedError, ValidationError } from "../errors.ts";
import { requestBatchGeneration } from "../services/generation/request.ts";
import { loadBatchProgress, streamBatchProgress, type BatchProgressView } from "../services/generation/stream.ts";
import { iepOptionFields } from "./generation-mutations.ts";
import { GenerationRef } from "./generations.ts";
import { isUuid } from "../ids.ts";
import { watchAccess } from "./access.ts";

const BatchProgressRef = builder.objectRef<BatchProgressView>("BatchProgress").implement({
  description: "Counts of a batch's generations by status. `id` is the batch's id, so a normalised cache (Apollo, urql Graphcache) keeps one BatchProgress per batch and every new count replaces the old.",
  fields: (t) => ({
    id: t.exposeID("batchId", { description: "The batch's id (the same as GenerationBatch.id; the typename tells them apart in a cache key)." }),
    batchId: t.exposeID("batchId"),
    total: t.exposeInt("total"),
    queued: t.exposeInt("queued"),
    running: t.exposeInt("running"),
    succeeded: t.exposeInt("succeeded"),
    failed: t.exposeInt("failed"),
    cancelled: t.exposeInt("cancelled"),
    done: t.exposeBoolean("done", { description: "True once every generation is SUCCEEDED, FAILED or CANCELLED." }),
  }),
});

const GenerationBatchRef = builder.objectRef<{ batchId: string; generations: Generation[] }>("GenerationBatch").implement({
  fields: (t) => ({
    id: t.exposeID("batchId"),
    generations: t.field({ type: [GenerationRef], resolve: (b) => b.generations }),
    progress: t.field({
      type: BatchProgressRef,
      resolve: async (b, _args, ctx) => (await loadBatchProgress(ctx.deps.pool, ctx.viewer.schoolId, b.batchId))!,
    }),
  }),
});
const GenerateIepsSuccess = builder.objectRef<{ batch: { batchId: string; generations: Generation[] } }>("GenerateIepsSuccess").implement({
  fields: (t) => ({ batch: t.field({ type: GenerationBatchRef, resolve: (r) => r.batch }) }),
});
const GenerateIepsPayload = builder.errorUnion("GenerateIepsPayload", {
  types: [GenerateIepsSuccess, ValidationError, NotFoundError, RateLimitedError],
  resolveType: () => "GenerateIepsSuccess",
});

const GenerateIepsInputRef = builder.inputType("GenerateIepsInput", {
  fields: (t) => ({
    studentIds: t.idList({ required: true }),
    academicYear: t.string(),
    instructions: t.string(),
    priority: t.int(),
    ...iepOptionFields(t),
  }),
});
builder.mutationFields((t) => ({
  generateIeps: t.field({
    type: GenerateIepsPayload,
    description: "Queues one FULL_IEP generation per student (a caseload) in one transaction; follow it with batchProgress.",
    authScopes: (_root, args) => ({ students: args.input.studentIds }),
    args: { input: t.arg({ type: GenerateIepsInputRef, required: true }) },
    resolve: async (_root, args, ctx) => ({ batch: await requestBatchGeneration(ctx.deps.pool, ctx.viewer, args.input, ctx.logger, ctx.deps.security.rateLimits) }),
  }),
}));

builder.subscriptionFields((t) => ({
  batchProgress: t.field({
    type: BatchProgressRef,
    description: "A batch's counts by status: now, then on every change, until all are terminal.",
    authScopes: (_root, args) => ({ batch: args.id }),
    args: { id: t.arg.id({ required: true }) },
    subscribe: async (_root, args, ctx) => {
      const exists = isUuid(args.id) && (await loadBatchProgress(ctx.deps.pool, ctx.viewer.schoolId, args.id));
      if (!exists) throw badUserInput(`Batch ${args.id} was not found`, ["id"]);
      return watchAccess(ctx, streamBatchProgress(ctx.deps.pool, ctx.deps.pubsub, ctx.viewer.schoolId, args.id), { kind: "batch", id: args.id });
    },
    resolve: (progress) => progress,
  }),
}));
