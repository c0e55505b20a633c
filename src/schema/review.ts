/** The review workflow's types and operations: provenance, diffs, edit/submit/approve, the print URL. */
import DataLoader from "dataloader";
import { createContextCache } from "@pothos/core";
import { builder } from "../builder.ts";
import type { GraphQLContext } from "../context.ts";
import type { IepRecord } from "../db/ieps.ts";
import { findSectionProvenance, type ProvenanceRecord } from "../db/reviews.ts";
import { findUsersByIds, type User } from "../db/schools.ts";
import { badUserInput, InvalidStateError, NotFoundError, ValidationError } from "../errors.ts";
import { signPath } from "../http/signed-url.ts";
import { citedChunkIds } from "../iep/content.ts";
import { isUuid } from "../ids.ts";
import { approveIep, diffIeps, editIepSection, PRINT_URL_TTL_MS, printPath, submitIepForReview, type EditedSection } from "../services/review.ts";
import { EvidenceRef } from "./evidence.ts";
import { GenerationRef } from "./generations.ts";
import { citedChunkLoader, IepRef, IepSectionKindEnum, IepSectionRef, layoutOf, versionsLoader, type IepSectionShape } from "./ieps.ts";
import { UserRef } from "./viewer.ts";

const userLoader = createContextCache((ctx: GraphQLContext) =>
  new DataLoader<string, User | null>(async (ids) => {
    const users = await findUsersByIds(ctx.deps.pool, ctx.viewer.schoolId, ids);
    return ids.map((id) => users.find((u) => u.id === id) ?? null);
  }));

const provenanceLoader = createContextCache((ctx: GraphQLContext) =>
  new DataLoader<{ iepId: string; kind: string }, ProvenanceRecord | null, string>(async (keys) => {
    const rows = await findSectionProvenance(ctx.deps.pool, ctx.viewer.schoolId, keys);
    return keys.map((k) => rows.find((r) => r.iep_id === k.iepId && r.kind === k.kind) ?? null);
  }, { cacheKeyFn: (k) => `${k.iepId}:${k.kind}` }));

const SectionSourceEnum = builder.enumType("SectionSource", {
  values: {
    AI: { description: "Drafted by a generation and not edited since." },
    PERSON: { description: "Last changed by a person's edit." },
  },
});

interface ProvenanceShape {
  record: ProvenanceRecord | null;
  section: IepSectionShape;
}

const SectionProvenanceRef = builder.objectRef<ProvenanceShape>("SectionProvenance").implement({
  description: "Where a section comes from: an AI draft (model, generation, prompt version) or a person's latest edit (who, when, which paths).",
  fields: (t) => ({
    source: t.field({ type: SectionSourceEnum, resolve: (p) => (p.record?.edited_at ? "PERSON" : "AI") }),
    model: t.string({ nullable: true, description: "AI: the model that drafted it.", resolve: (p) => (p.record?.edited_at ? null : (p.record?.model ?? null)) }),
    generation: t.field({
      type: GenerationRef,
      nullable: true,
      description: "AI: the generation that drafted it (null once that generation is gone).",
      resolve: (p) => (p.record?.edited_at ? null : (p.record?.generation_id ?? null)),
    }),
    promptVersion: t.string({
      nullable: true,
      description: "AI: the drafting prompt's version (null for drafts from before it was recorded).",
      resolve: (p) => (p.record?.edited_at ? null : (p.record?.prompt_version ?? null)),
    }),
    citedEvidence: t.field({
      type: [EvidenceRef],
      description: "The documents the section cites (those that still exist).",
      resolve: async (p, _args, ctx) => {
        const chunks = await citedChunkLoader(ctx).loadMany(citedChunkIds(p.section.content));
        return [...new Set(chunks.flatMap((c) => (c && !(c instanceof Error) ? [c.evidence_id] : [])))];
      },
    }),
    editedBy: t.field({
      type: UserRef,
      nullable: true,
      description: "PERSON: who edited it (null when the user was removed).",
      resolve: (p, _args, ctx) => (p.record?.edited_by ? userLoader(ctx).load(p.record.edited_by) : null),
    }),
    editedAt: t.field({ type: "DateTime", nullable: true, resolve: (p) => p.record?.edited_at ?? null }),
    changedPaths: t.stringList({
      description: "PERSON: the JSON paths the edit changed, e.g. \"annualGoals.goals[0].criterion\".",
      resolve: (p) => p.record?.changed_paths ?? [],
    }),
    fromVersion: t.field({
      type: IepRef,
      nullable: true,
      description: "The version this provenance was recorded on (this one, or the version the section was copied from).",
      resolve: (p) => p.record?.source_iep_id ?? null,
    }),
  }),
});

builder.objectField(IepSectionRef, "provenance", (t) =>
  t.field({
    type: SectionProvenanceRef,
    resolve: async (section, _args, ctx) => ({ section, record: await provenanceLoader(ctx).load({ iepId: section.iep.id, kind: section.kind }) }),
  }),
);

const SectionChangeEnum = builder.enumType("SectionChange", { values: ["ADDED", "REMOVED", "CHANGED", "UNCHANGED"] as const });

