import { Writable } from "node:stream";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signToken } from "../src/auth.ts";
import type { Logger } from "../src/logger.ts";
import { generate, waitForStatus } from "./helpers/generation.ts";
import { addReadyEvidence, createStudentViaApi, startTestStack, TEST_JWT_SECRET, waitFor, type TestStack } from "./helpers/stack.ts";

/**
 * Logs are JSON lines with context and nothing secret or identifying: a real flow (a student with
 * identifying names and a guardian, evidence, a generation, refused tokens) runs on a stack whose
 * logger (at debug, the most talkative level) is captured line by line.
 */

const STUDENT = { firstName: "Zephyrine", lastName: "Quillfeather" };
const GUARDIAN = {
  name: "Octavian Quillfeather", relationship: "father", email: "octavian.quillfeather@example.com",
  phone: "(503) 555-0142", address: "42 Larkspur Lane, Portland, OR 97214",
};
const EVIDENCE_BODY = "Zephyrine read 44 words correct per minute with 92% accuracy on the spring probe, up from a "
  + "baseline of 18; her father Octavian reports nightly reading at 42 Larkspur Lane.";
const SET_GUARDIANS = /* GraphQL */ `
  mutation SetGuardiansForLogging($input: SetStudentGuardiansInput!) {
    setStudentGuardians(input: $input) { __typename }
  }
`;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

type Line = Record<string, unknown> & { msg?: string };

function capturingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  let pending = "";
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      pending += chunk.toString();
      const parts = pending.split("\n");
      pending = parts.pop()!;
      lines.push(...parts.filter(Boolean));
      done();
    },
  });
  const logger = pino({ level: "debug", base: { service: "iepgen" }, timestamp: pino.stdTimeFunctions.isoTime }, stream);
  return { logger, lines };
}

