import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signToken } from "../src/auth.ts";
import { insertIep } from "../src/db/ieps.ts";
import { insertUser } from "../src/db/schools.ts";
import type { Runtime } from "../src/runtime.ts";
import { secondsUntilAllowed } from "../src/services/rate-limit.ts";
import { createStudentViaApi, startSecondApi, startTestStack, TEST_JWT_SECRET, type Tenant, type TestStack } from "./helpers/stack.ts";

/** Small budgets so a test can exceed them: 3 per user, 5 per school, per rolling minute. */
const LIMITS = { rateLimits: { userPerMinute: 3, schoolPerMinute: 5 } };

const GENERATE = /* GraphQL */ `
  mutation RateLimitGenerateIep($input: GenerateIepInput!) {
    generateIep(input: $input) {
      __typename
      ... on GenerateIepSuccess { created generation { id } }
      ... on RateLimitedError { message retryAfter limit scope }
    }
  }
`;
const GENERATE_MANY = /* GraphQL */ `
  mutation RateLimitGenerateIeps($input: GenerateIepsInput!) {
    generateIeps(input: $input) {
      __typename
      ... on GenerateIepsSuccess { batch { id } }
      ... on RateLimitedError { retryAfter limit scope }
      ... on ValidationError { fieldErrors { path message } }
    }
  }
`;
const REGENERATE = /* GraphQL */ `
  mutation RateLimitRegenerate($input: RegenerateIepSectionInput!) {
    regenerateIepSection(input: $input) {
      __typename
      ... on RateLimitedError { retryAfter limit scope }
    }
  }
`;
const CANCEL = /* GraphQL */ `
  mutation RateLimitCancel($id: ID!) { cancelGeneration(id: $id) { __typename } }
`;
const RETRY = /* GraphQL */ `
  mutation RateLimitRetry($id: ID!) {
    retryGeneration(id: $id) {
      __typename
      ... on RateLimitedError { retryAfter limit scope }
    }
  }
`;

