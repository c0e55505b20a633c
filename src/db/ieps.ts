import { z } from "zod";
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
});
export type IepRecord = z.infer<typeof IepRow>;

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

export async function listIepsForStudent(db: Queryable, schoolId: string, studentId: string): Promise<IepRecord[]> {
  const { rows } = await db.query(
    "select * from ieps where school_id = $1 and student_id = $2 order by academic_year desc, version desc",
    [schoolId, studentId],
  );
  return rows.map((row) => IepRow.parse(row));
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
