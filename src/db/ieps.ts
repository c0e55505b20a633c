import { z } from "zod";
import { LocalDateColumn } from "./dates.ts";
import type { Queryable } from "./pool.ts";

export const IepStatus = z.enum(["DRAFT", "IN_REVIEW", "FINAL"]);

const IepRow = z.object({
  id: z.string(),
  school_id: z.string(),
  student_id: z.string(),
  academic_year: z.string(),
  status: IepStatus,
  version: z.number(),
  content: z.record(z.string(), z.unknown()),
  model: z.string(),
  generation_id: z.string().nullable(),
  created_at: z.date(),
  /** The IEP template version it follows and its dates (migrations/0015_templates.sql); null before templates. */
  template_version_id: z.string().nullable().default(null),
  meeting_date: LocalDateColumn,
  effective_date: LocalDateColumn,
  annual_review_date: LocalDateColumn,
  /** The review workflow's columns (migrations/0014_review.sql, src/lifecycle/iep.ts). */
  revision: z.number(),
  updated_at: z.date(),
  submitted_at: z.date().nullable(),
  submitted_by: z.string().nullable(),
  approved_at: z.date().nullable(),
  approved_by: z.string().nullable(),
  based_on_iep_id: z.string().nullable(),
  prompt_version: z.string().nullable(),
});
export type IepRecord = z.infer<typeof IepRow>;
export type IepStatus = z.infer<typeof IepStatus>;

/** Parses an ieps row (columns it does not know are dropped). */
export const parseIepRow = (row: unknown): IepRecord => IepRow.parse(row);

/**
 * For the `succeed` transition's statement (src/lifecycle/generation.ts), which stores the IEP with
 * the generation's SUCCEEDED row: CTE `iep_version` (a new IEP id and the next version for student
 * $5 and academic year $6, allocated under lockIepVersions' lock), then, after `updated`, CTE `iep`
 * inserting content $3, model $4 and prompt version $7 for the updated generation, with its template version and dates. The version is read with the
 * statement's snapshot, taken before the lock is granted: a version committed meanwhile makes the
 * insert fail as a duplicate (ieps_student_id_academic_year_version_key), to be tried again.
 */
export const NEXT_IEP_VERSION_CTE = nextIepVersionCte("$5", "$6");

/**
 * CTE `iep_version` for the student and academic year in the parameters `student` and `year`
 * (e.g. "$5"): a new IEP id and the next version, under lockIepVersions' lock (see NEXT_IEP_VERSION_CTE).
 */
export function nextIepVersionCte(student: string, year: string): string {
  return `iep_version as (
    select gen_random_uuid() as id, coalesce(max(i.version), 0) + 1 as version, count(lock.locked) as locked
    from (select pg_advisory_xact_lock(hashtextextended('iep-versions:' || ${student}::uuid || ':' || ${year}::text, 0))::text as locked) lock
    left join ieps i on i.student_id = ${student}::uuid and i.academic_year = ${year}::text
  )`;
}
export const INSERT_IEP_CTE = `iep as (
    insert into ieps (id, school_id, student_id, academic_year, version, content, model, generation_id,
      template_version_id, meeting_date, effective_date, annual_review_date, prompt_version)
    select v.id, u.school_id, u.student_id, u.academic_year, v.version, $3::jsonb, $4::text, u.id,
      u.template_version_id, u.meeting_date, u.effective_date, u.annual_review_date, $7::text from updated u, iep_version v
    returning id
  )`;
/** The unique constraint a concurrently allocated IEP version violates. */
export const IEP_VERSION_CONSTRAINT = "ieps_student_id_academic_year_version_key";

/**
 * Serialises version allocation for one student and academic year until the transaction ends.
 * Call before insertIep in the same transaction: its max(version) then sees every committed version.
 */
export async function lockIepVersions(db: Queryable, studentId: string, academicYear: string): Promise<void> {
  await db.query("select pg_advisory_xact_lock(hashtextextended($1, 0))", [`iep-versions:${studentId}:${academicYear}`]);
}

/** Stores a new IEP version for the student and academic year (version = latest + 1). */
export async function insertIep(
  db: Queryable,
  iep: { schoolId: string; studentId: string; academicYear: string; content: object; model: string; generationId: string },
): Promise<IepRecord> {
  const { rows } = await db.query(
    `insert into ieps (school_id, student_id, academic_year, version, content, model, generation_id)
     values ($1, $2, $3,
       (select coalesce(max(version), 0) + 1 from ieps where student_id = $2 and academic_year = $3),
       $4, $5, $6)
     returning *`,
    [iep.schoolId, iep.studentId, iep.academicYear, JSON.stringify(iep.content), iep.model, iep.generationId],
  );
  return IepRow.parse(rows[0]);
}

export async function findIep(db: Queryable, schoolId: string, id: string): Promise<IepRecord | undefined> {
  const { rows } = await db.query("select * from ieps where school_id = $1 and id = $2", [schoolId, id]);
  return rows[0] ? IepRow.parse(rows[0]) : undefined;
}

/** IEPs of the school by id (any order; unknown ids are absent). */
export async function findIepsByIds(db: Queryable, schoolId: string, ids: readonly string[]): Promise<IepRecord[]> {
  const { rows } = await db.query("select * from ieps where school_id = $1 and id = any($2::uuid[])", [schoolId, ids]);
  return rows.map((row) => IepRow.parse(row));
}

/** The IEPs of several students of the school, each student's newest academic year and version first. */
export async function listIepsForStudents(db: Queryable, schoolId: string, studentIds: readonly string[]): Promise<IepRecord[]> {
  const { rows } = await db.query(
    "select * from ieps where school_id = $1 and student_id = any($2::uuid[]) order by academic_year desc, version desc",
    [schoolId, studentIds],
  );
  return rows.map((row) => IepRow.parse(row));
}

/** The DRAFT (or later) version an edit of the FINAL version `id` started, if any. */
export async function findIepBasedOn(db: Queryable, schoolId: string, id: string): Promise<IepRecord | undefined> {
  const { rows } = await db.query("select * from ieps where school_id = $1 and based_on_iep_id = $2", [schoolId, id]);
  return rows[0] ? IepRow.parse(rows[0]) : undefined;
}

/** Every version of several (student, academic year) pairs of the school, each pair's newest first. */
export async function listIepVersions(db: Queryable, schoolId: string, pairs: readonly { studentId: string; academicYear: string }[]): Promise<IepRecord[]> {
  const { rows } = await db.query(
    `select i.* from ieps i join unnest($2::uuid[], $3::text[]) p(student_id, academic_year)
       on i.student_id = p.student_id and i.academic_year = p.academic_year
     where i.school_id = $1 order by i.student_id, i.academic_year, i.version desc`,
    [schoolId, pairs.map((p) => p.studentId), pairs.map((p) => p.academicYear)],
  );
  return rows.map((row) => IepRow.parse(row));
}
