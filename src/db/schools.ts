import { z } from "zod";
import type { Queryable } from "./pool.ts";

export const UserRole = z.enum(["TEACHER", "CASE_MANAGER", "ADMIN"]);
export type UserRole = z.infer<typeof UserRole>;

const SchoolRow = z.object({ id: z.string(), name: z.string(), created_at: z.date() });
export type School = z.infer<typeof SchoolRow>;

const UserRow = z.object({
  id: z.string(),
  school_id: z.string(),
  email: z.string(),
  name: z.string(),
  role: UserRole,
  created_at: z.date(),
});
export type User = z.infer<typeof UserRow>;

export async function insertSchool(db: Queryable, name: string): Promise<School> {
  const { rows } = await db.query("insert into schools (name) values ($1) returning *", [name]);
  return SchoolRow.parse(rows[0]);
}

export async function findSchool(db: Queryable, id: string): Promise<School | undefined> {
  const { rows } = await db.query("select * from schools where id = $1", [id]);
  return rows[0] ? SchoolRow.parse(rows[0]) : undefined;
}

/** Schools by id (any order; unknown ids are absent). */
export async function findSchoolsByIds(db: Queryable, ids: readonly string[]): Promise<School[]> {
  const { rows } = await db.query("select * from schools where id = any($1::uuid[])", [ids]);
  return rows.map((row) => SchoolRow.parse(row));
}

export async function insertUser(
  db: Queryable,
  user: { schoolId: string; email: string; name: string; role: UserRole },
): Promise<User> {
  const { rows } = await db.query(
    "insert into users (school_id, email, name, role) values ($1, $2, $3, $4) returning *",
    [user.schoolId, user.email, user.name, user.role],
  );
  return UserRow.parse(rows[0]);
}

export async function findUser(db: Queryable, id: string): Promise<User | undefined> {
  const { rows } = await db.query("select * from users where id = $1", [id]);
  return rows[0] ? UserRow.parse(rows[0]) : undefined;
}

/** Users of the school by id (any order; unknown ids are absent). */
export async function findUsersByIds(db: Queryable, schoolId: string, ids: readonly string[]): Promise<User[]> {
  const { rows } = await db.query("select * from users where school_id = $1 and id = any($2::uuid[])", [schoolId, ids]);
  return rows.map((row) => UserRow.parse(row));
}

/** A user's school and role, as a re-check needs them. */
export type UserStanding = Pick<User, "id" | "school_id" | "role">;

/**
 * The school and role of those of `ids` that exist, in one statement. Batched re-checks run it
 * outside any request (system context), so it sees every school's users.
 */
export async function findUserStandings(db: Queryable, ids: readonly string[]): Promise<UserStanding[]> {
  const { rows } = await db.query("select id, school_id, role from users where id = any($1::uuid[])", [ids]);
  return rows.map((row) => UserRow.pick({ id: true, school_id: true, role: true }).parse(row));
}

/** The names of a school's users (its staff), oldest account first. */
export async function listStaffNames(db: Queryable, schoolId: string): Promise<string[]> {
  const { rows } = await db.query("select name from users where school_id = $1 order by created_at, id", [schoolId]);
  return rows.map((row) => z.string().parse(row.name));
}