describe("logs", () => {
  let stack: TestStack;
  let captured: { logger: Logger; lines: string[] };
  let forged: string;
  let generationId: string;
  let evidenceId: string;
  let studentId: string;

  beforeAll(async () => {
    captured = capturingLogger();
    stack = await startTestStack({ logger: captured.logger });
    studentId = await createStudentViaApi(stack, { ...STUDENT, disabilityCategories: ["SPECIFIC_LEARNING_DISABILITY"] });
    expect((await stack.gql(SET_GUARDIANS, { input: { studentId, guardians: [GUARDIAN] } })).data.setStudentGuardians.__typename)
      .toBe("SetStudentGuardiansSuccess");
    evidenceId = await addReadyEvidence(stack, studentId, { title: "Reading fluency for Zephyrine", body: EVIDENCE_BODY });
    generationId = (await generate(stack, { studentId })).id;
    await waitForStatus(stack, generationId, ["SUCCEEDED"]);
    forged = await signToken({ userId: stack.tenant.userId, schoolId: stack.tenant.schoolId, role: "ADMIN" }, "a-different-secret-that-is-long-enough-0123456789");
    expect((await stack.gql("{ __typename }", {}, forged)).status).toBe(401);
    expect((await stack.gql("{ students(first: 1) { totalCount } }", {}, "not-a-jwt")).status).toBe(401);
  }, 60_000);
  afterAll(async () => { await stack?.close(); });

  const parsed = (): Line[] => captured.lines.map((line) => JSON.parse(line) as Line);
  const isTaskLine = (line: Line) => "task" in line;
  const isWorkerLine = (line: Line) => line.component === "graphile-worker" || line.component === "worker" || isTaskLine(line);

  it("no line holds a token, the JWT secret, the student's or guardian's identity, or evidence text", () => {
    const tokens = [stack.tenant.token, forged, "not-a-jwt", TEST_JWT_SECRET];
    const identity = ["Zephyrine", "Quillfeather", "Octavian", GUARDIAN.email, "555-0142", "Larkspur", "words correct per minute", "nightly reading"];
    expect(captured.lines.length).toBeGreaterThan(20);
    const leaks = [...tokens, ...identity].flatMap((secret) =>
      captured.lines.filter((line) => line.toLowerCase().includes(secret.toLowerCase())).map((line) => `${secret}: ${line}`));
    expect(leaks).toEqual([]);
  });

  it("every API line carries the request id; each request, refused ones included, has an access line", () => {
    const lines = parsed();
    const api = lines.filter((line) => line.msg === "request" || "userId" in line);
    expect(api.length).toBeGreaterThan(10);
    expect(api.filter((line) => typeof line.requestId !== "string")).toEqual([]);
    const refused = api.filter((line) => line.msg === "request" && line.status === 401);
    expect(refused).toHaveLength(2);
    expect(new Set(api.filter((line) => line.msg === "request").map((line) => line.requestId)).size)
      .toBe(api.filter((line) => line.msg === "request").length);
    const untraced = lines.filter((line) => (line.level as number) >= 30 && !isWorkerLine(line) && !line.requestId
      && line.msg !== "listening" && line.msg !== "event loop blocked"); // process-wide lines, not a request's
    expect(untraced.map((line) => line.msg)).toEqual([]);
  });

  it("yoga's own lines carry the id of the request they were logged for", () => {
    const yoga = parsed().filter((line) => line.msg === "yoga");
    expect(yoga.length).toBeGreaterThan(0);
    expect(yoga.filter((line) => typeof line.requestId !== "string")).toEqual([]);
  });

  it("task lines carry the job id and the id of what they work on", () => {
    const tasks = parsed().filter(isTaskLine);
    expect(tasks.map((line) => line.task)).toContain("ingest_evidence");
    for (const line of tasks) {
      expect(line.jobId).toMatch(/^\d+$/);
      expect(line.evidenceId ?? line.generationId).toBeTypeOf("string");
    }
    expect(tasks.some((line) => line.evidenceId === evidenceId)).toBe(true);
  });

  it("X-Request-Id: a valid client id is echoed and logged, an invalid one replaced, a missing one made up", async () => {
    const post = (headers: Record<string, string>) => fetch(stack.graphqlUrl, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${stack.tenant.token}`, ...headers },
      body: JSON.stringify({ query: "{ __typename }" }),
    });
    const mine = await post({ "x-request-id": "trace-7f3a/step.2" });
    expect(mine.headers.get("x-request-id")).toBe("trace-7f3a/step.2");
    await waitFor(async () => parsed().some((line) => line.msg === "request" && line.requestId === "trace-7f3a/step.2"), 5000, "the access line");
    for (const bad of ["x".repeat(201), "has space", "tab\there"]) {
      const replaced = (await post({ "x-request-id": bad })).headers.get("x-request-id");
      expect(replaced).toMatch(UUID);
    }
    expect((await post({})).headers.get("x-request-id")).toMatch(UUID);
    expect((await fetch(`${stack.httpUrl}/healthz`)).headers.get("x-request-id")).toMatch(UUID);
    const graphiql = await fetch(stack.graphqlUrl, { headers: { accept: "text/html" } });
    expect(graphiql.headers.get("x-request-id")).toMatch(UUID);
    await graphiql.arrayBuffer();
  });

  it("the request context uses the header's id: the audit entry of a viewed generation records it", async () => {
    const response = await fetch(stack.graphqlUrl, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${stack.tenant.token}` },
      body: JSON.stringify({ query: "query($id: ID!) { generation(id: $id) { id } }", variables: { id: generationId } }),
    });
    const requestId = response.headers.get("x-request-id");
    expect(requestId).toMatch(UUID);
    expect((await response.json()).data.generation.id).toBe(generationId);
    const audited = await stack.runtime.pool.query("select request_id from audit_log where resource_id = $1 and action = 'VIEWED'", [generationId]);
    expect(audited.rows.map((row) => row.request_id)).toContain(requestId);
  });
});
