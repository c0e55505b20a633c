import { z } from "zod";
import { LocalDateColumn } from "./dates.ts";
import { EvidenceKind } from "./evidence.ts";
import type { Queryable } from "./pool.ts";
import { DisabilityCategory, GuardianRow } from "./students.ts";

export const GENERATION_STATUSES = ["QUEUED", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED"] as const;
export const GenerationStatus = z.enum(GENERATION_STATUSES);
export type GenerationStatus = z.infer<typeof GenerationStatus>;
export const TERMINAL_STATUSES: readonly GenerationStatus[] = ["SUCCEEDED", "FAILED", "CANCELLED"];
export const GenerationKind = z.enum(["FULL_IEP", "SECTION"]);
export type GenerationKind = z.infer<typeof GenerationKind>;

/** Where a generation is within its status; stable values (GraphQL enum GenerationStage, README table). */
export const GENERATION_STAGES = [
  "queued", "starting", "retrieving", "drafting", "repairing", "validating", "saving", "done", "failed",
  "cancelled", "waiting_to_retry", "waiting_for_gemini", "waiting_for_database", "interrupted", "recovered",
] as const;
export const GenerationStage = z.enum(GENERATION_STAGES);
export type GenerationStage = z.infer<typeof GenerationStage>;

/** node-postgres leaves an array of a custom enum as its text form ("{A,B}"): its values (absent: null). */
function enumArray(value: unknown): unknown {
  if (typeof value !== "string") return value ?? null;
  const inner = value.replace(/^\{|\}$/g, "");
  return inner === "" ? [] : inner.split(",");
}

/** A generations row. `run_id` fences the current run; `runner_id` is the process running it. */
export const GenerationRow = z.object({
  id: z.string(),
  school_id: z.string(),
  student_id: z.string(),
  batch_id: z.string().nullable(),
  kind: GenerationKind,
  status: GenerationStatus,
  progress: z.number(),
  stage: GenerationStage,
  message: z.string().nullable(),
  attempts: z.number(),
  max_attempts: z.number(),
  error: z.string().nullable(),
  priority: z.number(),
  /** Fair queue rank at enqueue (migrations/0013_fair_queue.sql): its job runs at priority + queue_rank. */
  queue_rank: z.number(),
  idempotency_key: z.string().nullable(),
  requested_by: z.string().nullable(),
  academic_year: z.string(),
  instructions: z.string().nullable(),
  section_kind: z.string().nullable(),
  base_iep_id: z.string().nullable(),
  /** The IEP template version the draft follows (the latest at request time; a redraft keeps its IEP's). */
  template_version_id: z.string().nullable().default(null),
  /** The IEP's dates; null on generations from before them (the academic year's period applies). */
  meeting_date: LocalDateColumn,
  effective_date: LocalDateColumn,
  annual_review_date: LocalDateColumn,
  /** The evidence kinds that feed retrieval; null: every kind. */
  evidence_kinds: z.preprocess(enumArray, z.array(EvidenceKind).nullable()),
  iep_id: z.string().nullable(),
  last_seq: z.number(),
  run_id: z.string().nullable(),
  runner_id: z.string().nullable(),
  archived_at: z.date().nullable(),
  created_at: z.date(),
  updated_at: z.date(),
  started_at: z.date().nullable(),
  finished_at: z.date().nullable(),
});
export type Generation = z.infer<typeof GenerationRow>;

const GenerationEventRow = z.object({
  generation_id: z.string(),
  seq: z.number(),
  school_id: z.string(),
  status: GenerationStatus,
  progress: z.number(),
  stage: GenerationStage,
  message: z.string().nullable(),
  created_at: z.date(),
});
export type GenerationEvent = z.infer<typeof GenerationEventRow>;

/** Rows may carry an extra pg_notify column; zod's object strips it. */
export const parseGeneration = (row: unknown) => GenerationRow.parse(row);

export interface NewGeneration {
  schoolId: string;
  studentId: string;
  batchId: string | null;
  kind: GenerationKind;
  maxAttempts: number;
  priority: number;
  idempotencyKey: string | null;
  requestedBy: string | null;
  academicYear: string;
  instructions: string | null;
  sectionKind: string | null;
  baseIepId: string | null;
  message: string;
  /** The template asked for (its latest version is recorded); null: the built-in one. Ignored when `templateVersionId` is given. */
  templateId: string | null;
  /** A template version to keep (a section redraft keeps its IEP's). */
  templateVersionId: string | null;
  meetingDate: string | null;
  effectiveDate: string | null;
  annualReviewDate: string | null;
  evidenceKinds: EvidenceKind[] | null;
}

export async function findGenerationByIdempotencyKey(db: Queryable, requestedBy: string, key: string): Promise<Generation | undefined> {
  const { rows } = await db.query("select * from generations where requested_by = $1 and idempotency_key = $2", [requestedBy, key]);
  return rows[0] ? parseGeneration(rows[0]) : undefined;
}

export async function findGeneration(db: Queryable, schoolId: string, id: string): Promise<Generation | undefined> {
  const { rows } = await db.query("select * from generations where school_id = $1 and id = $2", [schoolId, id]);
  return rows[0] ? parseGeneration(rows[0]) : undefined;
}

/** Generations of the school by id (any order; unknown ids are absent). */
export async function findGenerationsByIds(db: Queryable, schoolId: string, ids: readonly string[]): Promise<Generation[]> {
  const { rows } = await db.query("select * from generations where school_id = $1 and id = any($2::uuid[])", [schoolId, ids]);
  return rows.map(parseGeneration);
}

/** Loads a generation of the school and locks its row for the rest of the transaction. */
export async function findGenerationForUpdate(db: Queryable, schoolId: string, id: string): Promise<Generation | undefined> {
  const { rows } = await db.query("select * from generations where school_id = $1 and id = $2 for update", [schoolId, id]);
  return rows[0] ? parseGeneration(rows[0]) : undefined;
}

/** The school a generation belongs to (system: tasks learn it before they run as that school). */
export async function schoolOfGeneration(db: Queryable, id: string): Promise<string | undefined> {
  const { rows } = await db.query("select school_id from generations where id = $1", [id]);
  return rows[0] ? z.string().parse(rows[0].school_id) : undefined;
}

/** Loads a generation by id without a tenant filter: for tasks, whose payload came from a scoped mutation. */
export async function findGenerationForTask(db: Queryable, id: string): Promise<Generation | undefined> {
  const { rows } = await db.query("select * from generations where id = $1", [id]);
  return rows[0] ? parseGeneration(rows[0]) : undefined;
}

/**
 * What a run needs besides its generation row, read by the statement that starts it (a column
 * `run_context` over the CTE `updated`): the student (null once deleted) with their guardians, the
 * school's staff names, the student's READY evidence of the generation's evidence kinds, the template
 * version, and for a SECTION draft the base IEP's content.
 */
export const RUN_CONTEXT_SQL = `(select json_build_object(
    'student', (select json_build_object('id', s.id, 'school_id', s.school_id, 'first_name', s.first_name, 'last_name', s.last_name,
        'date_of_birth', to_char(s.date_of_birth, 'YYYY-MM-DD'), 'grade', s.grade, 'disability_categories', s.disability_categories,
        'primary_language', s.primary_language, 'created_at', s.created_at, 'updated_at', s.updated_at, 'guardians', s.guardians)
      from students s where s.id = updated.student_id and s.school_id = updated.school_id),
    'staff_names', (select coalesce(json_agg(u.name order by u.created_at, u.id), '[]') from users u where u.school_id = updated.school_id),
    'evidence', (select coalesce(json_agg(json_build_object('id', e.id, 'title', e.title, 'kind', e.kind)), '[]') from evidence e
      where e.school_id = updated.school_id and e.student_id = updated.student_id and e.status = 'READY'
        and (updated.evidence_kinds is null or e.kind = any(updated.evidence_kinds))),
    'template', (select json_build_object('id', v.id, 'template_id', v.template_id, 'version', v.version, 'sections', v.sections,
        'extra_items', v.extra_items, 'default_instructions', v.default_instructions)
      from iep_template_versions v where v.id = updated.template_version_id),
    'base_content', (select i.content from ieps i where i.id = updated.base_iep_id and i.school_id = updated.school_id))) as run_context`;

const RunContextRow = z.object({
  student: z.object({
    id: z.string(), school_id: z.string(), first_name: z.string(), last_name: z.string(), date_of_birth: z.string(), grade: z.string(),
    disability_categories: z.array(DisabilityCategory), primary_language: z.string(), created_at: z.coerce.date(), updated_at: z.coerce.date(),
    guardians: z.array(GuardianRow),
  }).nullable(),
  staff_names: z.array(z.string()),
  evidence: z.array(z.object({ id: z.string(), title: z.string(), kind: EvidenceKind })),
  base_content: z.record(z.string(), z.unknown()).nullable(),
  template: z.object({
    id: z.string(), template_id: z.string(), version: z.number(), sections: z.unknown(), extra_items: z.unknown(),
    default_instructions: z.string().nullable(),
  }).nullable(),
});
export type RunContext = z.infer<typeof RunContextRow>;

/** Parses RUN_CONTEXT_SQL's column. */
export const parseRunContext = (value: unknown): RunContext => RunContextRow.parse(value);

export async function listGenerationEvents(db: Queryable, schoolId: string, generationId: string, afterSeq: number): Promise<GenerationEvent[]> {
  const { rows } = await db.query(
    "select * from generation_events where school_id = $1 and generation_id = $2 and seq > $3 order by seq",
    [schoolId, generationId, afterSeq],
  );
  return rows.map((row) => GenerationEventRow.parse(row));
}

/** Stored events after `afterSeq` of several generations of the school, each generation's in seq order. */
export async function listEventsForGenerations(db: Queryable, schoolId: string, generationIds: readonly string[], afterSeq: number): Promise<GenerationEvent[]> {
  const { rows } = await db.query(
    "select * from generation_events where school_id = $1 and generation_id = any($2::uuid[]) and seq > $3 order by generation_id, seq",
    [schoolId, generationIds, afterSeq],
  );
  return rows.map((row) => GenerationEventRow.parse(row));
}

export interface GenerationFilter {
  statuses?: GenerationStatus[] | null;
  studentId?: string | null;
  batchId?: string | null;
}

/** One page of a school's generations, newest first, after the generation `afterId` (keyset); only those of students assigned to `assignedTo` (null: the whole school). */
export async function listAccessibleGenerations(
  db: Queryable, schoolId: string, assignedTo: string | null, filter: GenerationFilter, limit: number, afterId: string | null,
): Promise<Generation[]> {
  const { rows } = await db.query(
    `select * from generations g
     where school_id = $1
       and ($2::generation_status[] is null or status = any($2))
       and ($3::uuid is null or student_id = $3)
       and ($4::uuid is null or batch_id = $4)
       and ($5::uuid is null or (created_at, id) < (select created_at, id from generations where id = $5 and school_id = $1))
       and ($7::uuid is null or exists (select 1 from student_assignments a where a.user_id = $7 and a.student_id = g.student_id))
     order by created_at desc, id desc limit $6`,
    [schoolId, filter.statuses ?? null, filter.studentId ?? null, filter.batchId ?? null, afterId, limit, assignedTo],
  );
  return rows.map(parseGeneration);
}

/**
 * How many QUEUED generations (all schools: one queue) run before this one: job priority, then age.
 * Counted by a function that sees every school, since row-level security shows a request its own only.
 */
export async function queuePosition(db: Queryable, generation: Generation): Promise<number> {
  const { rows } = await db.query("select iepgen_queue_ahead($1, $2, $3::uuid) as ahead", [jobPriority(generation), generation.created_at, generation.id]);
  return z.object({ ahead: z.number() }).parse(rows[0]).ahead + 1;
}

/** The graphile-worker priority of a generation's job: its own priority plus its fair queue rank. */
export function jobPriority(generation: Pick<Generation, "priority" | "queue_rank">): number {
  return Math.min(32_767, generation.priority + generation.queue_rank);
}

/** Mean run time of the most recent successful generations, in seconds (null when there are none). */
export async function recentMeanDurationSeconds(db: Queryable, sample = 20): Promise<number | null> {
  const { rows } = await db.query(
    `select avg(extract(epoch from finished_at - started_at))::float8 as seconds from (
       select started_at, finished_at from generations
       where status = 'SUCCEEDED' and started_at is not null
       order by finished_at desc limit $1) recent`,
    [sample],
  );
  return z.object({ seconds: z.number().nullable() }).parse(rows[0]).seconds;
}

/** Counts of a batch's generations by status, plus the batch size (undefined if not in this school). */
export async function batchCounts(db: Queryable, schoolId: string, batchId: string): Promise<{ total: number; counts: Record<GenerationStatus, number> } | undefined> {
  const { rows } = await db.query(
    `select b.total, g.status, count(g.id)::int as n
     from generation_batches b left join generations g on g.batch_id = b.id
     where b.id = $1 and b.school_id = $2 group by b.total, g.status`,
    [batchId, schoolId],
  );
  if (rows.length === 0) return undefined;
  const counts = Object.fromEntries(GENERATION_STATUSES.map((s) => [s, 0])) as Record<GenerationStatus, number>;
  for (const row of rows) if (row.status) counts[GenerationStatus.parse(row.status)] = row.n;
  return { total: rows[0].total, counts };
}