const IepSectionDiffRef = builder.objectRef<ReturnType<typeof diffIeps>[number]>("IepSectionDiff").implement({
  fields: (t) => ({
    kind: t.field({ type: IepSectionKindEnum, resolve: (d) => d.kind }),
    change: t.field({ type: SectionChangeEnum, resolve: (d) => d.change }),
    changedPaths: t.exposeStringList("changedPaths"),
    before: t.field({ type: "JSON", nullable: true, resolve: (d) => d.before }),
    after: t.field({ type: "JSON", nullable: true, resolve: (d) => d.after }),
  }),
});

builder.objectFields(IepRef, (t) => ({
  submittedBy: t.field({ type: UserRef, nullable: true, resolve: (iep, _args, ctx) => (iep.submitted_by ? userLoader(ctx).load(iep.submitted_by) : null) }),
  approvedBy: t.field({ type: UserRef, nullable: true, resolve: (iep, _args, ctx) => (iep.approved_by ? userLoader(ctx).load(iep.approved_by) : null) }),
  diff: t.field({
    type: [IepSectionDiffRef],
    description: "Each section compared with another version of the same student and year (default: the previous version; none: every section ADDED).",
    args: { against: t.arg.id() },
    resolve: async (iep, { against }, ctx) => diffIeps(iep, await comparedVersion(ctx, iep, against ?? null)),
  }),
  printUrl: t.string({
    description: `A signed relative URL of the print view (/ieps/<id>/print?…) for the caller only, valid ${PRINT_URL_TTL_MS / 60_000} minutes.`,
    resolve: (iep, _args, ctx) => signPath(printPath(iep.id), ctx.viewer.userId, ctx.deps.jwtSecret, PRINT_URL_TTL_MS),
  }),
}));

/** The version `diff` compares with; BAD_USER_INPUT (located at the field by graphql-js) when `against` is not one of this IEP's. */
async function comparedVersion(ctx: GraphQLContext, iep: IepRecord, against: string | null): Promise<IepRecord | null> {
  const versions = await versionsLoader(ctx).load(iep);
  if (against === null) return versions.find((v) => v.version < iep.version) ?? null;
  const other = isUuid(against) ? versions.find((v) => v.id === against.toLowerCase()) : undefined;
  if (!other) throw badUserInput("against must be another version of this IEP (the same student and academic year)", ["against"]);
  return other;
}

const EditIepSectionSuccess = builder.objectRef<EditedSection>("EditIepSectionSuccess").implement({
  fields: (t) => ({
    iep: t.field({ type: IepRef, description: "The IEP edited: the same version, or the new DRAFT version an edit of a FINAL one started.", resolve: (r) => r.iep }),
    section: t.field({
      type: IepSectionRef,
      resolve: async (r, _args, ctx) => {
        const { label, content } = (await layoutOf(ctx, r.iep)).find((s) => s.kind === r.kind)!;
        return { iep: r.iep, kind: r.kind, label, content };
      },
    }),
  }),
});
const EditIepSectionPayload = builder.errorUnion("EditIepSectionPayload", {
  types: [EditIepSectionSuccess, NotFoundError, ValidationError, InvalidStateError],
  resolveType: () => "EditIepSectionSuccess",
});

const IepReviewSuccess = builder.objectRef<{ iep: IepRecord }>("IepReviewSuccess").implement({
  fields: (t) => ({ iep: t.field({ type: IepRef, resolve: (r) => r.iep }) }),
});
const IepReviewPayload = builder.errorUnion("IepReviewPayload", {
  types: [IepReviewSuccess, NotFoundError, InvalidStateError],
  resolveType: () => "IepReviewSuccess",
});

const EditIepSectionInputRef = builder.inputType("EditIepSectionInput", {
  fields: (t) => ({
    iepId: t.id({ required: true }),
    section: t.field({ type: IepSectionKindEnum, required: true }),
    expectedRevision: t.int({ description: "The IEP's `revision` the edit was made on: if it changed since, the edit is refused (InvalidStateError STALE) instead of replacing someone else's change." }),
    content: t.field({ type: "JSON", required: true, description: "The section's new content: the same shape as IepSection.content (see README: IEP content)." }),
  }),
});

builder.mutationFields((t) => ({
  editIepSection: t.field({
    type: EditIepSectionPayload,
    description: "Replaces a section, validated like a draft (schema, IEP rules, only the student's own evidence cited). DRAFT and IN_REVIEW: edited in place; FINAL: a new DRAFT version from it. CASE_MANAGER on the caseload or ADMIN.",
    authScopes: (_root, args) => ({ $all: { caseManager: true, iep: args.input.iepId } }),
    args: { input: t.arg({ type: EditIepSectionInputRef, required: true }) },
    resolve: (_root, args, ctx) => editIepSection(ctx.deps.pool, ctx.viewer, ctx.logger, args.input),
  }),
  submitIepForReview: t.field({
    type: IepReviewPayload,
    description: "DRAFT → IN_REVIEW, recording who and when. CASE_MANAGER on the caseload or ADMIN.",
    authScopes: (_root, args) => ({ $all: { caseManager: true, iep: args.id } }),
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => ({ iep: await submitIepForReview(ctx.deps.pool, ctx.viewer, ctx.logger, args.id) }),
  }),
  approveIep: t.field({
    type: IepReviewPayload,
    description: "IN_REVIEW → FINAL (immutable), recording who approved it and when. CASE_MANAGER on the caseload or ADMIN.",
    authScopes: (_root, args) => ({ $all: { caseManager: true, iep: args.id } }),
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => ({ iep: await approveIep(ctx.deps.pool, ctx.viewer, ctx.logger, args.id) }),
  }),
}));
