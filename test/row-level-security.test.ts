import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { asSchool, iterateAsSchool } from "../src/db/tenant.ts";
import { generate, studentWithEvidence, waitForStatus } from "./helpers/generation.ts";
import { createStudentViaApi, startTestStack, type Tenant, type TestStack } from "./helpers/stack.ts";

describe("row-level security: a second wall between schools", () => {
  let stack: TestStack;
  let other: Tenant;
  let mine: string;
  let theirs: string;

  beforeAll(async () => {
    stack = await startTestStack({ worker: false });
    other = await stack.createTenant();
    mine = await createStudentViaApi(stack);
    theirs = await createStudentViaApi(stack, {}, other.token);
  });
  afterAll(async () => {
    await stack?.close();
  });

  it("a deliberately unscoped query run for a request sees only that request's school", async () => {
    const { pool } = stack.runtime;
    const seen = await asSchool(stack.tenant.schoolId, () => pool.query("select id from students"));
    expect(seen.rows.map((row) => row.id)).toEqual([mine]);
    const students = await asSchool(other.schoolId, () => pool.query("select id, school_id from students where id = any($1::uuid[])", [[mine, theirs]]));
    expect(students.rows).toEqual([{ id: theirs, school_id: other.schoolId }]);
    // Every tenant table, joined rows included.
    const events = await asSchool(other.schoolId, () => pool.query("select count(*)::int as n from users where school_id = $1", [stack.tenant.schoolId]));
    expect(events.rows[0].n).toBe(0);
  });

  it("runs a request's statements as iepgen_app, which cannot bypass row-level security", async () => {
    const { rows } = await asSchool(stack.tenant.schoolId, () =>
      stack.runtime.pool.query("select current_user as role, r.rolbypassrls, r.rolsuper from pg_roles r where r.rolname = current_user"));
    expect(rows).toEqual([{ role: "iepgen_app", rolbypassrls: false, rolsuper: false }]);
  });

  it("refuses to write a row of another school for a request", async () => {
    await expect(asSchool(stack.tenant.schoolId, () => stack.runtime.pool.query(
      "insert into students (school_id, first_name, last_name, date_of_birth, grade) values ($1, 'Eve', 'Intruder', '2015-01-01', '3')",
      [other.schoolId]))).rejects.toThrow(/row-level security/);
    const { rows } = await stack.runtime.pool.query("select count(*)::int as n from students where last_name = 'Intruder'");
    expect(rows[0].n).toBe(0);
  });

  it("keeps a subscription's later steps in its school, and system work outside any request sees every school", async () => {
    async function* ids() {
      for (let i = 0; i < 2; i++) yield (await stack.runtime.pool.query("select id from students order by id")).rows.map((row) => row.id);
    }
    const steps: string[][] = [];
    for await (const step of iterateAsSchool(other.schoolId, ids())) steps.push(step);
    expect(steps).toEqual([[theirs], [theirs]]);
    const all = await stack.runtime.pool.query("select id from students where id = any($1::uuid[]) order by id", [[mine, theirs]]);
    expect(all.rows.map((row) => row.id).sort()).toEqual([mine, theirs].sort());
  });

  it("covers every table that holds a school's rows: row-level security on, with a policy (evidence_files included)", async () => {
    const { rows } = await stack.runtime.pool.query<{ table: string; secured: boolean; policies: number }>(
      `select c.relname as table, c.relrowsecurity as secured, (select count(*)::int from pg_policy p where p.polrelid = c.oid) as policies
         from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = 'public' and c.relkind = 'r'
          and exists (select 1 from pg_attribute a where a.attrelid = c.oid and a.attname = 'school_id' and not a.attisdropped)
        order by 1`);
    expect(rows.map((row) => row.table)).toContain("evidence_files");
    expect(rows.filter((row) => !row.secured || row.policies === 0)).toEqual([]);
  });

  it("answers GraphQL as before: each school reaches its own students only", async () => {
    const query = `{ students(first: 10) { edges { node { id } } } }`;
    expect((await stack.gql(query)).data.students.edges.map((e: { node: { id: string } }) => e.node.id)).toEqual([mine]);
    expect((await stack.gql(query, {}, other.token)).data.students.edges.map((e: { node: { id: string } }) => e.node.id)).toEqual([theirs]);
  });
});

describe("row-level security in the worker", () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack();
  });
  afterAll(async () => {
    await stack?.close();
  });

  it("runs each task as its job's school: every event of a draft, the API's and the worker's, is written as iepgen_app for that school", async () => {
    const { pool } = stack.runtime;
    await pool.query(`create table rls_probe (seq int, role text, school text)`);
    await pool.query(`grant insert on rls_probe to iepgen_app`);
    await pool.query(`create function rls_probe_record() returns trigger language plpgsql as $$
      begin insert into rls_probe values (new.seq, current_user, current_setting('iepgen.school_id', true)); return new; end $$`);
    await pool.query(`create trigger rls_probe before insert on generation_events for each row execute function rls_probe_record()`);
    try {
      const studentId = await studentWithEvidence(stack);
      const generation = await generate(stack, { studentId });
      const done = await waitForStatus(stack, generation.id, ["SUCCEEDED", "FAILED"]);
      expect(done.status).toBe("SUCCEEDED");
      const { rows } = await pool.query("select seq, role, school from rls_probe order by seq");
      expect(rows.map((row) => row.seq)).toEqual(done.events.map((e: { seq: number }) => e.seq));
      expect(new Set(rows.map((row) => `${row.role} ${row.school}`))).toEqual(new Set([`iepgen_app ${stack.tenant.schoolId}`]));
    } finally {
      await pool.query("drop trigger rls_probe on generation_events");
    }
  });
});
