import pg from "pg";
import { createYoga } from "graphql-yoga";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GraphQLContext } from "../src/context.ts";
import { mapDatabaseError } from "../src/db/errors.ts";
import { withTransaction } from "../src/db/pool.ts";
import { InvalidStateError, MAX_ECHOED_ID_LENGTH, NotFoundError, ValidationError } from "../src/errors.ts";
import { inputHygienePlugin } from "../src/http/hygiene.ts";
import { schema } from "../src/schema/index.ts";
import { createApp } from "../src/yoga.ts";
import { ADD_EVIDENCE, CREATE_STUDENT, createStudentViaApi, startTestStack, type TestStack } from "./helpers/stack.ts";

const HUGE_ID = "a".repeat(100_000);
const NUL = "Ada\u0000Lovelace";
const LONE_SURROGATE = "Ada \ud800 Lovelace";

const GENERATE = /* GraphQL */ `
  mutation HygieneGenerateIep($input: GenerateIepInput!) {
    generateIep(input: $input) {
      __typename
      ... on GenerateIepSuccess { generation { id } }
      ... on ValidationError { message fieldErrors { path message } }
      ... on NotFoundError { resourceId }
    }
  }
`;
const RETRY = /* GraphQL */ `
  mutation HygieneRetry($id: ID!) {
    retryGeneration(id: $id) {
      __typename
      ... on ValidationError { fieldErrors { path message } }
      ... on NotFoundError { resourceType resourceId }
    }
  }
`;

/** The offending fields, sorted (their order follows the input's). */
const paths = (fieldErrors: { path: string[] }[]) => fieldErrors.map((f) => f.path.join(".")).sort();

