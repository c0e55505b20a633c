import DataLoader from "dataloader";
import { createContextCache } from "@pothos/core";
import { builder } from "../builder.ts";
import { audit } from "../services/audit.ts";
import type { GraphQLContext } from "../context.ts";
import { findIep, findIepsByIds, listIepsForStudents, listIepVersions, type IepRecord } from "../db/ieps.ts";
import { findChunks, type EvidenceChunk } from "../db/evidence.ts";
import { findTemplateVersionsByIds, type TemplateVersionRecord } from "../db/templates.ts";
import { citedChunkIds, IEP_SECTION_KINDS, type IepSectionKind } from "../iep/content.ts";
import { iepLayout, type LaidOutSection } from "../iep/templates.ts";
import { EvidenceChunkRef, EvidenceRef } from "./evidence.ts";
import { isUuid } from "../ids.ts";
import { StudentRef } from "./students.ts";

export const IepSectionKindEnum = builder.enumType("IepSectionKind", {
  description: "The parts of an IEP under IDEA 34 CFR §300.320.",
  values: IEP_SECTION_KINDS,
});
const IepStatusEnum = builder.enumType("IepStatus", {
  values: {
    DRAFT: { description: "Being written or edited." },
    IN_REVIEW: { description: "Submitted for review; still editable, every edit recorded." },
    FINAL: { description: "Approved and immutable: an edit starts a new DRAFT version from it." },
  },
});

/** A request's (or a print's) context: the loaders below are per context object. */
type LoaderContext = Pick<GraphQLContext, "viewer" | "deps">;

/** Per request: cited chunks by id (null: the chunk no longer exists, or the id was never one). */
export const citedChunkLoader = createContextCache((ctx: LoaderContext) =>
  new DataLoader<string, EvidenceChunk | null>(async (ids) => {
    const rows = await findChunks(ctx.deps.pool, ctx.viewer.schoolId, ids.filter(isUuid));
    const byId = new Map(rows.map((row) => [row.id, row]));
    return ids.map((id) => byId.get(id.toLowerCase()) ?? null);
  }));

/** Per request: template versions by id (the school's own and the built-in ones; null: unknown). */
export const templateVersionLoader = createContextCache((ctx: LoaderContext) =>
  new DataLoader<string, TemplateVersionRecord | null>(async (ids) => {
    const rows = await findTemplateVersionsByIds(ctx.deps.pool, ctx.viewer.schoolId, ids);
    return ids.map((id) => rows.find((row) => row.id === id) ?? null);
  }));

/** Per request: every version of a (student, academic year), newest first. */
export const versionsLoader = createContextCache((ctx: LoaderContext) =>
  new DataLoader<IepRecord, IepRecord[], string>(async (ieps) => {
    const rows = await listIepVersions(ctx.deps.pool, ctx.viewer.schoolId, ieps.map((i) => ({ studentId: i.student_id, academicYear: i.academic_year })));
    return ieps.map((iep) => rows.filter((row) => row.student_id === iep.student_id && row.academic_year === iep.academic_year));
  }, { cacheKeyFn: (iep) => `${iep.student_id}|${iep.academic_year}` }));

/** One section of one IEP version. */
export interface IepSectionShape {
  iep: IepRecord;
  kind: IepSectionKind;
  label: string;
  content: unknown;
}

/**
 * The sections present, in the order and with the labels of the IEP's template (the built-in
 * §300.320 order without one); sections that do not apply (null) are left out.
 */
async function sectionsOf(ctx: LoaderContext, iep: IepRecord): Promise<IepSectionShape[]> {
  return (await layoutOf(ctx, iep)).filter((s) => s.content !== null).map((s) => ({ iep, kind: s.kind, label: s.label, content: s.content }));
}

/** Every section of the IEP in its template's order and labels, with the template's extra items (src/iep/templates.ts). */
export async function layoutOf(ctx: LoaderContext, iep: IepRecord): Promise<LaidOutSection[]> {
  const version = iep.template_version_id ? await templateVersionLoader(ctx).load(iep.template_version_id) : null;
  return iepLayout(iep.content, version);
}

/** The cited chunk ids among `ids` whose chunks no longer exist. */
export async function missingChunkIds(ctx: LoaderContext, ids: string[]): Promise<string[]> {
  const chunks = await citedChunkLoader(ctx).loadMany(ids);
  return ids.filter((_, i) => !chunks[i] || chunks[i] instanceof Error);
}

interface CitationShape {
  chunkId: string;
}

const CitationRef = builder.objectRef<CitationShape>("Citation").implement({
  description: "An evidence chunk a statement or goal is based on: its text, document and position (`chunk`), or `missing`.",
  fields: (t) => ({
    chunkId: t.exposeID("chunkId"),
    chunk: t.field({
      type: EvidenceChunkRef,
      nullable: true,
      description: "The cited text with its document (`evidence`) and position (`ordinal`); null if the evidence was deleted after the IEP was drafted.",
      resolve: (c, _args, ctx) => citedChunkLoader(ctx).load(c.chunkId),
    }),
    missing: t.boolean({
      description: "True when the cited chunk no longer exists (its evidence was deleted or re-ingested): the statement has lost its source.",
      resolve: async (c, _args, ctx) => (await citedChunkLoader(ctx).load(c.chunkId)) === null,
    }),
    evidence: t.field({
      type: EvidenceRef,
      nullable: true,
      description: "The cited chunk's document (null when missing).",
      resolve: async (c, _args, ctx) => (await citedChunkLoader(ctx).load(c.chunkId))?.evidence_id ?? null,
    }),
  }),
});

