/**
 * The evidence lifecycle: the only code that changes an evidence document's status.
 *
 *   queue ──▶ PENDING ──start──▶ PENDING (attempt counted) ──succeed──▶ READY
 *               ▲  ▲                  │  │   ▲
 *               │  └────requeue───────┘  │   └─step (stage EXTRACTING with pages, then EMBEDDING)
 *               │                        └──fail──▶ FAILED
 *               └──────recover─────────  (a dead runner; FAILED once attempts are used up)
 *
 * A file document passes through the stages of a PENDING document (`step`): EXTRACTING, with its
 * page count and pages done, then EMBEDDING, which also stores the extracted text as its body (and
 * its pages beside the file, in the same statement).
 * Each transition is ONE SQL statement that updates the row and NOTIFYs `evidence.status`
 * (delivered at commit), except `start`, which changes nothing a subscriber sees. A transition
 * that does not apply returns undefined and is logged at debug level.
 */
import { EVIDENCE_COLUMNS, EvidenceRow, type Evidence, type EvidenceKind, type EvidenceStage } from "../db/evidence.ts";
import { NOTIFY_EVIDENCE_STATUS_SQL } from "../events/bus.ts";
import type { LifecycleContext } from "./generation.ts";

function transitionSql(set: string, where: string, notify = true): string {
  return `with updated as (
       update evidence set ${set}, updated_at = now() where ${where} returning ${EVIDENCE_COLUMNS}
     )
     select updated.*${notify ? `, ${NOTIFY_EVIDENCE_STATUS_SQL}` : ""} from updated`;
}

const SQL = {
  queue: `with updated as (
       insert into evidence (school_id, student_id, kind, title, body, created_by, file_name, file_media_type, file_byte_size, file_sha256)
       values ($1, $2, $3, $4, coalesce($5, ''), $6, $7, $8, octet_length($9::bytea), encode(sha256($9::bytea), 'hex'))
       returning ${EVIDENCE_COLUMNS}
     ),
     stored as (
       insert into evidence_files (evidence_id, school_id, content)
       select updated.id, updated.school_id, $9::bytea from updated where $9::bytea is not null
     )
     select updated.*, ${NOTIFY_EVIDENCE_STATUS_SQL} from updated`,
  start: transitionSql("attempts = attempts + 1, runner_id = $2, stage = null, pages_done = 0", "id = $1 and status = 'PENDING'", false),
  step: `with updated as (
       update evidence set stage = $2, pages_done = $3, page_count = coalesce($4, page_count), body = coalesce($5, body), updated_at = now()
       where id = $1 and status = 'PENDING' returning ${EVIDENCE_COLUMNS}
     ),
     kept as (
       update evidence_files f set extracted_pages = $6::jsonb from updated
       where f.evidence_id = updated.id and f.school_id = updated.school_id and $6::jsonb is not null
     )
     select updated.*, ${NOTIFY_EVIDENCE_STATUS_SQL} from updated`,
  succeed: transitionSql("status = 'READY', stage = null, error = null, chunk_count = $2, runner_id = null", "id = $1 and status = 'PENDING'"),
  requeue: transitionSql(
    "stage = null, error = $2, runner_id = null, attempts = case when $3 then greatest(attempts - 1, 0) else attempts end",
    "id = $1 and status = 'PENDING'",
  ),
  fail: transitionSql("status = 'FAILED', stage = null, error = $2, runner_id = null", "id = $1 and status = 'PENDING'"),
  recover: transitionSql(
    `stage = null, status = (case when attempts >= $2 then 'FAILED' else 'PENDING' end)::evidence_status,
     error = case when attempts >= $2 then 'The worker ingesting it stopped during each of its ' || attempts || ' attempts'
       else 'The worker ingesting it stopped; queued again for another worker' end,
     runner_id = null`,
    "status = 'PENDING' and runner_id = any($1::uuid[])",
  ),
} as const;

function parse(rows: unknown[]): Evidence | undefined {
  return rows[0] ? EvidenceRow.parse(rows[0]) : undefined;
}

