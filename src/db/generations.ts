import { z } from "zod";
import { NOTIFY_GENERATION_EVENT_SQL } from "../events/bus.ts";
import type { Queryable } from "./pool.ts";

export const GENERATION_STATUSES = ["QUEUED", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED"] as const;
export const GenerationStatus = z.enum(GENERATION_STATUSES);
export type GenerationStatus = z.infer<typeof GenerationStatus>;
export const TERMINAL_STATUSES: readonly GenerationStatus[] = ["SUCCEEDED", "FAILED", "CANCELLED"];
export const GenerationKind = z.enum(["FULL_IEP", "SECTION"]);
export type GenerationKind = z.infer<typeof GenerationKind>;

const GenerationRow = z.object({
  id: z.string(),
  school_id: z.string(),
  student_id: z.string(),
  batch_id: z.string().nullable(),
  kind: GenerationKind,
  status: GenerationStatus,
  progress: z.number(),
  stage: z.string().nullable(),
  message: z.string().nullable(),
  attempts: z.number(),
  max_attempts: z.number(),
  error: z.string().nullable(),
  priority: z.number(),
  idempotency_key: z.string().nullable(),
  requested_by: z.string().nullable(),
  academic_year: z.string(),
  instructions: z.string().nullable(),
  section_kind: z.string().nullable(),
  base_iep_id: z.string().nullable(),
  iep_id: z.string().nullable(),
  last_seq: z.number(),
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
  stage: z.string().nullable(),
  message: z.string().nullable(),
  created_at: z.date(),
});
export type GenerationEvent = z.infer<typeof GenerationEventRow>;

/** Rows may carry an extra pg_notify column; zod's object strips it. */
const parseGeneration = (row: unknown) => GenerationRow.parse(row);

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
}

/**
 * Inserts a QUEUED generation with its seq-1 event (and NOTIFYs it at commit). With an idempotency key already used by the
 * same user, inserts nothing and returns undefined (the caller loads the existing one).
 */
export async function insertGeneration(db: Queryable, g: NewGeneration): Promise<Generation | undefined> {
  const { rows } = await db.query(
    `with inserted as (
       insert into generations (school_id, student_id, batch_id, kind, max_attempts, priority, idempotency_key,
         requested_by, academic_year, instructions, section_kind, base_iep_id, message, last_seq)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 1)
       on conflict (requested_by, idempotency_key) where idempotency_key is not null do nothing
       returning *
     ), event as (
       insert into generation_events (generation_id, seq, school_id, status, progress, stage, message)
       select id, 1, school_id, status, progress, stage, message from inserted
     )
     select inserted.*, ${NOTIFY_GENERATION_EVENT_SQL.replaceAll("updated.", "inserted.")} from inserted`,
    [g.schoolId, g.studentId, g.batchId, g.kind, g.maxAttempts, g.priority, g.idempotencyKey, g.requestedBy,
      g.academicYear, g.instructions, g.sectionKind, g.baseIepId, g.message],
  );
  return rows[0] ? parseGeneration(rows[0]) : undefined;
}

export async function findGenerationByIdempotencyKey(db: Queryable, requestedBy: string, key: string): Promise<Generation | undefined> {
  const { rows } = await db.query("select * from generations where requested_by = $1 and idempotency_key = $2", [requestedBy, key]);
  return rows[0] ? parseGeneration(rows[0]) : undefined;
}

export async function findGeneration(db: Queryable, schoolId: string, id: string): Promise<Generation | undefined> {
  const { rows } = await db.query("select * from generations where school_id = $1 and id = $2", [schoolId, id]);
  return rows[0] ? parseGeneration(rows[0]) : undefined;
}

/** Loads a generation of the school and locks its row for the rest of the transaction. */
export async function findGenerationForUpdate(db: Queryable, schoolId: string, id: string): Promise<Generation | undefined> {
  const { rows } = await db.query("select * from generations where school_id = $1 and id = $2 for update", [schoolId, id]);
  return rows[0] ? parseGeneration(rows[0]) : undefined;
}

/** Loads a generation by id without a tenant filter: for tasks, whose payload came from a scoped mutation. */
export async function findGenerationForTask(db: Queryable, id: string): Promise<Generation | undefined> {
  const { rows } = await db.query("select * from generations where id = $1", [id]);
  return rows[0] ? parseGeneration(rows[0]) : undefined;
}

