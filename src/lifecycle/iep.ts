/**
 * The IEP review lifecycle: the only code that changes an IEP's status or content after a
 * generation saved it.
 *
 *   (generation saves) ──▶ DRAFT ──submit──▶ IN_REVIEW ──approve──▶ FINAL
 *                          │  ▲                │                     │
 *                          └edit               └edit (stays)         └branch ──▶ a new DRAFT version
 *
 * Each transition is ONE SQL statement that writes the IEP row, the section's edit record (the
 * provenance of an edited section) and the audit entry, and names the statuses it may leave from.
 * `edit` is fenced by the IEP's `revision` (bumped by every edit and transition): an edit
 * validated against content someone changed meanwhile does not apply, and the caller validates
 * again on the new content. `branch` allocates the next version under lockIepVersions' lock; a
 * FINAL version continues as at most one DRAFT (unique ieps_based_on_idx). A transition that does
 * not apply returns undefined (logged at debug level) and writes nothing.
 */
import { nextIepVersionCte, parseIepRow, type IepRecord } from "../db/ieps.ts";
import type { LifecycleContext } from "./generation.ts";

/** One section's new content, what it replaces and which JSON paths differ ("annualGoals.goals[0].criterion"). */
export interface SectionChange {
  /** The IEP's content key of the section, e.g. "annualGoals". */
  field: string;
  kind: string;
  content: unknown;
  before: unknown;
  changedPaths: readonly string[];
}

/** Who acts, for the edit record and the audit entry. */
export interface Actor {
  userId: string;
  requestId: string | null;
}

const json = (value: unknown) => JSON.stringify(value ?? null);

/** CTEs after `updated`: the section's edit record and the EDITED audit entry ($2 field… see EDIT_PARAMS). */
const EDIT_RECORD = `edited as (
    insert into iep_section_edits (school_id, iep_id, section_kind, edited_by, changed_paths, before, after, request_id)
    select school_id, id, $4, $5, $6::text[], $7::jsonb, $3::jsonb, $8 from updated
  ), audited as (
    insert into audit_log (school_id, user_id, action, resource_type, resource_id, student_id, request_id)
    select school_id, $5, 'EDITED', 'IEP', id, student_id, $8 from updated
  )`;

/** A status change with its audit entry: $1 the IEP, $2 the user, $3 the request id. */
function statusSql(set: string, from: string, action: string): string {
  return `with updated as (
       update ieps set ${set}, revision = revision + 1, updated_at = now()
       where id = $1 and status = '${from}'
       returning *
     ), audited as (
       insert into audit_log (school_id, user_id, action, resource_type, resource_id, student_id, request_id)
       select school_id, $2, '${action}', 'IEP', id, student_id, $3 from updated
     )
     select * from updated`;
}

const SQL = {
  edit: `with updated as (
       update ieps set content = jsonb_set(content, array[$2::text], $3::jsonb), revision = revision + 1, updated_at = now()
       where id = $1 and status in ('DRAFT', 'IN_REVIEW') and revision = $9
       returning *
     ), ${EDIT_RECORD}
     select * from updated`,
  // Every column of the FINAL version is copied (whatever later migrations add), then the new version's own values.
  branch: `with source as (
       select * from ieps where id = $1 and status = 'FINAL'
     ), ${nextIepVersionCte("$9", "$10")}, updated as (
       insert into ieps
       select (jsonb_populate_record(null::ieps, to_jsonb(s) || jsonb_build_object(
         'id', v.id, 'version', v.version, 'status', 'DRAFT', 'content', jsonb_set(s.content, array[$2::text], $3::jsonb),
         'generation_id', null, 'based_on_iep_id', s.id, 'revision', 0, 'created_at', now(), 'updated_at', now(),
         'submitted_at', null, 'submitted_by', null, 'approved_at', null, 'approved_by', null))).*
       from source s, iep_version v
       returning *
     ), ${EDIT_RECORD}
     select * from updated`,
  submit: statusSql("status = 'IN_REVIEW', submitted_at = now(), submitted_by = $2", "DRAFT", "SUBMITTED"),
  approve: statusSql("status = 'FINAL', approved_at = now(), approved_by = $2", "IN_REVIEW", "APPROVED"),
} as const;

function editParams(id: string, change: SectionChange, actor: Actor): unknown[] {
  return [id, change.field, json(change.content), change.kind, actor.userId, change.changedPaths, json(change.before), actor.requestId];
}

function parse(rows: unknown[]): IepRecord | undefined {
  return rows[0] ? parseIepRow(rows[0]) : undefined;
}

function refused(ctx: LifecycleContext, transition: string, id: string, from: string): undefined {
  ctx.log.debug({ iepId: id, transition, allowedFrom: from }, "IEP transition did not apply");
  return undefined;
}

/** DRAFT or IN_REVIEW, at `revision`: the section's content replaced in place (the status stays). */
export async function edit(ctx: LifecycleContext, id: string, revision: number, change: SectionChange, actor: Actor): Promise<IepRecord | undefined> {
  const { rows } = await ctx.db.query({ name: "iep-edit", text: SQL.edit, values: [...editParams(id, change, actor), revision] });
  return parse(rows) ?? refused(ctx, "edit", id, `DRAFT, IN_REVIEW at revision ${revision}`);
}

/**
 * FINAL (unchanged) → a new DRAFT version of the same student and year, copied from it with the
 * section changed. Throws a unique violation when a version was allocated concurrently
 * (IEP_VERSION_CONSTRAINT: try again) or the FINAL version already continues (ieps_based_on_idx:
 * edit that draft instead).
 */
export async function branch(ctx: LifecycleContext, source: Pick<IepRecord, "id" | "student_id" | "academic_year">, change: SectionChange, actor: Actor): Promise<IepRecord | undefined> {
  const { rows } = await ctx.db.query({
    name: "iep-branch", text: SQL.branch, values: [...editParams(source.id, change, actor), source.student_id, source.academic_year],
  });
  return parse(rows) ?? refused(ctx, "branch", source.id, "FINAL");
}

/** DRAFT → IN_REVIEW, recording who submitted it and when. */
export async function submit(ctx: LifecycleContext, id: string, actor: Actor): Promise<IepRecord | undefined> {
  const { rows } = await ctx.db.query({ name: "iep-submit", text: SQL.submit, values: [id, actor.userId, actor.requestId] });
  return parse(rows) ?? refused(ctx, "submit", id, "DRAFT");
}

/** IN_REVIEW → FINAL, recording who approved it and when. */
export async function approve(ctx: LifecycleContext, id: string, actor: Actor): Promise<IepRecord | undefined> {
  const { rows } = await ctx.db.query({ name: "iep-approve", text: SQL.approve, values: [id, actor.userId, actor.requestId] });
  return parse(rows) ?? refused(ctx, "approve", id, "IN_REVIEW");
}