function refused(ctx: LifecycleContext, transition: string, id: string): undefined {
  ctx.log.debug({ evidenceId: id, transition, allowedFrom: "PENDING" }, "evidence transition did not apply");
  return undefined;
}

export interface NewEvidence {
  schoolId: string;
  studentId: string;
  kind: EvidenceKind;
  title: string;
  createdBy: string | null;
  /** Typed text, or (for a file document) nothing until its text is extracted. */
  body?: string;
  /** An uploaded file: its bytes are stored with the row; its size and SHA-256 are computed by Postgres. */
  file?: { filename: string; mediaType: string; content: Uint8Array };
}

/** Inserts a PENDING document, and its file if it has one (the caller adds its ingestion job in the same transaction). */
export async function queue(ctx: LifecycleContext, e: NewEvidence): Promise<Evidence> {
  const { rows } = await ctx.db.query(SQL.queue, [
    e.schoolId, e.studentId, e.kind, e.title, e.body ?? null, e.createdBy,
    e.file?.filename ?? null, e.file?.mediaType ?? null, e.file ? Buffer.from(e.file.content.buffer, e.file.content.byteOffset, e.file.content.byteLength) : null,
  ]);
  return parse(rows)!;
}

/**
 * What a `step` reports: the stage, pages read so far and in all, and (entering EMBEDDING) the
 * extracted text as the body, with its pages kept beside the file for a later attempt.
 */
export interface EvidenceStep {
  stage: EvidenceStage;
  pagesDone: number;
  pageCount?: number | null;
  body?: string;
  pages?: readonly { page: number | null; text: string }[];
}

/** A PENDING document's progress through its stages (NOTIFYed, so subscribers see each step). */
export async function step(ctx: LifecycleContext, id: string, progress: EvidenceStep): Promise<Evidence | undefined> {
  const { rows } = await ctx.db.query(SQL.step, [
    id, progress.stage, progress.pagesDone, progress.pageCount ?? null, progress.body ?? null, progress.pages ? JSON.stringify(progress.pages) : null,
  ]);
  return parse(rows) ?? refused(ctx, "step", id);
}

/** Counts an ingestion attempt and records who runs it; undefined once it is READY or FAILED. */
export async function start(ctx: LifecycleContext, id: string, runnerId: string): Promise<Evidence | undefined> {
  const { rows } = await ctx.db.query(SQL.start, [id, runnerId]);
  return parse(rows) ?? refused(ctx, "start", id);
}

/** PENDING → READY with its chunk count (call in the transaction that stored the chunks). */
export async function succeed(ctx: LifecycleContext, id: string, chunkCount: number): Promise<Evidence | undefined> {
  const { rows } = await ctx.db.query(SQL.succeed, [id, chunkCount]);
  return parse(rows) ?? refused(ctx, "succeed", id);
}

/** Stays PENDING with the reason it waits (the caller re-adds its job in the same transaction). */
export async function requeue(ctx: LifecycleContext, id: string, reason: string, refundAttempt: boolean): Promise<Evidence | undefined> {
  const { rows } = await ctx.db.query(SQL.requeue, [id, reason, refundAttempt]);
  return parse(rows) ?? refused(ctx, "requeue", id);
}

/** PENDING → FAILED with the reason. */
export async function fail(ctx: LifecycleContext, id: string, reason: string): Promise<Evidence | undefined> {
  const { rows } = await ctx.db.query(SQL.fail, [id, reason]);
  return parse(rows) ?? refused(ctx, "fail", id);
}

/** PENDING documents of dead runners: queued again, or FAILED once `maxAttempts` are used up. */
export async function recover(ctx: LifecycleContext, deadRunnerIds: readonly string[], maxAttempts: number): Promise<Evidence[]> {
  if (deadRunnerIds.length === 0) return [];
  const { rows } = await ctx.db.query(SQL.recover, [deadRunnerIds, maxAttempts]);
  return rows.map((row) => EvidenceRow.parse(row));
}