/** A change of a generation's visible state; every change is also stored as the next event. */
export interface GenerationChange {
  status?: GenerationStatus;
  progress?: number;
  stage?: string | null;
  message?: string | null;
  error?: string | null;
  iepId?: string;
  incrementAttempts?: boolean;
  /** The attempt did not count (Gemini was unavailable): give it back. */
  refundAttempt?: boolean;
  markStarted?: boolean;
  markFinished?: boolean;
  resetForRetry?: boolean;
}

/**
 * Applies a change, appends its event (seq = last_seq + 1) and NOTIFYs it, in one statement: stored seqs
 * are strictly increasing per generation. With `onlyFrom`, applies only while the generation is in
 * one of those statuses and returns undefined otherwise (e.g. it was cancelled meanwhile).
 */
export async function changeGeneration(
  db: Queryable,
  id: string,
  change: GenerationChange,
  onlyFrom?: readonly GenerationStatus[],
): Promise<Generation | undefined> {
  const { rows } = await db.query(
    `with updated as (
       update generations set
         status = coalesce($2::generation_status, status),
         progress = case when $12 then 0 else coalesce($3, progress) end,
         stage = case when $4 then $5 else stage end,
         message = case when $6 then $7 else message end,
         error = case when $8 then $9 else error end,
         iep_id = coalesce($10::uuid, iep_id),
         attempts = case when $12 then 0 when $11 then attempts + 1 when $16 then greatest(attempts - 1, 0) else attempts end,
         started_at = case when $12 then null when $13 then now() else started_at end,
         finished_at = case when $12 then null when $14 then now() else finished_at end,
         last_seq = last_seq + 1,
         updated_at = now()
       where id = $1 and ($15::generation_status[] is null or status = any($15::generation_status[]))
       returning *
     ), event as (
       insert into generation_events (generation_id, seq, school_id, status, progress, stage, message)
       select id, last_seq, school_id, status, progress, stage, message from updated
     )
     select updated.*, ${NOTIFY_GENERATION_EVENT_SQL} from updated`,
    [
      id, change.status ?? null, change.progress ?? null,
      change.stage !== undefined, change.stage ?? null,
      change.message !== undefined, change.message ?? null,
      change.error !== undefined, change.error ?? null,
      change.iepId ?? null, change.incrementAttempts ?? false, change.resetForRetry ?? false,
      change.markStarted ?? false, change.markFinished ?? false, onlyFrom ?? null, change.refundAttempt ?? false,
    ],
  );
  return rows[0] ? parseGeneration(rows[0]) : undefined;
}

export async function listGenerationEvents(db: Queryable, schoolId: string, generationId: string, afterSeq: number): Promise<GenerationEvent[]> {
  const { rows } = await db.query(
    "select * from generation_events where school_id = $1 and generation_id = $2 and seq > $3 order by seq",
    [schoolId, generationId, afterSeq],
  );
  return rows.map((row) => GenerationEventRow.parse(row));
}

export interface GenerationFilter {
  statuses?: GenerationStatus[] | null;
  studentId?: string | null;
  batchId?: string | null;
}

/** One page of a school's generations, newest first, after the generation `afterId` (keyset). */
export async function listGenerations(db: Queryable, schoolId: string, filter: GenerationFilter, limit: number, afterId: string | null): Promise<Generation[]> {
  const { rows } = await db.query(
    `select * from generations
     where school_id = $1
       and ($2::generation_status[] is null or status = any($2))
       and ($3::uuid is null or student_id = $3)
       and ($4::uuid is null or batch_id = $4)
       and ($5::uuid is null or (created_at, id) < (select created_at, id from generations where id = $5 and school_id = $1))
     order by created_at desc, id desc limit $6`,
    [schoolId, filter.statuses ?? null, filter.studentId ?? null, filter.batchId ?? null, afterId, limit],
  );
  return rows.map(parseGeneration);
}

/** How many QUEUED generations (all schools: one queue) run before this one: priority, then age. */
export async function queuePosition(db: Queryable, generation: Generation): Promise<number> {
  const { rows } = await db.query(
    `select count(*)::int as ahead from generations
     where status = 'QUEUED' and (priority, created_at, id) < ($1, $2, $3::uuid)`,
    [generation.priority, generation.created_at, generation.id],
  );
  return z.object({ ahead: z.number() }).parse(rows[0]).ahead + 1;
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

export async function insertBatch(db: Queryable, schoolId: string, requestedBy: string, total: number): Promise<string> {
  const { rows } = await db.query(
    "insert into generation_batches (school_id, requested_by, total) values ($1, $2, $3) returning id",
    [schoolId, requestedBy, total],
  );
  return z.object({ id: z.string() }).parse(rows[0]).id;
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
