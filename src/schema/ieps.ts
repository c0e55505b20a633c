import { builder } from "../builder.ts";
import { audit } from "../services/audit.ts";
import type { GraphQLContext } from "../context.ts";
import { findIep, findIepsByIds, listIepsForStudents, type IepRecord } from "../db/ieps.ts";
import { citedChunkIds, IEP_SECTION_KINDS, SECTION_FIELD, type IepSectionKind } from "../iep/content.ts";
import { EvidenceChunkRef } from "./evidence.ts";
import { isUuid } from "../ids.ts";
import { StudentRef } from "./students.ts";

export const IepSectionKindEnum = builder.enumType("IepSectionKind", {
  description: "The parts of an IEP under IDEA 34 CFR §300.320.",
  values: IEP_SECTION_KINDS,
});
const IepStatusEnum = builder.enumType("IepStatus", { values: ["DRAFT", "IN_REVIEW", "FINAL"] as const });

interface IepSectionShape {
  schoolId: string;
  kind: IepSectionKind;
  content: unknown;
}

const CitationRef = builder.objectRef<{ schoolId: string; chunkId: string }>("Citation").implement({
  description: "An evidence chunk a statement or goal is based on.",
  fields: (t) => ({
    chunkId: t.exposeID("chunkId"),
    chunk: t.field({
      type: EvidenceChunkRef,
      nullable: true,
      description: "Null if the evidence was deleted after the IEP was drafted.",
      resolve: (c) => c.chunkId,
    }),
  }),
});

const IepSectionRef = builder.objectRef<IepSectionShape>("IepSection").implement({
  fields: (t) => ({
    kind: t.field({ type: IepSectionKindEnum, resolve: (s) => s.kind }),
    content: t.field({ type: "JSON", description: "The section as validated JSON (see README: IEP content).", resolve: (s) => s.content }),
    citations: t.field({
      type: [CitationRef],
      description: "Every evidence chunk cited anywhere in this section.",
      resolve: (s) => citedChunkIds(s.content).map((chunkId) => ({ schoolId: s.schoolId, chunkId })),
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
    model: t.exposeString("model", { description: "The model that drafted it; says so when it was the simulator." }),
    createdAt: t.field({ type: "DateTime", resolve: (iep) => iep.created_at }),
    student: t.field({ type: StudentRef, resolve: (iep) => iep.student_id }),
    content: t.field({ type: "JSON", description: "All sections as one validated JSON object.", resolve: (iep) => iep.content }),
    sections: t.field({
      type: [IepSectionRef],
      description: "The sections present, in §300.320 order (transition and transfer of rights only when they apply).",
      resolve: (iep) =>
        IEP_SECTION_KINDS.filter((kind) => iep.content[SECTION_FIELD[kind]] != null).map((kind) => ({
          schoolId: iep.school_id, kind, content: iep.content[SECTION_FIELD[kind]],
        })),
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
