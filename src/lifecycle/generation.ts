/**
 * The generation lifecycle: the only code that changes a generation's state.
 *
 *   queue ──▶ QUEUED ──start──▶ RUNNING ──step(stage)──▶ RUNNING ──succeed──▶ SUCCEEDED
 *               ▲  ▲               │ │ │
 *               │  └──requeue──────┘ │ └──fail──▶ FAILED ──retry──▶ QUEUED
 *               └─────recover────────┘   (a dead runner; FAILED once attempts are used up)
 *   QUEUED / RUNNING ──cancel──▶ CANCELLED ──retry──▶ QUEUED
 *   SUCCEEDED / FAILED / CANCELLED ──archive (after the retention)──▶ the same status, archived_at set
 *
 * Each transition is ONE SQL statement that updates the row, stores the next event
 * (seq = last_seq + 1) and NOTIFYs it (delivered at commit), and names the statuses it may leave
 * from. A run is fenced by the `run_id` that `start` returns: step, succeed, requeue and fail apply
 * only to that run, so a run presumed dead cannot write over the one that replaced it. A transition
 * that does not apply returns undefined and is logged at debug level.
 *
 * Work a run does between two Gemini calls shares a statement: `startRun` starts, stores the first
 * step and reads what the run needs; `step` may store several steps; `succeed` stores the IEP.
 * Each event still has its own seq and NOTIFY, in order.
 */
import { NOTIFY_GENERATION_EVENT_SQL } from "../events/bus.ts";
import type { Queryable } from "../db/pool.ts";
import { countHitsSql, RATE_WINDOWS_SQL } from "../db/rate-limits.ts";
import type { TaskDefinition } from "../jobs/kit.ts";
import type { Logger } from "../logger.ts";
import { GenerationRow, parseRunContext, RUN_CONTEXT_SQL, type Generation, type GenerationStage, type NewGeneration, type RunContext } from "../db/generations.ts";
import { INSERT_IEP_CTE, NEXT_IEP_VERSION_CTE } from "../db/ieps.ts";
import { templateVersionCte } from "../db/templates.ts";
import { PROMPT_VERSION } from "../iep/prompt-version.ts";
import { DEFAULT_TEMPLATE_ID } from "../iep/templates.ts";
export { GENERATION_STAGES, GenerationStage } from "../db/generations.ts";

/** The stages a running attempt reports with `step`. */
export type RunStage = Extract<GenerationStage, "retrieving" | "drafting" | "repairing" | "validating" | "saving">;

/** Stages a generation may wait in while QUEUED after `requeue`. */
export type WaitStage = Extract<GenerationStage, "waiting_to_retry" | "waiting_for_gemini" | "waiting_for_database" | "interrupted">;

/** Who changes the generation: a client for the statement, a logger for refused transitions. */
export interface LifecycleContext {
  db: Queryable;
  log: Logger;
}

/** Builds the one statement of a transition: update (where), store the event, NOTIFY. */
function transitionSql(set: string, where: string, more: { stepsAt?: number; columns?: string; before?: string; after?: string } = {}): string {
  if (more.stepsAt !== undefined) return stepsThenTransitionSql(set, where, more.stepsAt, more.columns);
  return `with ${more.before ? `${more.before}, ` : ""}updated as (
       update generations set ${set}, last_seq = last_seq + 1, updated_at = now()
       where ${where}
       returning *
     ), ${more.after ? `${more.after}, ` : ""}event as (
       insert into generation_events (generation_id, seq, school_id, status, progress, stage, message)
       select id, last_seq, school_id, status, progress, stage, message from updated
     )
     select updated.*, ${NOTIFY_GENERATION_EVENT_SQL} from updated`;
}

/**
 * Like transitionSql, preceded by RUNNING step events stored in the same statement (stages, progresses
 * and messages in the arrays $stepsAt..$stepsAt+2): steps that follow each other with no Gemini
 * call between them cost one statement. Every event gets its own seq and NOTIFY, in order.
 */