export const IepSectionRef = builder.objectRef<IepSectionShape>("IepSection").implement({
  fields: (t) => ({
    id: t.id({ description: "Stable for this section of this IEP version: \"<iepId>:<KIND>\".", resolve: (s) => `${s.iep.id}:${s.kind}` }),
    kind: t.field({ type: IepSectionKindEnum, resolve: (s) => s.kind }),
    label: t.string({ description: "The section's heading in the IEP's template (today's §300.320 wording by default).", resolve: (s) => s.label }),
    content: t.field({ type: "JSON", description: "The section as validated JSON (see README: IEP content).", resolve: (s) => s.content }),
    citations: t.field({
      type: [CitationRef],
      description: "Every evidence chunk cited anywhere in this section.",
      resolve: (s) => citedChunkIds(s.content).map((chunkId) => ({ chunkId })),
    }),
    missingCitations: t.idList({
      description: "Cited chunk ids whose chunks no longer exist: statements or goals whose evidence was deleted.",
      resolve: (s, _args, ctx) => missingChunkIds(ctx, citedChunkIds(s.content)),
    }),
  }),
});

/** Loaded in batches per request (generation.iep, generation.baseIep). */
export const IepRef = builder.loadableObjectRef("Iep", {
  load: (ids: string[], ctx: GraphQLContext) => findIepsByIds(ctx.deps.pool, ctx.viewer.schoolId, ids),
  sort: (iep) => iep.id,
  cacheResolved: (iep) => iep.id,
});

IepRef.implement({
  authScopes: (iep) => ({ student: iep.student_id }),
  description: "An IEP draft: one version for a student and academic year.",
  fields: (t) => ({
    id: t.exposeID("id"),
    academicYear: t.exposeString("academic_year"),
    status: t.field({ type: IepStatusEnum, resolve: (iep) => iep.status }),
    version: t.exposeInt("version"),
    revision: t.exposeInt("revision", { description: "Counts the edits and status changes of this version." }),
    model: t.exposeString("model", { description: "The model that drafted it; says so when it was the simulator." }),
    createdAt: t.field({ type: "DateTime", resolve: (iep) => iep.created_at }),
    updatedAt: t.field({ type: "DateTime", resolve: (iep) => iep.updated_at }),
    submittedAt: t.field({ type: "DateTime", nullable: true, resolve: (iep) => iep.submitted_at }),
    approvedAt: t.field({ type: "DateTime", nullable: true, resolve: (iep) => iep.approved_at }),
    basedOn: t.field({
      type: IepRef,
      nullable: true,
      description: "The FINAL version an edit started this version from (null when a generation drafted it).",
      resolve: (iep) => iep.based_on_iep_id,
    }),
    student: t.field({ type: StudentRef, resolve: (iep) => iep.student_id }),
    content: t.field({ type: "JSON", description: "All sections as one validated JSON object.", resolve: (iep) => iep.content }),
    sections: t.field({
      type: [IepSectionRef],
      description: "The sections present, in the order and with the labels of the IEP's template (§300.320 by default; transition and transfer of rights only when they apply).",
      resolve: (iep, _args, ctx) => sectionsOf(ctx, iep),
    }),
    missingCitations: t.idList({
      description: "Cited chunk ids, in any section, whose chunks no longer exist.",
      resolve: (iep, _args, ctx) => missingChunkIds(ctx, citedChunkIds(iep.content)),
    }),
    versions: t.field({
      type: [IepRef],
      description: "Every version for the student and academic year, newest first (this one included).",
      resolve: (iep, _args, ctx) => versionsLoader(ctx).load(iep),
    }),
  }),
});

builder.objectField(StudentRef, "ieps", (t) =>
  t.loadableGroup({
    type: IepRef,
    description: "The student's IEP drafts, newest academic year and version first.",
    load: (studentIds: string[], ctx: GraphQLContext) => listIepsForStudents(ctx.deps.pool, ctx.viewer.schoolId, studentIds),
    group: (iep) => (iep as IepRecord).student_id, // loaded rows only (typed as key | row)
    resolve: (s) => s.id,
  }),
);

builder.queryField("iep", (t) =>
  t.field({
    type: IepRef,
    nullable: true,
    description: "An IEP of a student on the caller's caseload; each read is recorded in the audit log (VIEWED).",
    authScopes: (_root, { id }) => (isUuid(id) ? { iep: id } : { staff: true }),
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, ctx) => {
      const iep = isUuid(id) ? await findIep(ctx.deps.pool, ctx.viewer.schoolId, id) : undefined;
      if (iep) await audit(ctx.deps.pool, ctx.viewer, ctx.logger, "VIEWED", "IEP", [{ id: iep.id, studentId: iep.student_id }]);
      return iep ?? null;
    },
  }),
);