describe("input hygiene", () => {
  let stack: TestStack;
  let studentId: string;

  beforeAll(async () => {
    stack = await startTestStack({ worker: false });
    studentId = await createStudentViaApi(stack);
  });
  afterAll(() => stack?.close());

  const count = async (table: string) => (await stack.runtime.pool.query(`select count(*)::int as n from ${table}`)).rows[0].n as number;
  const counts = async () => ({
    students: await count("students"), evidence: await count("evidence"),
    generations: await count("generations"), jobs: await count("graphile_worker.jobs"),
  });

  /** A yoga over the real schema, deps and database with the hygiene plugin, as the stack's caller. */
  function hygienicApp() {
    const { deps } = stack.runtime;
    return createYoga<Record<string, unknown>, GraphQLContext>({
      schema,
      maskedErrors: false,
      plugins: [inputHygienePlugin()],
      context: () => ({ viewer: { userId: stack.tenant.userId, schoolId: stack.tenant.schoolId, role: "CASE_MANAGER" }, deps, logger: deps.logger }),
    });
  }
  async function post(app: ReturnType<typeof hygienicApp>, query: string, variables: Record<string, unknown> = {}) {
    const response = await app.fetch("http://app.local/graphql", {
      method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ query, variables }),
    });
    const text = await response.text();
    return { text, ...(JSON.parse(text) as { data?: any; errors?: { message: string; path?: string[]; extensions?: any }[] }) };
  }

  describe("mutation inputs: a typed ValidationError with each field's path, nothing written", () => {
    it("createStudent: NUL and a lone surrogate, from variables and from an inline literal", async () => {
      const before = await counts();
      const { data } = await stack.gql(CREATE_STUDENT, {
        input: { firstName: NUL, lastName: LONE_SURROGATE, dateOfBirth: "2015-05-05", grade: "3", primaryLanguage: "Eng\u0000lish" },
      });
      expect(data.createStudent.__typename).toBe("ValidationError");
      expect(data.createStudent.fieldErrors).toHaveLength(3);
      expect(data.createStudent.fieldErrors).toEqual(expect.arrayContaining([
        { path: ["firstName"], message: "must not contain NUL characters" },
        { path: ["lastName"], message: "must not contain unpaired surrogate characters" },
        { path: ["primaryLanguage"], message: "must not contain NUL characters" },
      ]));
      const inline = await stack.gql(`mutation HygieneInlineStudent {
        createStudent(input: { firstName: "A\\u0000B", lastName: "C", dateOfBirth: "2015-05-05", grade: "3" }) {
          __typename ... on ValidationError { fieldErrors { path message } }
        }
      }`);
      expect(inline.data.createStudent).toEqual({ __typename: "ValidationError", fieldErrors: [{ path: ["firstName"], message: "must not contain NUL characters" }] });
      expect(await counts()).toEqual(before);
    });

    it("addEvidence: NUL in the body, a lone low surrogate in the title", async () => {
      const before = await counts();
      const { data } = await stack.gql(ADD_EVIDENCE, {
        input: { studentId, kind: "PROGRESS_NOTE", title: "Note \udc00", body: `Reads 40 wcpm.\u0000${"x".repeat(1000)}` },
      });
      expect(data.addEvidence.__typename).toBe("ValidationError");
      expect(paths(data.addEvidence.fieldErrors)).toEqual(["body", "title"]);
      expect(await counts()).toEqual(before);
    });

    it("generateIep: NUL in instructions, a lone surrogate in the idempotency key, a 100 KB student id", async () => {
      const before = await counts();
      const text = await stack.gql(GENERATE, { input: { studentId, instructions: "Focus\u0000", idempotencyKey: "k\ud83d" } });
      expect(text.data.generateIep.__typename).toBe("ValidationError");
      expect(paths(text.data.generateIep.fieldErrors)).toEqual(["idempotencyKey", "instructions"]);

      const response = await fetch(stack.graphqlUrl, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${stack.tenant.token}` },
        body: JSON.stringify({ query: GENERATE, variables: { input: { studentId: HUGE_ID } } }),
      });
      const body = await response.text();
      expect(JSON.parse(body).data.generateIep).toMatchObject({ __typename: "ValidationError", fieldErrors: [{ path: ["studentId"] }] });
      expect(body.length).toBeLessThan(1000);
      expect(await counts()).toEqual(before);
    });

    it("retryGeneration: a 100 KB id is a ValidationError, a shorter unknown id a NotFoundError; neither echoed whole", async () => {
      const huge = await stack.gql(RETRY, { id: HUGE_ID });
      expect(huge.data.retryGeneration).toEqual({ __typename: "ValidationError", fieldErrors: [{ path: ["id"], message: "is too long to be an id" }] });
      const nul = await stack.gql(RETRY, { id: "abc\u0000" });
      expect(nul.data.retryGeneration).toEqual({ __typename: "ValidationError", fieldErrors: [{ path: ["id"], message: "must not contain NUL characters" }] });
      const unknown = await stack.gql(RETRY, { id: "not-a-generation" });
      expect(unknown.data.retryGeneration).toEqual({ __typename: "NotFoundError", resourceType: "Generation", resourceId: "not-a-generation" });
    });

    it("NotFoundError never holds more than 100 characters of an id, nor a NUL", () => {
      const error = new NotFoundError("Student", `${"b".repeat(100_000)}`);
      expect(error.resourceId).toBe(`${"b".repeat(MAX_ECHOED_ID_LENGTH)}…`);
      expect(error.message.length).toBeLessThan(200);
      expect(new NotFoundError("Student", "x\u0000y\ud800").resourceId).toBe("x\uFFFDy\uFFFD");
    });
  });

  describe("query and subscription arguments: BAD_USER_INPUT before execution (inputHygienePlugin)", () => {
    it.each([
      ["a 100 KB id", `query HygieneStudent($id: ID!) { student(id: $id) { id } }`, { id: HUGE_ID }, "student", ["id"], /not an id/],
      ["a NUL in an id", `query HygieneGeneration($id: ID!) { generation(id: $id) { id } }`, { id: "a\u0000" }, "generation", ["id"], /NUL/],
      ["a NUL in a search", `query HygieneSearch($s: ID!, $q: String!) { searchEvidence(studentId: $s, query: $q) { score } }`,
        { s: "00000000-0000-0000-0000-000000000000", q: "read\u0000ing" }, "searchEvidence", ["query"], /NUL/],
      ["a lone surrogate in a filter", `query HygieneList($f: GenerationFilter) { generations(filter: $f) { edges { cursor } } }`,
        { f: { studentId: "\ud800" } }, "generations", ["filter", "studentId"], /unpaired surrogate/],
      ["an inline NUL literal with an alias", `query HygieneInline { mine: student(id: "\\u0000") { id } }`, {}, "mine", ["id"], /NUL/],
      ["a 100 KB id on a mutation without ValidationError", `mutation HygieneCancel($id: ID!) { cancelGeneration(id: $id) { __typename } }`,
        { id: HUGE_ID }, "cancelGeneration", ["id"], /not an id/],
    ])("refuses %s", async (_label, query, variables, field, argumentPath, message) => {
      const { data, errors, text } = await post(hygienicApp(), query, variables);
      expect(data).toBeUndefined();
      expect(errors).toHaveLength(1);
      expect(errors![0]!.extensions).toMatchObject({ code: "BAD_USER_INPUT", fieldErrors: [{ path: argumentPath, message: expect.stringMatching(message) }] });
      expect(errors![0]!.path).toEqual([field]);
      expect(text.length).toBeLessThan(1000);
      expect(text).not.toContain("\\u0000");
    });

    it("leaves mutation inputs to their services, so they stay typed union members", async () => {
      const { data, errors } = await post(hygienicApp(), CREATE_STUDENT, { input: { firstName: NUL, lastName: "B", dateOfBirth: "2015-05-05", grade: "3" } });
      expect(errors).toBeUndefined();
      expect(data.createStudent).toMatchObject({ __typename: "ValidationError", fieldErrors: [{ path: ["firstName"] }] });
    });

    it("lets clean requests through", async () => {
      const { data, errors } = await post(hygienicApp(), `query HygieneClean($id: ID!) { student(id: $id) { id } }`, { id: studentId });
      expect(errors).toBeUndefined();
      expect(data.student).toEqual({ id: studentId });
    });

    it("refuses a subscription with a 100 KB id before it starts", async () => {
      const response = await hygienicApp().fetch("http://app.local/graphql", {
        method: "POST",
        headers: { "content-type": "application/json", accept: "text/event-stream" },
        body: JSON.stringify({ query: `subscription HygieneEvents($id: ID!) { generationEvents(id: $id) { seq } }`, variables: { id: HUGE_ID } }),
      });
      const text = await response.text();
      expect(text).toContain("BAD_USER_INPUT");
      expect(text.length).toBeLessThan(1000);
    });
  });

  describe("Postgres errors become typed errors in one place (mapDatabaseError, via withTransaction)", () => {
    const inTransaction = (sql: string, values: unknown[] = []) =>
      withTransaction(stack.runtime.pool, async (client) => {
        await client.query("create temp table scratch (v varchar(3) unique, n int not null default 0) on commit drop");
        await client.query(sql, values);
      }).then(() => undefined, (error: unknown) => error);

    it.each([
      ["NUL (22021)", "select $1::text", ["a\u0000b"], ValidationError, "must not contain NUL characters"],
      ["invalid text representation (22P02)", "select 'nope'::uuid", [], ValidationError, "has the wrong format"],
      ["string too long (22001)", "insert into scratch (v) values ('abcd')", [], ValidationError, "is too long"],
      ["not null (23502)", "insert into scratch (v, n) values ('a', null)", [], ValidationError, "is required"],
      ["unique (23505)", "insert into scratch (v) values ('a'), ('a')", [], InvalidStateError, "already exists"],
    ])("maps %s", async (_label, sql, values, type, message) => {
      const error = await inTransaction(sql, values);
      expect(error).toBeInstanceOf(type);
      expect(JSON.stringify({ message: (error as Error).message, ...(error as object) })).toContain(message);
      expect((error as Error).message).not.toMatch(/select|insert|scratch/i);
      expect((error as Error).cause).toBeInstanceOf(pg.DatabaseError);
    });

    it("maps a check (23514) to the column's field, a missing reference (23503) to NotFoundError; nothing is written", async () => {
      const before = await counts();
      const check = await withTransaction(stack.runtime.pool, (client) => client.query(
        "insert into students (school_id, first_name, last_name, date_of_birth, grade) values ($1, 'A', 'B', '2015-01-01', '13')", [stack.tenant.schoolId],
      )).catch((error: unknown) => error);
      expect(check).toBeInstanceOf(ValidationError);
      expect((check as ValidationError).fieldErrors).toEqual([{ path: ["grade"], message: "is not allowed" }]);
      const missing = "11111111-1111-1111-1111-111111111111";
      const foreignKey = await withTransaction(stack.runtime.pool, (client) => client.query(
        "insert into evidence (school_id, student_id, kind, title, body) values ($1, $2, 'OTHER', 't', 'b')", [stack.tenant.schoolId, missing],
      )).catch((error: unknown) => error);
      expect(foreignKey).toBeInstanceOf(NotFoundError);
      expect(foreignKey).toMatchObject({ resourceType: "Student", resourceId: missing });
      expect(await counts()).toEqual(before);
    });

    it("leaves other errors as they are (they are masked as unexpected)", async () => {
      const error = await inTransaction("select 1 / 0");
      expect(error).toBeInstanceOf(pg.DatabaseError);
      expect(mapDatabaseError(new Error("plain"))).toBeInstanceOf(Error);
    });
  });

  describe("production mode", () => {
    it("masks an unexpected database error: no stack, no SQL, no server message (development shows them)", async () => {
      const pool = stack.runtime.pool;
      await pool.query(`create function hygiene_forced_failure() returns trigger language plpgsql as $$
        begin
          if new.first_name = 'Boom' then
            raise exception 'forced failure: insert into students (first_name) values (%)', new.first_name;
          end if;
          return new;
        end $$`);
      await pool.query("create trigger hygiene_forced_failure before insert on students for each row execute function hygiene_forced_failure()");
      try {
        const before = await counts();
        const input = { firstName: "Boom", lastName: "B", dateOfBirth: "2015-05-05", grade: "3" };
        const development = await stack.gql(CREATE_STUDENT, { input });
        expect(development.errors?.[0]?.extensions?.originalError).toMatchObject({ stack: expect.stringContaining("forced failure") });

        const production = createApp(stack.runtime.deps, { health: stack.runtime.health, production: true });
        const response = await production.fetch("http://app.local/graphql", {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${stack.tenant.token}` },
          body: JSON.stringify({ query: CREATE_STUDENT, variables: { input } }),
        });
        const text = await response.text();
        const body = JSON.parse(text) as { data: unknown; errors: { message: string; extensions?: unknown }[] };
        expect(body.errors).toEqual([expect.objectContaining({ message: "Unexpected error." })]);
        expect(body.errors[0]!.extensions ?? {}).not.toHaveProperty("originalError");
        expect(text).not.toMatch(/forced failure|insert into|students|plpgsql|\.ts:\d+|at /i);
        expect(await counts()).toEqual(before);
      } finally {
        await pool.query("drop trigger hygiene_forced_failure on students");
        await pool.query("drop function hygiene_forced_failure()");
      }
    });
  });
});