function stepsThenTransitionSql(set: string, where: string, stepsAt: number, columns = ""): string {
  const [stages, progresses, messages] = [stepsAt, stepsAt + 1, stepsAt + 2].map((n) => `$${n}`);
  const steps = `cardinality(${stages}::generation_stage[])`;
  return `with updated as (
       update generations set ${set}, last_seq = last_seq + ${steps} + 1, updated_at = now()
       where ${where}
       returning *
     ), events as (
       select u.id, u.school_id, u.batch_id, 'RUNNING'::generation_status as status, s.progress, s.stage, s.message,
         u.last_seq - ${steps} - 1 + s.n::int as last_seq
       from updated u, unnest(${stages}::generation_stage[], ${progresses}::real[], ${messages}::text[]) with ordinality as s(stage, progress, message, n)
       union all
       select id, school_id, batch_id, status, progress, stage, message, last_seq from updated
     ), stored as (
       insert into generation_events (generation_id, seq, school_id, status, progress, stage, message)
       select id, last_seq, school_id, status, progress, stage, message from events
     )
     select updated.*${columns}, (select count(n.notified::text)
       from (select ${NOTIFY_GENERATION_EVENT_SQL} as notified from events updated order by updated.last_seq) n) as notified
     from updated`;
}

const RUN_FENCE = "id = $1 and status = 'RUNNING' and run_id = $2";
const START_SET = `status = 'RUNNING', error = null, attempts = attempts + 1, started_at = now(), finished_at = null,
  run_id = gen_random_uuid(), runner_id = $2`;
const START_WHERE = "id = $1 and status in ('QUEUED', 'RUNNING')";

const SQL = {
  start: transitionSql(`${START_SET}, stage = 'starting', progress = 0.02, message = 'Starting'`, START_WHERE),
  startRun: transitionSql(`${START_SET}, stage = $3, progress = $4, message = $5`, START_WHERE, { stepsAt: 6, columns: `, ${RUN_CONTEXT_SQL}` }),
  step: transitionSql("stage = $3, progress = $4, message = $5", RUN_FENCE),
  steps: transitionSql("stage = $3, progress = $4, message = $5", RUN_FENCE, { stepsAt: 6 }),
  succeed: transitionSql(
    `status = 'SUCCEEDED', stage = 'done', progress = 1, message = 'IEP draft saved as version ' || (select version from iep_version),
     iep_id = (select id from iep_version), error = null, finished_at = now(), run_id = null, runner_id = null`,
    RUN_FENCE,
    { before: NEXT_IEP_VERSION_CTE, after: INSERT_IEP_CTE },
  ),
  requeue: transitionSql(
    `status = 'QUEUED', stage = $3, message = $4, error = $5, progress = 0, run_id = null, runner_id = null,
     attempts = case when $6 then greatest(attempts - 1, 0) else attempts end`,
    RUN_FENCE,
  ),
  fail: transitionSql(
    `status = 'FAILED', stage = 'failed', message = $3, error = $4, finished_at = now(), run_id = null, runner_id = null`,
    RUN_FENCE,
  ),
  cancel: transitionSql(
    `status = 'CANCELLED', stage = 'cancelled', message = 'Cancelled on request', finished_at = now(),
     run_id = null, runner_id = null`,
    "id = $1 and status in ('QUEUED', 'RUNNING')",
  ),
  retry: transitionSql(
    `status = 'QUEUED', stage = 'queued', message = 'Queued again (retry requested)', error = null, progress = 0,
     attempts = 0, started_at = null, finished_at = null, run_id = null, runner_id = null`,
    "id = $1 and status in ('FAILED', 'CANCELLED')",
  ),
  recover: transitionSql(
    `status = (case when attempts >= max_attempts then 'FAILED' else 'QUEUED' end)::generation_status,
     stage = (case when attempts >= max_attempts then 'failed' else 'recovered' end)::generation_stage,
     message = case when attempts >= max_attempts
       then 'The worker running it stopped during every attempt; giving up'
       else 'The worker running it stopped; queued again for another worker' end,
     error = case when attempts >= max_attempts
       then 'The worker running it stopped during each of its ' || attempts || ' attempts' else error end,
     progress = case when attempts >= max_attempts then progress else 0 end,
     finished_at = case when attempts >= max_attempts then now() else null end,
     run_id = null, runner_id = null`,
    "status = 'RUNNING' and id = any($1::uuid[])",
  ),
  archive: `with archived as (
       update generations set archived_at = now(), instructions = null, updated_at = now()
       where status in ('SUCCEEDED', 'FAILED', 'CANCELLED') and archived_at is null
         and finished_at < now() - make_interval(days => $1::int)
         and ($2::uuid is null or school_id = $2)
       returning id
     ), events as (
       delete from generation_events e using archived a where e.generation_id = a.id
     )
     select count(*)::int as archived from archived`,
} as const;

