import { z } from "zod";
import type { Queryable } from "./pool.ts";

const AssignmentRow = z.object({
  school_id: z.string(),
  user_id: z.string(),
  student_id: z.string(),
  assigned_by: z.string().nullable(),
  created_at: z.date(),
});
export type Assignment = z.infer<typeof AssignmentRow>;

/** Assigns a student to a user of the same school; an existing assignment is kept. Returns false when either is not in the school. */
export async function insertAssignment(
  db: Queryable,
  assignment: { schoolId: string; userId: string; studentId: string; assignedBy: string | null },
): Promise<boolean> {
  const { rowCount } = await db.query(
    `insert into student_assignments (school_id, user_id, student_id, assigned_by)
     select $1, u.id, s.id, $4 from users u, students s
     where u.id = $2 and u.school_id = $1 and s.id = $3 and s.school_id = $1
     on conflict (user_id, student_id) do nothing`,
    [assignment.schoolId, assignment.userId, assignment.studentId, assignment.assignedBy],
  );
  return rowCount === 1 || (await isAssigned(db, assignment.schoolId, assignment.userId, assignment.studentId));
}

/** Removes an assignment; false when there was none. */
export async function deleteAssignment(db: Queryable, schoolId: string, userId: string, studentId: string): Promise<boolean> {
  const { rowCount } = await db.query(
    "delete from student_assignments where school_id = $1 and user_id = $2 and student_id = $3",
    [schoolId, userId, studentId],
  );
  return rowCount === 1;
}

export async function isAssigned(db: Queryable, schoolId: string, userId: string, studentId: string): Promise<boolean> {
  const { rows } = await db.query(
    "select 1 from student_assignments where school_id = $1 and user_id = $2 and student_id = $3",
    [schoolId, userId, studentId],
  );
  return rows.length > 0;
}

/** The ids of the students assigned to a user (their caseload). */
export async function listAssignedStudentIds(db: Queryable, schoolId: string, userId: string): Promise<string[]> {
  const { rows } = await db.query(
    "select student_id from student_assignments where school_id = $1 and user_id = $2 order by created_at, student_id",
    [schoolId, userId],
  );
  return rows.map((row) => z.string().parse(row.student_id));
}

/** The students that own records of the school: a generation's, an IEP's, or a batch's generations' ([] when unknown). */
export async function owningStudentIds(db: Queryable, schoolId: string, kind: "generation" | "iep" | "batch", id: string): Promise<string[]> {
  const sql = {
    generation: "select student_id from generations where school_id = $1 and id = $2",
    iep: "select student_id from ieps where school_id = $1 and id = $2",
    batch: "select distinct student_id from generations where school_id = $1 and batch_id = $2",
  }[kind];
  const { rows } = await db.query(sql, [schoolId, id]);
  return rows.map((row) => z.string().parse(row.student_id));
}

/** Which of `ids` are students of the school. */
export async function existingStudentIds(db: Queryable, schoolId: string, ids: readonly string[]): Promise<string[]> {
  const { rows } = await db.query("select id from students where school_id = $1 and id = any($2::uuid[])", [schoolId, ids]);
  return rows.map((row) => z.string().parse(row.id));
}

/** A user watching a record of their school (a student, or what a student owns). */
export interface AccessPair {
  userId: string;
  schoolId: string;
  kind: "student" | "generation" | "iep" | "batch";
  id: string;
}

/**
 * Of `pairs`, in one statement, those whose record has an owning student of the school that is
 * not assigned to the user (as owningStudentIds and existingStudentIds: unknown records pass).
 * Run outside any request (system context): the pairs span schools.
 */
export async function unassignedPairs(db: Queryable, pairs: readonly AccessPair[]): Promise<AccessPair[]> {
  const { rows } = await db.query(
    `select distinct w.user_id, w.school_id, w.kind, w.id
     from unnest($1::uuid[], $2::uuid[], $3::text[], $4::uuid[]) as w(user_id, school_id, kind, id)
     cross join lateral (
       select s.id as student_id from students s where w.kind = 'student' and s.school_id = w.school_id and s.id = w.id
       union all select g.student_id from generations g where w.kind = 'generation' and g.school_id = w.school_id and g.id = w.id
       union all select i.student_id from ieps i where w.kind = 'iep' and i.school_id = w.school_id and i.id = w.id
       union all select g.student_id from generations g where w.kind = 'batch' and g.school_id = w.school_id and g.batch_id = w.id
     ) o
     where not exists (
       select 1 from student_assignments a where a.school_id = w.school_id and a.user_id = w.user_id and a.student_id = o.student_id
     )`,
    [pairs.map((p) => p.userId), pairs.map((p) => p.schoolId), pairs.map((p) => p.kind), pairs.map((p) => p.id)],
  );
  return rows.map((row) => ({
    userId: z.string().parse(row.user_id), schoolId: z.string().parse(row.school_id),
    kind: z.enum(["student", "generation", "iep", "batch"]).parse(row.kind), id: z.string().parse(row.id),
  }));
}
