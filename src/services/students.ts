import type pg from "pg";
import { z } from "zod";
import type { Viewer } from "../auth.ts";
import { insertAssignment } from "../db/assignments.ts";
import { withTransaction } from "../db/pool.ts";
import { DisabilityCategory, GRADES, insertStudent, type Student } from "../db/students.ts";
import { parseInput } from "../errors.ts";

const trimmed = (max: number) => z.string().trim().min(1, "must not be empty").max(max, `must be at most ${max} characters`);

/** What createStudent accepts. Dates are ISO calendar dates; a student is 0–25 years old. */
export const CreateStudentInput = z.object({
  firstName: trimmed(100),
  lastName: trimmed(100),
  dateOfBirth: z.iso.date("must be a date like 2014-09-01").refine(isPlausibleBirthDate, "must be in the past and at most 25 years ago"),
  grade: z.enum(GRADES, `must be one of ${GRADES.join(", ")}`),
  disabilityCategories: z.array(DisabilityCategory).max(5).default([]).transform((c) => [...new Set(c)]),
  primaryLanguage: trimmed(60).default("English"),
});
export type CreateStudentInput = z.input<typeof CreateStudentInput>;

/**
 * Creates a student in the caller's school; a caller who is not an ADMIN is assigned to the student
 * in the same transaction, so it is on their caseload. Throws ValidationError on bad input
 * (database rules included).
 */
export async function createStudent(pool: pg.Pool, viewer: Viewer, input: unknown): Promise<Student> {
  const valid = parseInput(CreateStudentInput, input);
  return withTransaction(pool, async (client) => {
    const student = await insertStudent(client, { ...valid, schoolId: viewer.schoolId, createdBy: viewer.userId });
    if (viewer.role !== "ADMIN") {
      await insertAssignment(client, { schoolId: viewer.schoolId, userId: viewer.userId, studentId: student.id, assignedBy: viewer.userId });
    }
    return student;
  });
}

/** Whole years between a birth date and `on` (default today, UTC). */
export function ageInYears(dateOfBirth: string, on: Date = new Date()): number {
  const [year, month, day] = dateOfBirth.split("-").map(Number) as [number, number, number];
  const hadBirthday = on.getUTCMonth() + 1 > month || (on.getUTCMonth() + 1 === month && on.getUTCDate() >= day);
  return on.getUTCFullYear() - year - (hadBirthday ? 0 : 1);
}

function isPlausibleBirthDate(value: string): boolean {
  const age = ageInYears(value);
  return new Date(`${value}T00:00:00Z`) < new Date() && age >= 0 && age <= 25;
}