/**
 * A transition a run makes, as a named statement: each connection parses and plans it once, then
 * only binds and executes it.
 */
function prepared(transition: "start" | "startRun" | "step" | "steps" | "succeed" | "requeue" | "fail", values: unknown[]) {
  return { name: `generation-${transition}`, text: SQL[transition], values };
}

function parse(rows: unknown[]): Generation | undefined {
  return rows[0] ? GenerationRow.parse(rows[0]) : undefined;
}

function refused(ctx: LifecycleContext, transition: string, id: string, from: string): undefined {
  ctx.log.debug({ generationId: id, transition, allowedFrom: from }, "generation transition did not apply");
  return undefined;
}

/**
 * Admits a request for generations (one per student; a batch when `batch`) in ONE statement: the
 * idempotency replay, the students' school check, the rate-limit hits, the rows at their fair
 * queue rank (migrations/0013_fair_queue.sql), their seq-1 events and NOTIFYs, their jobs
 * (`job`, through iepgen_add_jobs) and the audit entries. Each generation records its template
 * version (the latest of `templateId`'s, or the built-in template's), IEP dates and evidence kinds.
 * All or nothing: a student not in the school, a template the school may not use, or a key the user
 * already used, writes nothing; a budget exceeded raises SQLSTATE IE429 (windows in DETAIL) and the
 * statement rolls back.
 */
export async function queue(ctx: LifecycleContext, request: QueueRequest): Promise<Admission> {
  const { rows } = await ctx.db.query({ name: `iepgen_queue_${request.job?.name ?? "inline"}`, text: queueSql(request.job) }, [
    request.schoolId, request.studentIds, request.batch, request.kind, request.maxAttempts, request.priority,
    request.idempotencyKey, request.requestedBy, request.academicYear, request.instructions, request.sectionKind,
    request.baseIepId, request.message, request.rateLimits.userPerMinute, request.rateLimits.schoolPerMinute, request.requestId,
    request.templateId, request.templateVersionId, request.meetingDate, request.effectiveDate, request.annualReviewDate, request.evidenceKinds,
  ]);
  const existing = rows.find((row) => row.created === false);
  if (existing) return { kind: "replayed", generation: GenerationRow.parse(existing) };
  if (rows.length === 0) return { kind: "refused" };
  const generations = rows.map((row) => GenerationRow.parse(row));
  return { kind: "queued", generations, batchId: generations[0]!.batch_id };
}

/** What `queue` admits: one generation per student, all with the same settings. */
export interface QueueRequest extends Omit<NewGeneration, "studentId" | "batchId"> {
  studentIds: readonly string[];
  /** Group them in a new generation batch. */
  batch: boolean;
  /** The task whose job each generation gets in the same statement; null when it runs inline. */
  job: Pick<TaskDefinition<unknown>, "name" | "jobSpecSql"> | null;
  /** Budgets the request's size is counted against. */
  rateLimits: { userPerMinute: number; schoolPerMinute: number };
  requestId: string | null;
}

/** `queued`: created; `replayed`: the user's idempotency key already names one; `refused`: a student is not the school's, or the template is none it may use. */
export type Admission =
  | { kind: "queued"; generations: Generation[]; batchId: string | null }
  | { kind: "replayed"; generation: Generation }
  | { kind: "refused" };

const queueStatements = new Map<string, string>();

