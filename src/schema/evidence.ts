import { builder } from "../builder.ts";
import { clearAllDataLoaders } from "@pothos/plugin-dataloader";
import type { GraphQLContext } from "../context.ts";
import {
  EVIDENCE_KINDS,
  findChunks,
  findEvidence,
  findEvidenceByIds,
  listChunksForEvidenceIds,
  listEvidenceForStudents,
  type Evidence,
  type EvidenceChunk,
} from "../db/evidence.ts";
import { findStudent } from "../db/students.ts";
import { badUserInput, NotFoundError, ValidationError } from "../errors.ts";
import { addEvidence } from "../services/evidence.ts";
import { MAX_SEARCH_RESULTS, searchStudentEvidence } from "../services/retrieval.ts";
import { isUuid } from "../ids.ts";
import { StudentRef } from "./students.ts";
import { watchAccess } from "./access.ts";
import { EvidenceSourceRef, EvidenceStageEnum, sourceOf } from "./evidence-files.ts";

export const EvidenceKindEnum = builder.enumType("EvidenceKind", { values: EVIDENCE_KINDS });
const EvidenceStatusEnum = builder.enumType("EvidenceStatus", {
  values: {
    PENDING: {
      description: "Stored; waiting to be ingested, or being ingested: a file's text is read first (`stage` EXTRACTING, with `pagesDone` of `pageCount`), then chunked and embedded (`stage` EMBEDDING). Retried while Gemini is unavailable.",
    },
    READY: { description: "Text read (for a file), chunked, embedded and searchable." },
    FAILED: { description: "Could not be ingested; `error` says why (for a file: encrypted, corrupt, too many pages, no readable text, …)." },
  },
});

/** Evidence and chunks are loaded in batches per request (one query per level, never per row). */
export const EvidenceRef = builder.loadableObjectRef("Evidence", {
  load: (ids: string[], ctx: GraphQLContext) => findEvidenceByIds(ctx.deps.pool, ctx.viewer.schoolId, ids),
  sort: (evidence) => evidence.id,
  cacheResolved: (evidence) => evidence.id,
});
export const EvidenceChunkRef = builder.loadableObjectRef("EvidenceChunk", {
  load: (ids: string[], ctx: GraphQLContext) => findChunks(ctx.deps.pool, ctx.viewer.schoolId, ids),
  sort: (chunk) => chunk.id,
  cacheResolved: (chunk) => chunk.id,
});

EvidenceRef.implement({
  authScopes: (evidence) => ({ student: evidence.student_id }),
  description: "A document about a student (evaluation, prior IEP, progress note, …) that IEPs cite.",
  fields: (t) => ({
    id: t.exposeID("id"),
    kind: t.field({ type: EvidenceKindEnum, resolve: (e) => e.kind }),
    title: t.exposeString("title"),
    body: t.exposeString("body", { description: "The typed text, or a file's extracted text (empty until it has been read)." }),
    status: t.field({ type: EvidenceStatusEnum, resolve: (e) => e.status }),
    stage: t.field({
      type: EvidenceStageEnum,
      nullable: true,
      description: "Where a PENDING file document's ingestion is; null when it is not being read or embedded right now (and always once READY or FAILED).",
      resolve: (e) => e.stage,
    }),
    source: t.field({
      type: EvidenceSourceRef,
      nullable: true,
      description: "The uploaded original file (name, sniffed type, size, SHA-256, download link); null for typed text.",
      resolve: sourceOf,
    }),
    pageCount: t.exposeInt("page_count", {
      nullable: true,
      description: "Pages of a PDF (or frames of an image), once known; null for typed text and DOCX, and before the file has been opened.",
    }),
    pagesDone: t.exposeInt("pages_done", { description: "Pages read so far while EXTRACTING (0 for typed text and before reading starts)." }),
    error: t.exposeString("error", { nullable: true }),
    chunkCount: t.exposeInt("chunk_count"),
    createdAt: t.field({ type: "DateTime", resolve: (e) => e.created_at }),
    updatedAt: t.field({ type: "DateTime", resolve: (e) => e.updated_at }),
    student: t.field({ type: StudentRef, resolve: (e) => e.student_id }),
    chunks: t.loadableGroup({
      type: EvidenceChunkRef,
      load: (evidenceIds: string[], ctx: GraphQLContext) => listChunksForEvidenceIds(ctx.deps.pool, ctx.viewer.schoolId, evidenceIds),
      group: (chunk) => (chunk as EvidenceChunk).evidence_id, // loaded rows only (typed as key | row)
      resolve: (e) => e.id,
    }),
  }),
});

EvidenceChunkRef.implement({
  authScopes: (chunk) => ({ student: chunk.student_id }),
  description: "An overlapping window of an evidence document, embedded for retrieval; IEPs cite chunk ids.",
  fields: (t) => ({
    id: t.exposeID("id"),
    ordinal: t.exposeInt("ordinal", { description: "Position within the document, from 0." }),
    page: t.exposeInt("page", {
      nullable: true,
      description: "The page of a PDF (or image frame) the text comes from, from 1, so a citation can say \"p. 7\"; null for typed text and DOCX.",
    }),
    text: t.exposeString("text"),
    evidence: t.field({ type: EvidenceRef, resolve: (c) => c.evidence_id }),
  }),
});

