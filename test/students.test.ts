import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../src/yoga.ts";
import { CREATE_STUDENT, createStudentViaApi, startTestStack, TEST_JWT_SECRET, type TestStack } from "./helpers/stack.ts";

const STUDENTS_PAGE = /* GraphQL */ `
  query Page($first: Int, $after: String) {
    students(first: $first, after: $after) {
      totalCount
      edges { cursor node { id firstName } }
      pageInfo { hasNextPage hasPreviousPage endCursor }
    }
  }
`;

describe("students and authentication", () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({ worker: false });
  });
  afterAll(() => stack?.close());

  it("creates a student in the caller's school and reads it back", async () => {
    const { data } = await stack.gql(CREATE_STUDENT, {
      input: { firstName: " Maya ", lastName: "Example", dateOfBirth: "2010-01-15", grade: "10",
        disabilityCategories: ["AUTISM", "AUTISM", "SPEECH_OR_LANGUAGE_IMPAIRMENT"], primaryLanguage: "Spanish" },
    });
    expect(data.createStudent.__typename).toBe("CreateStudentSuccess");
    const student = data.createStudent.student;
    expect(student).toMatchObject({ fullName: "Maya Example", grade: "10", primaryLanguage: "Spanish",
      disabilityCategories: ["AUTISM", "SPEECH_OR_LANGUAGE_IMPAIRMENT"] });
    expect(student.age).toBeGreaterThanOrEqual(16);
    const { rows } = await stack.runtime.pool.query("select school_id, created_by from students where id = $1", [student.id]);
    expect(rows[0]).toEqual({ school_id: stack.tenant.schoolId, created_by: stack.tenant.userId });
  });

  it.each([
    ["an empty first name", { firstName: "  " }, "firstName"],
    ["an unknown grade", { grade: "13" }, "grade"],
    ["a birth date in the future", { dateOfBirth: "2999-01-01" }, "dateOfBirth"],
  ])("answers %s with a typed ValidationError and writes nothing", async (_label, override, field) => {
    const before = (await stack.runtime.pool.query("select count(*)::int as n from students")).rows[0].n;
    const { data } = await stack.gql(CREATE_STUDENT, {
      input: { firstName: "A", lastName: "B", dateOfBirth: "2015-05-05", grade: "3", ...override },
    });
    expect(data.createStudent.__typename).toBe("ValidationError");
    expect(data.createStudent.fieldErrors[0].path).toEqual([field]);
    expect((await stack.runtime.pool.query("select count(*)::int as n from students")).rows[0].n).toBe(before);
  });

  it("rejects a malformed date at the GraphQL layer (LocalDate scalar)", async () => {
    const { data, errors } = await stack.gql(CREATE_STUDENT, {
      input: { firstName: "A", lastName: "B", dateOfBirth: "05/05/2015", grade: "3" },
    });
    expect(data).toBeUndefined();
    expect(errors?.[0]?.message).toMatch(/LocalDate|date/i);
  });

  it("pages through students with stable cursors", async () => {
    const tenant = await stack.createTenant();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await createStudentViaApi(stack, { firstName: `P${i}` }, tenant.token));
    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 5; page++) {
      const result: { data?: any } = await stack.gql(STUDENTS_PAGE, { first: 2, after }, tenant.token);
      const connection = result.data.students;
      expect(connection.totalCount).toBe(5);
      seen.push(...connection.edges.map((e: { node: { id: string } }) => e.node.id));
      if (!connection.pageInfo.hasNextPage) break;
      after = connection.pageInfo.endCursor;
    }
    expect(seen).toEqual(ids);
    const bad = await stack.gql(STUDENTS_PAGE, { first: 2, after: "bogus" }, tenant.token);
    expect(bad.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    const tooMany = await stack.gql(STUDENTS_PAGE, { first: 1000 }, tenant.token);
    expect(tooMany.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
  });

  it("answers 401 UNAUTHENTICATED without a token, with a bad one, or for a deleted user", async () => {
    const none = await stack.gql("{ me { id } }", {}, null);
    expect(none.status).toBe(401);
    expect(none.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");

    const forged = await new SignJWT({ school_id: stack.tenant.schoolId, role: "ADMIN" })
      .setProtectedHeader({ alg: "HS256" }).setSubject(stack.tenant.userId).setIssuer("iepgen").setAudience("iepgen-api")
      .setExpirationTime("1h").sign(new TextEncoder().encode("a-different-secret-that-is-long-enough-000"));
    expect((await stack.gql("{ me { id } }", {}, forged)).status).toBe(401);

    const expired = await new SignJWT({ school_id: stack.tenant.schoolId, role: "CASE_MANAGER" })
      .setProtectedHeader({ alg: "HS256" }).setSubject(stack.tenant.userId).setIssuer("iepgen").setAudience("iepgen-api")
      .setExpirationTime(Math.floor(Date.now() / 1000) - 60).sign(new TextEncoder().encode(TEST_JWT_SECRET));
    expect((await stack.gql("{ me { id } }", {}, expired)).status).toBe(401);

    const doomed = await stack.createTenant("TEACHER");
    expect((await stack.gql("{ me { role school { id } } }", {}, doomed.token)).data.me).toEqual({
      role: "TEACHER", school: { id: doomed.schoolId },
    });
    await stack.runtime.pool.query("delete from users where id = $1", [doomed.userId]);
    expect((await stack.gql("{ me { id } }", {}, doomed.token)).status).toBe(401);
  });

  it("answers schema-only requests without a token outside production, and nothing else", async () => {
    const introspection = await stack.gql("query IntrospectionQuery { __schema { queryType { name } } }", {}, null);
    expect(introspection.status).toBe(200);
    expect(introspection.data).toEqual({ __schema: { queryType: { name: "Query" } } });
    expect((await stack.gql("{ __typename me { id } }", {}, null)).status).toBe(401);
    const mixed = await fetch(stack.graphqlUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: "query A { __schema { queryType { name } } } query B { me { id } }", operationName: "A" }),
    });
    expect(mixed.status).toBe(401);
    expect((await stack.gql("mutation { __typename }", {}, null)).status).toBe(401);

    const productionApp = createApp(stack.runtime.deps, { health: stack.runtime.health, production: true });
    const response = await productionApp.fetch("http://app.local/graphql", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: "{ __schema { queryType { name } } }" }),
    });
    expect(response.status).toBe(401);
  });

  it("serves GraphiQL to browsers and answers GET queries per GraphQL-over-HTTP", async () => {
    const page = await fetch(stack.graphqlUrl, { headers: { accept: "text/html" } });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toMatch(/<title>iepgen<\/title>/);
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=["']?https?:/);
    expect(html).toContain('"subscriptionsProtocol":"SSE"');
    const get = await fetch(`${stack.graphqlUrl}?query=${encodeURIComponent("{ me { name } }")}`, {
      headers: { accept: "application/graphql-response+json", authorization: `Bearer ${stack.tenant.token}` },
    });
    expect(get.status).toBe(200);
    expect(await get.json()).toEqual({ data: { me: { name: "Test User" } } });
    const mutationOverGet = await fetch(`${stack.graphqlUrl}?query=${encodeURIComponent("mutation { __typename }")}`, {
      headers: { accept: "application/graphql-response+json", authorization: `Bearer ${stack.tenant.token}` },
    });
    expect(mutationOverGet.status).toBe(405);
  });
});
