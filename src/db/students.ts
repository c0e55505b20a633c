import { z } from "zod";
import type { Queryable } from "./pool.ts";

export const DISABILITY_CATEGORIES = [
  "AUTISM", "DEAF_BLINDNESS", "DEAFNESS", "DEVELOPMENTAL_DELAY", "EMOTIONAL_DISTURBANCE",
  "HEARING_IMPAIRMENT", "INTELLECTUAL_DISABILITY", "MULTIPLE_DISABILITIES", "ORTHOPEDIC_IMPAIRMENT",
  "OTHER_HEALTH_IMPAIRMENT", "SPECIFIC_LEARNING_DISABILITY", "SPEECH_OR_LANGUAGE_IMPAIRMENT",
  "TRAUMATIC_BRAIN_INJURY", "VISUAL_IMPAIRMENT",
] as const;
export const DisabilityCategory = z.enum(DISABILITY_CATEGORIES);
export type DisabilityCategory = z.infer<typeof DisabilityCategory>;

export const GRADES = ["PK", "K", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12"] as const;

const pgTextArray = z.union([z.array(z.string()), z.string()]).transform((value) =>
  Array.isArray(value) ? value : value.replace(/^\{|\}$/g, "").split(",").filter(Boolean),
);

const StudentRow = z.object({
  id: z.string(),
  school_id: z.string(),
  first_name: z.string(),
  last_name: z.string(),
  date_of_birth: z.string(),
  grade: z.string(),
  disability_categories: pgTextArray.pipe(z.array(DisabilityCategory)),
  primary_language: z.string(),
  created_at: z.date(),
  updated_at: z.date(),
});
export type Student = z.infer<typeof StudentRow>;

export interface NewStudent {
  schoolId: string;
  firstName: string;
  lastName: string;
  dateOfBirth: string;
  grade: string;
  disabilityCategories: DisabilityCategory[];
  primaryLanguage: string;
  createdBy: string | null;
}

const COLUMNS = `id, school_id, first_name, last_name, to_char(date_of_birth, 'YYYY-MM-DD') as date_of_birth,
  grade, disability_categories::text[] as disability_categories, primary_language, created_at, updated_at`;

export async function insertStudent(db: Queryable, student: NewStudent): Promise<Student> {
  const { rows } = await db.query(
    `insert into students (school_id, first_name, last_name, date_of_birth, grade, disability_categories, primary_language, created_by)
     values ($1, $2, $3, $4, $5, $6::disability_category[], $7, $8) returning ${COLUMNS}`,
    [student.schoolId, student.firstName, student.lastName, student.dateOfBirth, student.grade,
      student.disabilityCategories, student.primaryLanguage, student.createdBy],
  );
  return StudentRow.parse(rows[0]);
}

export async function findStudent(db: Queryable, schoolId: string, id: string): Promise<Student | undefined> {
  const { rows } = await db.query(`select ${COLUMNS} from students where school_id = $1 and id = $2`, [schoolId, id]);
  return rows[0] ? StudentRow.parse(rows[0]) : undefined;
}

export async function findStudentsByIds(db: Queryable, schoolId: string, ids: readonly string[]): Promise<Student[]> {
  const { rows } = await db.query(`select ${COLUMNS} from students where school_id = $1 and id = any($2::uuid[])`, [
    schoolId,
    ids,
  ]);
  return rows.map((row) => StudentRow.parse(row));
}

/** One page of a school's students in creation order, after the student `afterId` (keyset, exact). */
export async function listStudents(
  db: Queryable,
  schoolId: string,
  limit: number,
  afterId: string | null,
): Promise<Student[]> {
  const { rows } = await db.query(
    `select ${COLUMNS} from students
     where school_id = $1
       and ($2::uuid is null or (created_at, id) > (select created_at, id from students where id = $2 and school_id = $1))
     order by created_at, id limit $3`,
    [schoolId, afterId, limit],
  );
  return rows.map((row) => StudentRow.parse(row));
}

export async function countStudents(db: Queryable, schoolId: string): Promise<number> {
  const { rows } = await db.query("select count(*)::int as count from students where school_id = $1", [schoolId]);
  return z.object({ count: z.number() }).parse(rows[0]).count;
}

/** A parent or guardian on a student's record (students.guardians). */
export const GuardianRow = z.object({
  name: z.string(),
  relationship: z.string(),
  email: z.string().nullable().default(null),
  phone: z.string().nullable().default(null),
  address: z.string().nullable().default(null),
});
export type Guardian = z.infer<typeof GuardianRow>;

/** The student's guardians in the order they were given; undefined when the student is not in the school. */
export async function findGuardians(db: Queryable, schoolId: string, studentId: string): Promise<Guardian[] | undefined> {
  const { rows } = await db.query("select guardians from students where school_id = $1 and id = $2", [schoolId, studentId]);
  return rows[0] ? z.array(GuardianRow).parse(rows[0].guardians) : undefined;
}

/** The guardians of several students of the school, in the order of `studentIds` ([] for unknown ids). */
export async function findGuardiansByStudentIds(db: Queryable, schoolId: string, studentIds: readonly string[]): Promise<Guardian[][]> {
  const { rows } = await db.query("select id, guardians from students where school_id = $1 and id = any($2::uuid[])", [schoolId, studentIds]);
  const byId = new Map(rows.map((row) => [row.id as string, z.array(GuardianRow).parse(row.guardians)]));
  return studentIds.map((id) => byId.get(id) ?? []);
}

/** Replaces the student's guardians; false when the student is not in the school. */
export async function updateGuardians(db: Queryable, schoolId: string, studentId: string, guardians: readonly Guardian[]): Promise<boolean> {
  const { rowCount } = await db.query(
    "update students set guardians = $3::jsonb, updated_at = now() where school_id = $1 and id = $2",
    [schoolId, studentId, JSON.stringify(guardians)],
  );
  return rowCount === 1;
}

const ASSIGNED = "($2::uuid is null or exists (select 1 from student_assignments a where a.user_id = $2 and a.student_id = students.id))";

/** listStudents limited in SQL to the students assigned to `assignedTo` (null: the whole school). */
export async function listAccessibleStudents(
  db: Queryable,
  schoolId: string,
  assignedTo: string | null,
  limit: number,
  afterId: string | null,
): Promise<Student[]> {
  const { rows } = await db.query(
    `select ${COLUMNS} from students
     where school_id = $1 and ${ASSIGNED}
       and ($3::uuid is null or (created_at, id) > (select created_at, id from students where id = $3 and school_id = $1))
     order by created_at, id limit $4`,
    [schoolId, assignedTo, afterId, limit],
  );
  return rows.map((row) => StudentRow.parse(row));
}

/** countStudents limited to the students assigned to `assignedTo` (null: the whole school). */
export async function countAccessibleStudents(db: Queryable, schoolId: string, assignedTo: string | null): Promise<number> {
  const { rows } = await db.query(`select count(*)::int as count from students where school_id = $1 and ${ASSIGNED}`, [schoolId, assignedTo]);
  return z.object({ count: z.number() }).parse(rows[0]).count;
}