const EvidenceMatchRef = builder.objectRef<{ chunk: EvidenceChunk; score: number }>("EvidenceMatch").implement({
  fields: (t) => ({
    chunk: t.field({ type: EvidenceChunkRef, resolve: (m) => m.chunk }),
    score: t.exposeFloat("score", { description: "Reciprocal-rank-fusion score of vector and full-text ranks." }),
  }),
});

builder.objectField(StudentRef, "evidence", (t) =>
  t.loadableGroup({
    type: EvidenceRef,
    description: "The student's evidence documents, oldest first.",
    load: (studentIds: string[], ctx: GraphQLContext) => listEvidenceForStudents(ctx.deps.pool, ctx.viewer.schoolId, studentIds),
    group: (evidence) => (evidence as Evidence).student_id, // loaded rows only (typed as key | row)
    resolve: (s) => s.id,
  }),
);

builder.queryFields((t) => ({
  evidence: t.field({
    type: EvidenceRef,
    nullable: true,
    authScopes: { staff: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, ctx) => (isUuid(id) ? findEvidence(ctx.deps.pool, ctx.viewer.schoolId, id) : null),
  }),
  searchEvidence: t.field({
    type: [EvidenceMatchRef],
    description: "Hybrid (vector + full-text) search over one student's READY evidence. Empty for unknown students.",
    authScopes: (_root, args) => ({ students: [args.studentId] }),
    args: {
      studentId: t.arg.id({ required: true }),
      query: t.arg.string({ required: true }),
      first: t.arg.int({ defaultValue: 8 }),
    },
    resolve: async (_root, args, ctx) => {
      const query = args.query.trim();
      const first = args.first ?? 8;
      if (query === "") throw badUserInput("query must not be empty", ["query"]);
      if (query.length > 2000) throw badUserInput("query must be at most 2000 characters", ["query"]);
      if (first < 1 || first > MAX_SEARCH_RESULTS) throw badUserInput(`first must be between 1 and ${MAX_SEARCH_RESULTS}`, ["first"]);
      if (!isUuid(args.studentId)) return [];
      const student = await findStudent(ctx.deps.pool, ctx.viewer.schoolId, args.studentId);
      if (!student) return [];
      return searchStudentEvidence(ctx.deps, { schoolId: ctx.viewer.schoolId, studentId: student.id, student, query, limit: first });
    },
  }),
}));

const AddEvidenceInputRef = builder.inputType("AddEvidenceInput", {
  fields: (t) => ({
    studentId: t.id({ required: true }),
    kind: t.field({ type: EvidenceKindEnum, required: true }),
    title: t.string({ required: true }),
    body: t.string({ description: "Typed plain text; at most EVIDENCE_MAX_CHARS (default 200,000) characters. Give either `body` or `file`." }),
    file: t.field({
      type: "File",
      description:
        "An uploaded document (multipart request): PDF, Word (.docx), PNG, JPEG, TIFF or plain text, sniffed from its bytes; at most EVIDENCE_MAX_BYTES (default 25 MB) and, for a PDF, EVIDENCE_MAX_PAGES (default 200) pages. Give either `body` or `file`.",
    }),
  }),
});

builder.mutationField("addEvidence", (t) =>
  t.field({
    type: EvidenceRef,
    description:
      "Stores a document (typed `body`, or an uploaded `file` with its original bytes) as PENDING and queues its ingestion (text extraction for a file, then chunking + embedding) in the same transaction. Exactly one of `body` and `file`; a file over the limits or of an unsupported type is a ValidationError and nothing is written. CASE_MANAGER (their caseload) or ADMIN.",
    authScopes: (_root, args) => ({ $all: { caseManager: true, students: [args.input.studentId] } }),
    args: { input: t.arg({ type: AddEvidenceInputRef, required: true }) },
    errors: {
      types: [ValidationError, NotFoundError],
      union: { name: "AddEvidencePayload" },
      result: { name: "AddEvidenceSuccess" },
      dataField: { name: "evidence" },
    },
    resolve: (_root, { input }, ctx) =>
      addEvidence(ctx.deps.pool, ctx.viewer, input, {
        maxChars: ctx.deps.limits.evidenceMaxChars,
        log: ctx.logger,
        files: { ...ctx.deps.limits.evidenceFiles, countPdfPages: (bytes) => ctx.deps.extraction.countPdfPages(bytes) },
      }),
  }),
);

builder.subscriptionField("evidenceStatusChanged", (t) =>
  t.field({
    type: EvidenceRef,
    description:
      "Emits a student's evidence document whenever its status changes (PENDING → READY or FAILED) and at each step of a file's ingestion while PENDING: `stage` EXTRACTING with `pagesDone`/`pageCount` as pages are read (throttled), then EMBEDDING.",
    authScopes: (_root, args) => ({ students: [args.studentId] }),
    args: { studentId: t.arg.id({ required: true }) },
    subscribe: async (_root, { studentId }, ctx) => {
      const student = isUuid(studentId) ? await findStudent(ctx.deps.pool, ctx.viewer.schoolId, studentId) : undefined;
      if (!student) throw badUserInput(`Student ${studentId} was not found`, ["studentId"]);
      return watchAccess(ctx, ctx.deps.pubsub.subscribe("evidence.status", student.id), { kind: "student", id: student.id });
    },
    resolve: (event, _args, ctx) => {
      clearAllDataLoaders(ctx);
      return event.evidenceId;
    },
  }),
);