describe("rate limits on generation requests", () => {
  let stack: TestStack;
  let second: Runtime;

  beforeAll(async () => {
    stack = await startTestStack({ worker: false, security: LIMITS });
    second = await startSecondApi(stack, { security: LIMITS });
  });
  afterAll(async () => {
    await second?.close();
    await stack?.close();
  });

  /** The stack's helpers, pointed at the second API process. */
  function viaSecond(): TestStack {
    const url = second.server!.url;
    return { ...stack, httpUrl: url, graphqlUrl: `${url}/graphql` };
  }
  async function generate(api: TestStack, tenant: Tenant, studentId: string, extra: Record<string, unknown> = {}) {
    return (await api.gql(GENERATE, { input: { studentId, ...extra } }, tenant.token)).data.generateIep;
  }
  async function written(schoolId: string) {
    const { rows } = await stack.runtime.pool.query(
      `select (select count(*)::int from generations where school_id = $1) as generations,
              (select count(*)::int from generation_batches where school_id = $1) as batches,
              (select count(*)::int from graphile_worker.jobs where task_identifier = 'generate_iep') as jobs`,
      [schoolId],
    );
    return rows[0] as { generations: number; batches: number; jobs: number };
  }
  /** Another user in `tenant`'s school. */
  async function colleague(tenant: Tenant): Promise<Tenant> {
    const user = await insertUser(stack.runtime.pool, { schoolId: tenant.schoolId, email: `${randomUUID()}@example.org`, name: "Colleague", role: "CASE_MANAGER" });
    return { schoolId: tenant.schoolId, userId: user.id, token: await signToken({ userId: user.id, schoolId: tenant.schoolId, role: "CASE_MANAGER" }, TEST_JWT_SECRET) };
  }

  it("refuses a user's 4th request in a minute across two API processes, with retryAfter, and writes nothing", async () => {
    const tenant = await stack.createTenant();
    const studentId = await createStudentViaApi(stack, {}, tenant.token);
    expect((await generate(stack, tenant, studentId, { idempotencyKey: "first" })).__typename).toBe("GenerateIepSuccess");
    expect((await generate(viaSecond(), tenant, studentId)).__typename).toBe("GenerateIepSuccess");
    expect((await generate(stack, tenant, studentId)).__typename).toBe("GenerateIepSuccess");
    const before = await written(tenant.schoolId);

    const refused = await generate(viaSecond(), tenant, studentId);
    expect(refused).toMatchObject({ __typename: "RateLimitedError", scope: "USER", limit: 3 });
    expect(refused.retryAfter).toBeGreaterThan(0);
    expect(refused.retryAfter).toBeLessThanOrEqual(120);
    expect(await written(tenant.schoolId)).toEqual(before);
    expect(before.generations).toBe(3);

    const replay = await generate(stack, tenant, studentId, { idempotencyKey: "first" });
    expect(replay).toMatchObject({ __typename: "GenerateIepSuccess", created: false });
  });

  it("counts concurrent requests to two processes exactly", async () => {
    const tenant = await stack.createTenant();
    const studentId = await createStudentViaApi(stack, {}, tenant.token);
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => generate(i % 2 ? viaSecond() : stack, tenant, studentId)));
    const kinds = answers.map((a) => a.__typename);
    expect(kinds.filter((k) => k === "GenerateIepSuccess")).toHaveLength(3);
    expect(kinds.filter((k) => k === "RateLimitedError")).toHaveLength(7);
    expect((await written(tenant.schoolId)).generations).toBe(3);
  });

  it("holds a school's budget across its users; another school is unaffected", async () => {
    const first = await stack.createTenant();
    const other = await colleague(first);
    const studentId = await createStudentViaApi(stack, {}, first.token);
    // The colleague drafts only for students on their caseload.
    await stack.runtime.pool.query("insert into student_assignments (school_id, user_id, student_id) values ($1, $2, $3)", [first.schoolId, other.userId, studentId]);
    for (let i = 0; i < 3; i++) expect((await generate(i % 2 ? viaSecond() : stack, first, studentId)).__typename).toBe("GenerateIepSuccess");
    for (let i = 0; i < 2; i++) expect((await generate(viaSecond(), other, studentId)).__typename).toBe("GenerateIepSuccess");

    const refused = await generate(stack, other, studentId);
    expect(refused).toMatchObject({ __typename: "RateLimitedError", scope: "SCHOOL", limit: 5 });
    expect(refused.retryAfter).toBeGreaterThan(0);
    expect((await written(first.schoolId)).generations).toBe(5);

    const elsewhere = await stack.createTenant();
    const theirStudent = await createStudentViaApi(stack, {}, elsewhere.token);
    expect((await generate(viaSecond(), elsewhere, theirStudent)).__typename).toBe("GenerateIepSuccess");
  });

  it("counts a batch as its size; refuses one that does not fit, and one no budget can hold, writing nothing", async () => {
    const tenant = await stack.createTenant();
    const students = [];
    for (let i = 0; i < 6; i++) students.push(await createStudentViaApi(stack, {}, tenant.token));
    const ok = await stack.gql(GENERATE_MANY, { input: { studentIds: students.slice(0, 2) } }, tenant.token);
    expect(ok.data.generateIeps.__typename).toBe("GenerateIepsSuccess");
    const before = await written(tenant.schoolId);

    const tooMany = await viaSecond().gql(GENERATE_MANY, { input: { studentIds: students.slice(2, 4) } }, tenant.token);
    expect(tooMany.data.generateIeps).toMatchObject({ __typename: "RateLimitedError", scope: "USER", limit: 3 });
    const never = await stack.gql(GENERATE_MANY, { input: { studentIds: students.slice(0, 4) } }, tenant.token);
    expect(never.data.generateIeps).toMatchObject({ __typename: "ValidationError", fieldErrors: [{ path: ["studentIds"] }] });
    expect(await written(tenant.schoolId)).toEqual(before);
    expect(before).toMatchObject({ generations: 2, batches: 1 });

    expect((await generate(stack, tenant, students[5]!)).__typename).toBe("GenerateIepSuccess");
  });

  it("counts retryGeneration like a new request", async () => {
    const tenant = await stack.createTenant();
    const studentId = await createStudentViaApi(stack, {}, tenant.token);
    const cancelled = (await generate(stack, tenant, studentId)).generation.id as string;
    expect((await stack.gql(CANCEL, { id: cancelled }, tenant.token)).data.cancelGeneration.__typename).toBe("CancelGenerationSuccess");
    expect((await generate(stack, tenant, studentId)).__typename).toBe("GenerateIepSuccess");
    expect((await generate(stack, tenant, studentId)).__typename).toBe("GenerateIepSuccess");

    const refused = await viaSecond().gql(RETRY, { id: cancelled }, tenant.token);
    expect(refused.data.retryGeneration).toMatchObject({ __typename: "RateLimitedError", scope: "USER" });
    const { rows } = await stack.runtime.pool.query("select status from generations where id = $1", [cancelled]);
    expect(rows[0].status).toBe("CANCELLED");
  });

  it("counts regenerateIepSection like a new request", async () => {
    const tenant = await stack.createTenant();
    const studentId = await createStudentViaApi(stack, {}, tenant.token);
    const generationId = (await generate(stack, tenant, studentId)).generation.id as string;
    const iep = await insertIep(stack.runtime.pool, { schoolId: tenant.schoolId, studentId, academicYear: "2026-2027", content: {}, model: "test", generationId });
    const regenerate = (api: TestStack) => api.gql(REGENERATE, { input: { iepId: iep.id, section: "ANNUAL_GOALS" } }, tenant.token);
    expect((await regenerate(viaSecond())).data.regenerateIepSection.__typename).toBe("GenerateIepSuccess");
    expect((await regenerate(stack)).data.regenerateIepSection.__typename).toBe("GenerateIepSuccess");
    expect((await regenerate(viaSecond())).data.regenerateIepSection).toMatchObject({ __typename: "RateLimitedError", scope: "USER" });
    expect((await written(tenant.schoolId)).generations).toBe(3);
  });

  it("counts the previous minute too: a rolling minute", async () => {
    const tenant = await stack.createTenant();
    const studentId = await createStudentViaApi(stack, {}, tenant.token);
    await stack.runtime.pool.query(
      "insert into rate_limit_counters (scope, subject, window_start, hits) values ('user', $1, date_trunc('minute', now()) - interval '1 minute', 1000000)",
      [tenant.userId],
    );
    expect(await generate(stack, tenant, studentId)).toMatchObject({ __typename: "RateLimitedError", scope: "USER" });
    expect((await written(tenant.schoolId)).generations).toBe(0);
  });

  it("sweeps counters older than the previous minute as requests are counted", async () => {
    const tenant = await stack.createTenant();
    const studentId = await createStudentViaApi(stack, {}, tenant.token);
    const stale = randomUUID();
    await stack.runtime.pool.query(
      "insert into rate_limit_counters (scope, subject, window_start, hits) values ('school', $1, date_trunc('minute', now()) - interval '10 minutes', 7)",
      [stale],
    );
    expect((await generate(stack, tenant, studentId)).__typename).toBe("GenerateIepSuccess");
    const { rows } = await stack.runtime.pool.query("select count(*)::int as n from rate_limit_counters where subject = $1", [stale]);
    expect(rows[0].n).toBe(0);
  });

  it("tells when the same request would fit", () => {
    // 3 of 3 used this minute, 10 s in: the next one fits once a third of them slid out of the next minute's window.
    expect(secondsUntilAllowed({ scope: "user", hits: 4, previous_hits: 0, elapsed_seconds: 10 }, 3, 1)).toBeCloseTo(50 + 20);
    // 2 used this minute, 30 last minute, 30 s in: wait until the previous minute weighs no more than 0.
    expect(secondsUntilAllowed({ scope: "user", hits: 3, previous_hits: 30, elapsed_seconds: 30 }, 3, 1)).toBeCloseTo(30);
    // 1 used this minute, 4 last minute, 15 s in, limit 3: fits when 4·(1 − t/60) ≤ 1, at t = 45 s.
    expect(secondsUntilAllowed({ scope: "user", hits: 2, previous_hits: 4, elapsed_seconds: 15 }, 3, 1)).toBeCloseTo(30);
  });
});