function queueSql(job: QueueRequest["job"]): string {
  const name = job?.name ?? "";
  let sql = queueStatements.get(name);
  if (!sql) {
    const jobs = job ? `array(select ${job.jobSpecSql("updated.id", "least(32767, updated.priority + updated.queue_rank)")} from updated)` : "array[]::graphile_worker.job_spec[]";
    sql = `with existing as (
         select g.* from generations g where $7::text is not null and g.requested_by = $8 and g.idempotency_key = $7
       ), ${templateVersionCte("$1", "$17", "$18", DEFAULT_TEMPLATE_ID)}, wanted as (
         select s.id as student_id, r.n from unnest($2::uuid[]) with ordinality as r(id, n) join students s on s.id = r.id and s.school_id = $1
       ), admitted as (
         select (select count(*) from wanted) = cardinality($2::uuid[]) and not exists (select 1 from existing)
           and (select id from template_version) is not null as ok
       ), ${countHitsSql({ userId: "$8", schoolId: "$1", cost: "cardinality($2::uuid[])", when: "(select ok from admitted)" })},
       windows as (${RATE_WINDOWS_SQL}),
       verdict as (
         select iepgen_refuse_over_limit(
           coalesce(bool_or(hits + previous_hits * (1 - elapsed_seconds / 60) > case when scope = 'user' then $14::int else $15::int end), false),
           json_agg(windows)) as ok
         from windows
       ), ahead as (
         select count(*)::int as n from generations where school_id = $1 and status = 'QUEUED'
       ), batch as (
         insert into generation_batches (school_id, requested_by, total)
         select $1, $8, cardinality($2::uuid[]) from admitted, verdict where $3 and admitted.ok and verdict.ok
         returning id
       ), updated as (
         insert into generations (school_id, student_id, batch_id, kind, max_attempts, priority, queue_rank, idempotency_key,
           requested_by, academic_year, instructions, section_kind, base_iep_id, message, stage, last_seq,
           template_version_id, meeting_date, effective_date, annual_review_date, evidence_kinds)
         select $1, wanted.student_id, (select id from batch), $4, $5, $6, ahead.n + wanted.n::int - 1, $7, $8, $9, $10, $11, $12, $13, 'queued', 1,
           (select id from template_version), $19::date, $20::date, $21::date, $22::evidence_kind[]
         from wanted, ahead, admitted, verdict
         where admitted.ok and verdict.ok and (not $3 or exists (select 1 from batch))
         order by wanted.n
         on conflict (requested_by, idempotency_key) where idempotency_key is not null do nothing
         returning *
       ), event as (
         insert into generation_events (generation_id, seq, school_id, status, progress, stage, message)
         select id, 1, school_id, status, progress, stage, message from updated
       ), job as (
         select iepgen_add_jobs(${jobs}) as added
       ), audited as (
         insert into audit_log (school_id, user_id, action, resource_type, resource_id, student_id, request_id)
         select school_id, requested_by, 'REQUESTED', 'GENERATION', id, student_id, $16 from updated
       )
       select updated.*, true as created, ${NOTIFY_GENERATION_EVENT_SQL}::text as notified, (select count(*) from job) as jobs
       from updated
       union all
       select existing.*, false, null, null from existing`;
    queueStatements.set(name, sql);
  }
  return sql;
}

/** QUEUED (or a RUNNING one being taken over) → RUNNING: counts an attempt and fences a new run. */
export async function start(ctx: LifecycleContext, id: string, runnerId: string): Promise<Generation | undefined> {
  const { rows } = await ctx.db.query(prepared("start", [id, runnerId]));
  return parse(rows) ?? refused(ctx, "start", id, "QUEUED, RUNNING");
}

/** A progress event of a running attempt. */
export interface StepEvent {
  stage: RunStage;
  progress: number;
  message: string;
}

const stepArrays = (steps: readonly { stage: GenerationStage; progress: number; message: string }[]) =>
  [steps.map((s) => s.stage), steps.map((s) => s.progress), steps.map((s) => s.message)];

/**
 * `start`, then the run's first step (`first`), in one statement that also reads what the run needs
 * (RunContext): two events (starting, then `first`), one round trip.
 */
export async function startRun(ctx: LifecycleContext, id: string, runnerId: string, first: StepEvent): Promise<{ generation: Generation; context: RunContext } | undefined> {
  const { rows } = await ctx.db.query(prepared("startRun", [id, runnerId, first.stage, first.progress, first.message,
    ...stepArrays([{ stage: "starting", progress: 0.02, message: "Starting" }])]));
  if (!rows[0]) return refused(ctx, "start", id, "QUEUED, RUNNING");
  return { generation: GenerationRow.parse(rows[0]), context: parseRunContext(rows[0].run_context) };
}

/**
 * A running attempt reports progress. Steps that follow each other with no Gemini call between
 * them go in one statement: `before` are stored first, each with its own seq and NOTIFY.
 */
export async function step(ctx: LifecycleContext, run: RunRef, stage: RunStage, progress: number, message: string, before: readonly StepEvent[] = []) {
  const { rows } = before.length === 0
    ? await ctx.db.query(prepared("step", [run.id, run.runId, stage, progress, message]))
    : await ctx.db.query(prepared("steps", [run.id, run.runId, stage, progress, message, ...stepArrays(before)]));
  return parse(rows) ?? refused(ctx, `step(${stage})`, run.id, "RUNNING (this run)");
}

