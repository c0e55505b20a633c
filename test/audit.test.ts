import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GENERATE_IEP } from "./helpers/generation.ts";
import { signToken } from "../src/auth.ts";
import { createStudentViaApi, startTestStack, TEST_JWT_SECRET, type TestStack } from "./helpers/stack.ts";

const CANCEL = `mutation($id: ID!) { cancelGeneration(id: $id) { __typename } }`;
const RETRY = `mutation($id: ID!) { retryGeneration(id: $id) { __typename } }`;

describe("the audit log", () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({ worker: false });
  });
  afterAll(async () => {
    await stack?.close();
  });

  async function post(query: string, variables: Record<string, unknown>, requestId: string) {
    const response = await fetch(stack.graphqlUrl, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${stack.tenant.token}`, "x-request-id": requestId },
      body: JSON.stringify({ query, variables }),
    });
    return (await response.json()) as { data?: any; errors?: unknown[] };
  }

  const rowsFor = async (resourceId: string) =>
    (await stack.runtime.pool.query(
      "select school_id, user_id, action, resource_type, student_id, request_id from audit_log where resource_id = $1 order by id",
      [resourceId])).rows;

  it("records who requested, cancelled and retried which student's generation, from which request, in the same transaction", async () => {
    const studentId = await createStudentViaApi(stack);
    const requested = await post(GENERATE_IEP, { input: { studentId } }, "req-generate-1");
    const generationId = requested.data.generateIep.generation.id as string;
    expect((await post(CANCEL, { id: generationId }, "req-cancel-1")).data.cancelGeneration.__typename).toBe("CancelGenerationSuccess");
    expect((await post(RETRY, { id: generationId }, "req-retry-1")).data.retryGeneration.__typename).toBe("GenerateIepSuccess");
    // Refused actions leave no entry: cancelling twice is fine, but a finished one cannot be retried.
    expect((await post(RETRY, { id: generationId }, "req-retry-refused")).data.retryGeneration.__typename).toBe("InvalidStateError");

    const who = { school_id: stack.tenant.schoolId, user_id: stack.tenant.userId, resource_type: "GENERATION", student_id: studentId };
    expect(await rowsFor(generationId)).toEqual([
      { ...who, action: "REQUESTED", request_id: "req-generate-1" },
      { ...who, action: "CANCELLED", request_id: "req-cancel-1" },
      { ...who, action: "RETRIED", request_id: "req-retry-1" },
    ]);
  });

  it("records nothing for a request that wrote nothing", async () => {
    const before = (await stack.runtime.pool.query("select count(*)::int as n from audit_log")).rows[0].n;
    const missing = await post(GENERATE_IEP, { input: { studentId: randomUUID() } }, "req-missing");
    expect(missing.data.generateIep.__typename).toBe("NotFoundError");
    expect((await stack.runtime.pool.query("select count(*)::int as n from audit_log")).rows[0].n).toBe(before);
  });

  it("records each read of a generation (VIEWED) and shows the school's log to an ADMIN only, newest first", async () => {
    const studentId = await createStudentViaApi(stack);
    const generationId = (await post(GENERATE_IEP, { input: { studentId } }, "req-generate-3")).data.generateIep.generation.id as string;
    expect((await post(`query($id: ID!) { generation(id: $id) { id } }`, { id: generationId }, "req-view-1")).data.generation.id).toBe(generationId);
    expect((await rowsFor(generationId)).map((row) => [row.action, row.request_id])).toEqual([["REQUESTED", "req-generate-3"], ["VIEWED", "req-view-1"]]);

    const AUDIT = `query($studentId: ID!) { auditLog(filter: { studentId: $studentId }, first: 10) {
      edges { node { action resourceType resourceId studentId userId requestId at } } } }`;
    const admin = await stack.createTenant("ADMIN");
    await stack.runtime.pool.query("update users set school_id = $1 where id = $2", [stack.tenant.schoolId, admin.userId]);
    const adminToken = await signToken({ userId: admin.userId, schoolId: stack.tenant.schoolId, role: "ADMIN" }, TEST_JWT_SECRET);
    const log = await stack.gql(AUDIT, { studentId }, adminToken);
    expect(log.errors).toBeUndefined();
    expect(log.data.auditLog.edges.map((e: { node: { action: string } }) => e.node.action)).toEqual(["VIEWED", "REQUESTED"]);
    expect(log.data.auditLog.edges[0].node).toMatchObject({ resourceType: "GENERATION", resourceId: generationId, studentId, userId: stack.tenant.userId, requestId: "req-view-1" });
    // A case manager (not an ADMIN) may not read it.
    const refused = await stack.gql(AUDIT, { studentId });
    expect(refused.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    expect(refused.data?.auditLog ?? null).toBeNull();
  });

  it("is append-only: entries cannot be changed or removed", async () => {
    const studentId = await createStudentViaApi(stack);
    const generationId = (await post(GENERATE_IEP, { input: { studentId } }, "req-generate-2")).data.generateIep.generation.id as string;
    await expect(stack.runtime.pool.query("update audit_log set user_id = null where resource_id = $1", [generationId]))
      .rejects.toThrow(/append-only: UPDATE/);
    await expect(stack.runtime.pool.query("delete from audit_log where resource_id = $1", [generationId]))
      .rejects.toThrow(/append-only: DELETE/);
    expect(await rowsFor(generationId)).toHaveLength(1);
  });
});
