import type pg from "pg";
import { z } from "zod";
import type { Viewer } from "../auth.ts";
import {
  deleteAssignment,
  existingStudentIds,
  insertAssignment,
  listAssignedStudentIds,
  owningStudentIds,
  unassignedPairs,
  type AccessPair,
} from "../db/assignments.ts";
import type { Queryable } from "../db/pool.ts";
import { findStudent, type Student } from "../db/students.ts";
import { findUser, type User, type UserStanding } from "../db/schools.ts";
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

/** An open subscription's viewer and what it is about. */
export interface RecordWatch {
  viewer: Viewer;
  record: WatchedRecord;
}

/**
 * Which of `watches` may no longer see their record now, in at most one statement: each viewer's
 * current role (`standings`, read again by the caller: an ADMIN sees the whole school) and current
 * caseload. A user removed or moved to another school is the session's concern (UNAUTHENTICATED,
 * see src/http/revocation.ts), not this check's: such watches pass. Each distinct (user, record)
 * is asked once, however many subscriptions share it.
 */
export async function lostAccess<W extends RecordWatch>(db: Queryable, standings: ReadonlyMap<string, UserStanding>, watches: Iterable<W>): Promise<W[]> {
  const pairs = new Map<string, AccessPair>();
  const keyed: [string, W][] = [];
  for (const watch of watches) {
    const { viewer, record } = watch;
    const user = standings.get(viewer.userId);
    if (!user || user.school_id !== viewer.schoolId || user.role === "ADMIN" || !isUuid(record.id)) continue;
    const pair: AccessPair = { userId: viewer.userId, schoolId: viewer.schoolId, kind: record.kind, id: record.id.toLowerCase() };
    pairs.set(pairKey(pair), pair);
    keyed.push([pairKey(pair), watch]);
  }
  if (pairs.size === 0) return [];
  const denied = new Set((await unassignedPairs(db, [...pairs.values()])).map(pairKey));
  return keyed.filter(([key]) => denied.has(key)).map(([, watch]) => watch);
}

function pairKey(pair: AccessPair): string {
  return `${pair.userId} ${pair.schoolId} ${pair.kind} ${pair.id}`;
}
