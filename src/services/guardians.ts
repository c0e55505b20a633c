import { z } from "zod";
import type { Viewer } from "../auth.ts";
import type { Queryable } from "../db/pool.ts";
import { findStudent, updateGuardians, type Student } from "../db/students.ts";
import { NotFoundError, parseInput } from "../errors.ts";
import { phoneKey } from "../privacy/patterns.ts";

const trimmed = (max: number) => z.string().trim().min(1, "must not be empty").max(max, `must be at most ${max} characters`);
const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value) => (typeof value === "string" && value.trim() === "" ? null : value), schema.nullish().transform((v) => v ?? null));

export const GuardianInput = z.object({
  name: trimmed(200),
  relationship: trimmed(60),
  email: optional(z.email("must be an email address").max(254)),
  phone: optional(trimmed(40).refine((phone) => phoneKey(phone) !== undefined, "must be a phone number, e.g. (503) 555-0142 or +44 20 7946 0958")),
  address: optional(trimmed(300)),
});

/** What setStudentGuardians accepts: the whole list, which replaces the current one (at most 10). */
export const SetStudentGuardiansInput = z.object({
  studentId: z.uuid("must be a student id"),
  guardians: z.array(GuardianInput).max(10, "at most 10 guardians"),
});

/**
 * Replaces a student's guardians. They are kept on the record so that their names and contact
 * details are replaced by placeholders before anything about the student reaches Gemini.
 */
export async function setStudentGuardians(db: Queryable, viewer: Viewer, input: unknown): Promise<Student> {
  const valid = parseInput(SetStudentGuardiansInput, input);
  if (!(await updateGuardians(db, viewer.schoolId, valid.studentId, valid.guardians))) throw new NotFoundError("Student", valid.studentId);
  return (await findStudent(db, viewer.schoolId, valid.studentId))!;
}
