import { listStaffNames } from "../db/schools.ts";
import { findGuardians, findStudent, type Student } from "../db/students.ts";
import type { Queryable } from "../db/pool.ts";
import { Pseudonymizer } from "./pseudonymize.ts";

/** A Pseudonymizer for one student: their names and date of birth, their guardians, their school's staff. */
export async function pseudonymizerFor(db: Queryable, student: Student): Promise<Pseudonymizer> {
  const [guardians, staffNames] = await Promise.all([
    findGuardians(db, student.school_id, student.id),
    listStaffNames(db, student.school_id),
  ]);
  return new Pseudonymizer({
    student: { firstName: student.first_name, lastName: student.last_name, dateOfBirth: student.date_of_birth },
    guardians: guardians ?? [],
    staffNames,
  });
}

/** Like pseudonymizerFor, by id; for a student that no longer exists, one that still masks contact details and ids. */
export async function pseudonymizerForStudent(db: Queryable, schoolId: string, studentId: string): Promise<Pseudonymizer> {
  const student = await findStudent(db, schoolId, studentId);
  return student ? pseudonymizerFor(db, student) : new Pseudonymizer({ staffNames: await listStaffNames(db, schoolId) });
}