/** The IEP a run saves as it succeeds. */
export interface SavedIep {
  studentId: string;
  academicYear: string;
  content: object;
  model: string;
}

/**
 * RUNNING → SUCCEEDED, storing the IEP with the drafting prompt's version (the student's next version for the year, allocated under
 * lockIepVersions' lock) in the same statement. A version allocated concurrently makes it throw a
 * unique violation on IEP_VERSION_CONSTRAINT (nothing written): call it again.
 */
export async function succeed(ctx: LifecycleContext, run: RunRef, iep: SavedIep) {
  const { rows } = await ctx.db.query(prepared("succeed", [
    run.id, run.runId, JSON.stringify(iep.content), iep.model, iep.studentId, iep.academicYear, PROMPT_VERSION,
  ]));
  return parse(rows) ?? refused(ctx, "succeed", run.id, "RUNNING (this run)");
}

/** How a requeued generation waits; the caller re-adds its job for `runAt` in the same transaction. */
export interface Requeue {
  stage: WaitStage;
  message: string;
  reason: string;
  /** The attempt did not count (an outage, a shutdown, a database fault): give it back. */
  refundAttempt: boolean;
}

/** RUNNING → QUEUED, to run again later. */
export async function requeue(ctx: LifecycleContext, run: RunRef, how: Requeue): Promise<Generation | undefined> {
  const { rows } = await ctx.db.query(prepared("requeue", [run.id, run.runId, how.stage, how.message, how.reason, how.refundAttempt]));
  return parse(rows) ?? refused(ctx, "requeue", run.id, "RUNNING (this run)");
}

/** RUNNING → FAILED with the reason. */
export async function fail(ctx: LifecycleContext, run: RunRef, message: string, reason: string): Promise<Generation | undefined> {
  const { rows } = await ctx.db.query(prepared("fail", [run.id, run.runId, message, reason]));
  return parse(rows) ?? refused(ctx, "fail", run.id, "RUNNING (this run)");
}

/** QUEUED or RUNNING → CANCELLED (any run; the process running it is told separately). */
export async function cancel(ctx: LifecycleContext, id: string): Promise<Generation | undefined> {
  const { rows } = await ctx.db.query(SQL.cancel, [id]);
  return parse(rows) ?? refused(ctx, "cancel", id, "QUEUED, RUNNING");
}

/** FAILED or CANCELLED → QUEUED with attempts starting again; the caller re-adds its job. */
export async function retry(ctx: LifecycleContext, id: string): Promise<Generation | undefined> {
  const { rows } = await ctx.db.query(SQL.retry, [id]);
  return parse(rows) ?? refused(ctx, "retry", id, "FAILED, CANCELLED");
}

/**
 * RUNNING generations that nobody runs any more (their runner died) → QUEUED (stage `recovered`),
 * or FAILED once their attempts are used up: the attempt that crashed counts, so a draft that
 * kills its worker every time ends. The caller re-adds (or removes) their jobs.
 */
export async function recover(ctx: LifecycleContext, generationIds: readonly string[]): Promise<Generation[]> {
  if (generationIds.length === 0) return [];
  const { rows } = await ctx.db.query(SQL.recover, [generationIds]);
  return rows.map((row) => GenerationRow.parse(row));
}

/**
 * Finished generations (SUCCEEDED, FAILED, CANCELLED) that finished more than `olderThanDays` ago
 * and are not archived yet → archived, in one statement: `archived_at` set, the transient
 * `instructions` cleared and their events deleted; the row stays as a summary (status, attempts,
 * timings, error, iep_id) and the IEP is untouched. Only `schoolId`'s, or every school's when null
 * (system work, as the owner). No event is stored or published. Returns how many were archived.
 */
export async function archive(ctx: LifecycleContext, olderThanDays: number, schoolId: string | null): Promise<number> {
  const { rows } = await ctx.db.query(SQL.archive, [olderThanDays, schoolId]);
  const archived = Number((rows[0] as { archived: number } | undefined)?.archived ?? 0);
  ctx.log.debug({ archived, olderThanDays, schoolId }, "archived finished generations");
  return archived;
}

/** The fence of one run: the generation and the run id `start` gave it. */
export interface RunRef {
  id: string;
  runId: string;
}

/** The run fence of a started generation. */
export function runOf(generation: Generation): RunRef {
  if (!generation.run_id) throw new Error(`generation ${generation.id} is not running`);
  return { id: generation.id, runId: generation.run_id };
}
