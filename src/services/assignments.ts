import type pg from "pg";
import { z } from "zod";
import type { Viewer } from "../auth.ts";
import {
  deleteAssignment,
  existingStudentIds,
  insertAssignment,
  listAssignedStudentIds,
  owningStudentIds,
} from "../db/assignments.ts";
import { findStudent, type Student } from "../db/students.ts";
import { findUser, type User } from "../db/schools.ts";
import { NotFoundError, parseInput } from "../errors.ts";
import { isUuid } from "../ids.ts";

/** The students a viewer may see and act on: the whole school (ADMIN) or their assigned caseload. */
export type StudentAccess = { all: true } | { all: false; ids: ReadonlySet<string> };

/** Loads a viewer's access once: an ADMIN needs no query; others read their assignments. */
export async function loadStudentAccess(pool: pg.Pool, viewer: Viewer): Promise<StudentAccess> {
  if (viewer.role === "ADMIN") return { all: true };
  return { all: false, ids: new Set(await listAssignedStudentIds(pool, viewer.schoolId, viewer.userId)) };
}

/** Whose assignments scope list queries in SQL: null for an ADMIN (the whole school). */
export function assignedTo(viewer: Viewer): string | null {
  return viewer.role === "ADMIN" ? null : viewer.userId;
}

/**
 * Whether every one of `studentIds` that is a student of the viewer's school is accessible. Ids
 * that are not (another school's, unknown) pass, so the resolver reports them as not found, as
 * for any other record of another school.
 */
export async function mayAccessStudents(pool: pg.Pool, viewer: Viewer, access: StudentAccess, studentIds: readonly string[]): Promise<boolean> {
  if (access.all) return true;
  const outside = [...new Set(studentIds)].filter((id) => isUuid(id) && !access.ids.has(id));
  if (outside.length === 0) return true;
  return (await existingStudentIds(pool, viewer.schoolId, outside)).length === 0;
}

/** Whether the students that own a generation, an IEP or a batch are accessible (unknown ids pass: not found later). */
export async function mayAccessRecord(
  pool: pg.Pool, viewer: Viewer, access: StudentAccess, kind: "generation" | "iep" | "batch", id: string,
): Promise<boolean> {
  if (access.all || !isUuid(id)) return true;
  const owners = await owningStudentIds(pool, viewer.schoolId, kind, id);
  return owners.every((studentId) => access.ids.has(studentId));
}

const id = z.string().refine(isUuid, "must be an id");
const AssignmentInput = z.object({ userId: id, studentId: id });

/** A user and a student of one school, joined by an assignment. */
export interface StudentAssignmentView {
  user: User;
  student: Student;
}

/** Assigns a student to a user of the caller's school (idempotent). NotFoundError when either is not in the school. */
export async function assignStudent(pool: pg.Pool, viewer: Viewer, input: unknown): Promise<StudentAssignmentView> {
  const { userId, studentId } = parseInput(AssignmentInput, input);
  const found = await findPair(pool, viewer, userId, studentId);
  await insertAssignment(pool, { schoolId: viewer.schoolId, userId, studentId, assignedBy: viewer.userId });
  return found;
}

/** Removes a student from a user's caseload (idempotent). NotFoundError when either is not in the school. */
export async function unassignStudent(pool: pg.Pool, viewer: Viewer, input: unknown): Promise<StudentAssignmentView> {
  const { userId, studentId } = parseInput(AssignmentInput, input);
  const found = await findPair(pool, viewer, userId, studentId);
  await deleteAssignment(pool, viewer.schoolId, userId, studentId);
  return found;
}

async function findPair(pool: pg.Pool, viewer: Viewer, userId: string, studentId: string): Promise<StudentAssignmentView> {
  const user = await findUser(pool, userId);
  if (!user || user.school_id !== viewer.schoolId) throw new NotFoundError("User", userId);
  const student = await findStudent(pool, viewer.schoolId, studentId);
  if (!student) throw new NotFoundError("Student", studentId);
  return { user, student };
}

/** What an open subscription is about, for re-checking access while it runs. */
export type WatchedRecord = { kind: "student"; id: string } | { kind: "generation" | "iep" | "batch"; id: string };

/**
 * Whether the viewer may still see `record` now: the user's current role (read again, it may have
 * changed) and current caseload. For open subscriptions, which outlive the request that opened them.
 * A user removed or moved to another school is the session's concern (UNAUTHENTICATED, see
 * src/http/revocation.ts), not this check's: it answers true then.
 */
export async function stillAllowed(pool: pg.Pool, viewer: Viewer, record: WatchedRecord): Promise<boolean> {
  const user = await findUser(pool, viewer.userId);
  if (!user || user.school_id !== viewer.schoolId) return true;
  const current: Viewer = { ...viewer, role: user.role };
  const access = await loadStudentAccess(pool, current);
  return record.kind === "student"
    ? mayAccessStudents(pool, current, access, [record.id])
    : mayAccessRecord(pool, current, access, record.kind, record.id);
}
