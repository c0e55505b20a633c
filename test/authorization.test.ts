import { isListType, isNonNullType, type GraphQLField } from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signToken } from "../src/auth.ts";
import type pg from "pg";
import { deleteAssignment, insertAssignment } from "../src/db/assignments.ts";
import { insertUser, type UserRole } from "../src/db/schools.ts";
import { startWatchers } from "../src/http/watchers.ts";
import { schema } from "../src/schema/index.ts";
import { EVIDENCE_DOCS, generate, sseClient, studentWithEvidence } from "./helpers/generation.ts";
import { createClient as createWsClient } from "graphql-ws";
import WebSocket from "ws";
import { createStudentViaApi, startTestStack, TEST_JWT_SECRET, waitFor, type Tenant, type TestStack } from "./helpers/stack.ts";

/** Ids of one school's records that the walk tries to reach. */
interface Fixture {
  studentId: string;
  evidenceId: string;
  iepId: string;
  generationId: string;
  batchId: string;
  caseManagerId: string;
  teacherId: string;
  templateId: string;
}

/**
 * How a refused caller must see a field: FORBIDDEN (a GraphQL error, no data), hidden (another
 * school's record looks non-existent: null, [], an empty page, a NotFoundError member, or
 * BAD_USER_INPUT "not found" on a subscription), empty (a list filtered in SQL), or own (the
 * field works on the caller's own records only, e.g. `me`, createStudent in their school).
 */
type Outcome = "forbidden" | "hidden" | "empty" | "own";

interface Case {
  /** The selection after the field's arguments, and the variables. */
  document: (f: Fixture) => { args: string; selection: string; variables?: Record<string, unknown> };
  outsider: Outcome;
  teacher: Outcome;
  /** Only for ADMIN-only fields: a CASE_MANAGER of the school is refused as well. */
  caseManager?: Outcome;
}

const PAYLOAD = "{ __typename ... on Error { message } }";
const ASSIGNMENT = (f: Fixture) => ({ args: `(input: { userId: "${f.teacherId}", studentId: "${f.studentId}" })`, selection: PAYLOAD });

/** Every root field needs an entry: a new field fails the walk until its access is decided here. */
const CASES: Record<string, Case> = {
  "Query.me": { document: () => ({ args: "", selection: "{ id }" }), outsider: "own", teacher: "own" },
  "Query.student": { document: (f) => ({ args: `(id: "${f.studentId}")`, selection: "{ id fullName }" }), outsider: "hidden", teacher: "forbidden" },
  "Query.students": { document: () => ({ args: "(first: 10)", selection: "{ totalCount edges { node { id } } }" }), outsider: "empty", teacher: "empty" },
  "Query.evidence": { document: (f) => ({ args: `(id: "${f.evidenceId}")`, selection: "{ id body }" }), outsider: "hidden", teacher: "forbidden" },
  // The server's own settings, no school's data: anyone signed in may read them.
  "Query.evidenceUploadLimits": { document: () => ({ args: "", selection: "{ maxBytes maxPages mediaTypes }" }), outsider: "own", teacher: "own" },
  "Query.searchEvidence": {
    document: (f) => ({ args: `(studentId: "${f.studentId}", query: "reading")`, selection: "{ score chunk { text } }" }),
    outsider: "hidden", teacher: "forbidden",
  },
  "Query.iep": { document: (f) => ({ args: `(id: "${f.iepId}")`, selection: "{ id content }" }), outsider: "hidden", teacher: "forbidden" },
  "Query.generation": { document: (f) => ({ args: `(id: "${f.generationId}")`, selection: "{ id instructions }" }), outsider: "hidden", teacher: "forbidden" },
  "Query.generations": { document: () => ({ args: "(first: 10)", selection: "{ edges { node { id } } }" }), outsider: "empty", teacher: "empty" },
  "Query.caseload": {
    document: (f) => ({ args: `(userId: "${f.caseManagerId}")`, selection: "{ id }" }),
    outsider: "empty", teacher: "forbidden", caseManager: "own",
  },
  "Query.auditLog": {
    document: () => ({ args: "(first: 10)", selection: "{ edges { node { id action resourceId } } }" }),
    outsider: "empty", teacher: "forbidden", caseManager: "forbidden",
  },
  "Query.queueStats": {
    document: () => ({ args: "", selection: "{ finishedLastHour generationsByStatus { succeeded } }" }),
    outsider: "own", teacher: "forbidden", caseManager: "forbidden",
  },
  "Mutation.cleanupGenerations": { document: () => ({ args: "(olderThanDays: 30)", selection: "" }), outsider: "own", teacher: "forbidden", caseManager: "forbidden" },
  "Mutation.createStudent": {
    document: () => ({ args: `(input: { firstName: "Ada", lastName: "Other", dateOfBirth: "2015-09-01", grade: "5" })`, selection: PAYLOAD }),
    outsider: "own", teacher: "forbidden",
  },
  "Mutation.addEvidence": {
    document: (f) => ({ args: `(input: { studentId: "${f.studentId}", kind: OTHER, title: "x", body: "y" })`, selection: PAYLOAD }),
    outsider: "hidden", teacher: "forbidden",
  },
  "Mutation.setStudentGuardians": {
    document: (f) => ({ args: `(input: { studentId: "${f.studentId}", guardians: [] })`, selection: PAYLOAD }),
    outsider: "hidden", teacher: "forbidden",
  },
  "Mutation.generateIep": { document: (f) => ({ args: `(input: { studentId: "${f.studentId}" })`, selection: PAYLOAD }), outsider: "hidden", teacher: "forbidden" },
  "Mutation.regenerateIepSection": {
    document: (f) => ({ args: `(input: { iepId: "${f.iepId}", section: ANNUAL_GOALS })`, selection: PAYLOAD }),
    outsider: "hidden", teacher: "forbidden",
  },
  "Mutation.cancelGeneration": { document: (f) => ({ args: `(id: "${f.generationId}")`, selection: PAYLOAD }), outsider: "hidden", teacher: "forbidden" },
  "Mutation.retryGeneration": { document: (f) => ({ args: `(id: "${f.generationId}")`, selection: PAYLOAD }), outsider: "hidden", teacher: "forbidden" },
  "Mutation.generateIeps": { document: (f) => ({ args: `(input: { studentIds: ["${f.studentId}"] })`, selection: PAYLOAD }), outsider: "hidden", teacher: "forbidden" },
  "Mutation.editIepSection": {
    document: (f) => ({ args: `(input: { iepId: "${f.iepId}", section: PROGRESS_REPORTING, content: { method: "Probes", frequency: "Quarterly" } })`, selection: PAYLOAD }),
    outsider: "hidden", teacher: "forbidden",
  },
  "Mutation.submitIepForReview": { document: (f) => ({ args: `(id: "${f.iepId}")`, selection: PAYLOAD }), outsider: "hidden", teacher: "forbidden" },
  "Mutation.approveIep": { document: (f) => ({ args: `(id: "${f.iepId}")`, selection: PAYLOAD }), outsider: "hidden", teacher: "forbidden" },
  "Mutation.assignStudent": { document: ASSIGNMENT, outsider: "hidden", teacher: "forbidden", caseManager: "forbidden" },
  "Mutation.unassignStudent": { document: ASSIGNMENT, outsider: "hidden", teacher: "forbidden", caseManager: "forbidden" },
  "Query.iepTemplates": { document: () => ({ args: "", selection: "{ id name }" }), outsider: "own", teacher: "own" },
  "Query.iepTemplate": { document: (f) => ({ args: `(id: "${f.templateId}")`, selection: "{ id name }" }), outsider: "hidden", teacher: "own" },
  "Mutation.createIepTemplate": {
    document: () => ({ args: `(input: { name: "Walk" })`, selection: PAYLOAD }), outsider: "own", teacher: "forbidden", caseManager: "forbidden",
  },
  "Mutation.updateIepTemplate": {
    document: (f) => ({ args: `(input: { id: "${f.templateId}", name: "Walked" })`, selection: PAYLOAD }),
    outsider: "hidden", teacher: "forbidden", caseManager: "forbidden",
  },
  "Mutation.archiveIepTemplate": {
    document: (f) => ({ args: `(id: "${f.templateId}")`, selection: PAYLOAD }), outsider: "hidden", teacher: "forbidden", caseManager: "forbidden",
  },
  "Subscription.evidenceStatusChanged": { document: (f) => ({ args: `(studentId: "${f.studentId}")`, selection: "{ id }" }), outsider: "hidden", teacher: "forbidden" },
  "Subscription.generationEvents": { document: (f) => ({ args: `(id: "${f.generationId}")`, selection: "{ seq }" }), outsider: "hidden", teacher: "forbidden" },
  "Subscription.batchProgress": { document: (f) => ({ args: `(id: "${f.batchId}")`, selection: "{ total }" }), outsider: "hidden", teacher: "forbidden" },
};

const ROOTS = [schema.getQueryType()!, schema.getMutationType()!, schema.getSubscriptionType()!];
const ROOT_FIELDS = ROOTS.flatMap((type) => Object.values(type.getFields()).map((field) => ({ type, field, key: `${type.name}.${field.name}` })));

interface Answer {
  data: unknown;
  errors: { message: string; extensions?: Record<string, unknown> }[];
}

/** Runs one root field as `token`: queries and mutations over HTTP, subscriptions over SSE (first result). */
async function run(stack: TestStack, operation: "query" | "mutation" | "subscription", field: string, c: Case, f: Fixture, token: string): Promise<Answer> {
  const { args, selection } = c.document(f);
  const query = `${operation} { ${field}${args} ${selection} }`;
  if (operation !== "subscription") {
    const result = await stack.gql(query, {}, token);
    return { data: result.data?.[field] ?? null, errors: result.errors ?? [] };
  }
  const client = sseClient(stack, token);
  const iterator = client.iterate<Record<string, unknown>>({ query });
  try {
    const first = await iterator.next();
    const value = first.value as { data?: Record<string, unknown> | null; errors?: Answer["errors"] } | undefined;
    return { data: value?.data?.[field] ?? null, errors: value?.errors ?? [] };
  } catch (error) {
    return { data: null, errors: Array.isArray(error) ? error : [{ message: String(error) }] };
  } finally {
    await iterator.return?.();
    client.dispose();
  }
}

function codes(answer: Answer): unknown[] {
  return answer.errors.map((e) => e.extensions?.code);
}

function expectOutcome(answer: Answer, outcome: Outcome, field: GraphQLField<unknown, unknown>, what: string): void {
  const typename = (answer.data as { __typename?: string } | null)?.__typename;
  if (outcome === "forbidden") {
    expect(codes(answer), what).toEqual(["FORBIDDEN"]);
    expect(answer.data, what).toBeNull();
  } else if (outcome === "hidden") {
    const notFound = answer.data === null || typename === "NotFoundError" || (Array.isArray(answer.data) && answer.data.length === 0);
    expect(notFound, `${what}: ${JSON.stringify(answer)}`).toBe(true);
    expect(codes(answer).every((code) => code === "BAD_USER_INPUT"), `${what}: ${JSON.stringify(answer.errors)}`).toBe(true);
  } else if (outcome === "empty") {
    expect(answer.errors, what).toEqual([]);
    const page = answer.data as { edges?: unknown[]; totalCount?: number } | unknown[];
    expect(Array.isArray(page) ? page : page.edges, what).toEqual([]);
    if (!Array.isArray(page) && "totalCount" in page) expect(page.totalCount, what).toBe(0);
  } else {
    expect(answer.errors, `${what}: ${JSON.stringify(answer.errors)}`).toEqual([]);
    expect(isNonNullType(field.type) || isListType(field.type) ? answer.data : true, what).not.toBeNull();
  }
}

describe("authorization: roles, caseloads and schools", () => {
  let stack: TestStack;
  let admin: Tenant;
  let caseManager: Tenant;
  let teacher: Tenant;
  let outsider: Tenant;
  let fixture: Fixture;

  async function colleague(role: UserRole, name: string): Promise<Tenant> {
    const user = await insertUser(stack.runtime.pool, { schoolId: admin.schoolId, email: `${name}-${admin.schoolId}@example.org`, name, role });
    return { schoolId: admin.schoolId, userId: user.id, token: await signToken({ userId: user.id, schoolId: admin.schoolId, role }, TEST_JWT_SECRET) };
  }

  beforeAll(async () => {
    stack = await startTestStack();
    admin = await stack.createTenant("ADMIN");
    caseManager = await colleague("CASE_MANAGER", "Case Manager");
    teacher = await colleague("TEACHER", "Teacher");
    outsider = await stack.createTenant("ADMIN");
    const studentId = await studentWithEvidence(stack, { token: caseManager.token });
    const generation = await generate(stack, { studentId }, { async: false, token: caseManager.token });
    expect(generation.status).toBe("SUCCEEDED");
    const evidence = await stack.gql(`{ student(id: "${studentId}") { evidence { id } } }`, {}, caseManager.token);
    const batch = await stack.gql(`mutation { generateIeps(input: { studentIds: ["${studentId}"] }) { ... on GenerateIepsSuccess { batch { id } } } }`, {}, caseManager.token);
    const template = await stack.gql(`mutation { createIepTemplate(input: { name: "School form" }) { ... on IepTemplateSuccess { template { id } } } }`, {}, admin.token);
    fixture = {
      studentId, evidenceId: evidence.data.student.evidence[0].id, iepId: generation.iep!.id, generationId: generation.id,
      batchId: batch.data.generateIeps.batch.id, caseManagerId: caseManager.userId, teacherId: teacher.userId,
      templateId: template.data.createIepTemplate.template.id,
    };
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
  });

  it("has a decision for every root field, and every root field declares authScopes", () => {
    expect(ROOT_FIELDS.map((f) => f.key).filter((key) => !CASES[key])).toEqual([]);
    const undeclared = ROOT_FIELDS.filter(({ field }) => (field.extensions as { pothosOptions?: { authScopes?: unknown } }).pothosOptions?.authScopes === undefined);
    expect(undeclared.map((f) => f.key)).toEqual([]);
  });

  it("walks every query, mutation and subscription as another school's ADMIN and as an unassigned TEACHER: no data, a typed error", async () => {
    for (const { type, field, key } of ROOT_FIELDS) {
      const c = CASES[key]!;
      const operation = type === ROOTS[0] ? "query" : type === ROOTS[1] ? "mutation" : "subscription";
      expectOutcome(await run(stack, operation, field.name, c, fixture, outsider.token), c.outsider, field, `${key} as another school`);
      expectOutcome(await run(stack, operation, field.name, c, fixture, teacher.token), c.teacher, field, `${key} as an unassigned TEACHER`);
      if (c.caseManager) expectOutcome(await run(stack, operation, field.name, c, fixture, caseManager.token), c.caseManager, field, `${key} as a CASE_MANAGER`);
    }
    // Refused calls wrote nothing: the teacher is still on no caseload; nothing was added to the student.
    const caseload = await stack.gql(`{ caseload(userId: "${teacher.userId}") { id } }`, {}, admin.token);
    expect(caseload.data.caseload).toEqual([]);
    const { rows } = await stack.runtime.pool.query("select count(*)::int as n from evidence where student_id = $1", [fixture.studentId]);
    expect(rows[0].n).toBe(EVIDENCE_DOCS.length);
  });

  const STUDENTS = "{ students(first: 100) { totalCount edges { node { id } } } }";
  const ids = (result: { data?: { students: { edges: { node: { id: string } }[] } } }) => result.data!.students.edges.map((e) => e.node.id).sort();

  it("a TEACHER sees and drafts for exactly the assigned students; ADMIN sees the whole school; changes apply on the next request", async () => {
    const other = await createStudentViaApi(stack, {}, admin.token);
    const assign = await stack.gql(`mutation { assignStudent(input: { userId: "${teacher.userId}", studentId: "${other}" }) { __typename ... on AssignStudentSuccess { assignment { user { id } student { id } } } } }`, {}, admin.token);
    expect(assign.data.assignStudent).toEqual({ __typename: "AssignStudentSuccess", assignment: { user: { id: teacher.userId }, student: { id: other } } });

    const seen = await stack.gql(STUDENTS, {}, teacher.token);
    expect(ids(seen)).toEqual([other]);
    expect(seen.data.students.totalCount).toBe(1);
    const drafted = await stack.gql(`mutation { generateIep(input: { studentId: "${other}" }) { __typename } }`, {}, teacher.token);
    expect(drafted.data.generateIep.__typename).toBe("GenerateIepSuccess");
    const generations = await stack.gql("{ generations(first: 100) { edges { node { student { id } } } } }", {}, teacher.token);
    expect(new Set(generations.data.generations.edges.map((e: { node: { student: { id: string } } }) => e.node.student.id))).toEqual(new Set([other]));
    expect((await stack.gql(`{ caseload(userId: "${teacher.userId}") { id } }`, {}, teacher.token)).data.caseload).toEqual([{ id: other }]);

    const all = await stack.gql(STUDENTS, {}, admin.token);
    expect(ids(all)).toEqual([fixture.studentId, other].sort());
    expect(all.data.students.totalCount).toBe(2);
    expect(ids(await stack.gql(STUDENTS, {}, caseManager.token))).toEqual([fixture.studentId]);

    const unassign = await stack.gql(`mutation { unassignStudent(input: { userId: "${teacher.userId}", studentId: "${other}" }) { __typename } }`, {}, admin.token);
    expect(unassign.data.unassignStudent.__typename).toBe("UnassignStudentSuccess");
    expect(ids(await stack.gql(STUDENTS, {}, teacher.token))).toEqual([]);
    const gone = await stack.gql(`{ student(id: "${other}") { id } }`, {}, teacher.token);
    expect(gone.data.student).toBeNull();
    expect(codes({ data: null, errors: gone.errors ?? [] })).toEqual(["FORBIDDEN"]);
  });

  it("ends an open subscription with FORBIDDEN within 10 s once its student leaves the caller's caseload (SSE and graphql-ws)", async () => {
    const studentId = await createStudentViaApi(stack, {}, caseManager.token);
    const assign = `mutation($userId: ID!, $studentId: ID!) { assignStudent(input: { userId: $userId, studentId: $studentId }) { __typename } }`;
    const unassign = `mutation($userId: ID!, $studentId: ID!) { unassignStudent(input: { userId: $userId, studentId: $studentId }) { __typename } }`;
    expect((await stack.gql(assign, { userId: teacher.userId, studentId }, admin.token)).data.assignStudent.__typename).toBe("AssignStudentSuccess");
    const query = `subscription($studentId: ID!) { evidenceStatusChanged(studentId: $studentId) { id status } }`;
    const sse = sseClient(stack, teacher.token);
    const ws = createWsClient({ url: stack.wsUrl, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${teacher.token}` } });
    const seen = [0, 0];
    const ended = [sse, ws].map((client, i) => new Promise<{ errors: unknown; at: number }>((resolve) => {
      client.subscribe({ query, variables: { studentId } }, {
        next: (result) => (result.errors ? resolve({ errors: result.errors, at: Date.now() }) : (seen[i]! += 1)),
        error: (errors) => resolve({ errors, at: Date.now() }),
        complete: () => resolve({ errors: "completed without an error", at: Date.now() }),
      });
    }));
    try {
      // Both are live once they carry an event: the case manager adds evidence (again every second) until each has seen one.
      let lastAdded = 0;
      await waitFor(async () => {
        if (seen.every((n) => n > 0)) return true;
        if (Date.now() - lastAdded < 1000) return false;
        lastAdded = Date.now();
        const added = await stack.gql(`mutation($studentId: ID!) { addEvidence(input: { studentId: $studentId, kind: OTHER, title: "Probe", body: "Read 40 wpm." }) { __typename } }`,
          { studentId }, caseManager.token);
        expect(added.data.addEvidence.__typename).toBe("AddEvidenceSuccess");
        return false;
      }, 20_000, "both subscriptions to be live");
      const removedAt = Date.now();
      expect((await stack.gql(unassign, { userId: teacher.userId, studentId }, admin.token)).data.unassignStudent.__typename).toBe("UnassignStudentSuccess");
      for (const { errors, at } of await Promise.all(ended)) {
        expect(JSON.stringify(errors)).toContain("FORBIDDEN");
        expect(at - removedAt).toBeLessThan(10_000);
      }
    } finally {
      sse.dispose();
      await ws.dispose();
    }
  });

  it("takes the role from the user's row on every request, not from the token", async () => {
    const promoted = await colleague("TEACHER", "Promoted");
    expect(ids(await stack.gql(STUDENTS, {}, promoted.token))).toEqual([]);
    await stack.runtime.pool.query("update users set role = 'ADMIN' where id = $1", [promoted.userId]);
    const all = await stack.gql(STUDENTS, {}, promoted.token);
    expect(all.data.students.totalCount).toBeGreaterThanOrEqual(2);
    const me = await stack.gql("{ me { role } }", {}, promoted.token);
    expect(me.data.me.role).toBe("ADMIN");
  });

  it("assigns a student created by a CASE_MANAGER to its creator; an unknown user or student is a NotFoundError", async () => {
    const created = await createStudentViaApi(stack, {}, caseManager.token);
    const caseload = await stack.gql(`{ caseload(userId: "${caseManager.userId}") { id } }`, {}, admin.token);
    expect(caseload.data.caseload.map((s: { id: string }) => s.id)).toContain(created);
    const missing = "11111111-1111-1111-1111-111111111111";
    const unknown = await stack.gql(`mutation { assignStudent(input: { userId: "${missing}", studentId: "${created}" }) { __typename ... on NotFoundError { resourceType } } }`, {}, admin.token);
    expect(unknown.data.assignStudent).toEqual({ __typename: "NotFoundError", resourceType: "User" });
    const bad = await stack.gql(`mutation { assignStudent(input: { userId: "${teacher.userId}", studentId: "nope" }) { __typename } }`, {}, admin.token);
    expect(bad.data.assignStudent.__typename).toBe("ValidationError");
  });

  it("re-checks many subscriptions of one user with one user statement and one access statement per tick, and ends each that lost access", async () => {
    const watcher = await colleague("TEACHER", "Watcher");
    const studentId = await createStudentViaApi(stack, {}, caseManager.token);
    expect(await insertAssignment(stack.runtime.pool, { schoolId: admin.schoolId, userId: watcher.userId, studentId, assignedBy: admin.userId })).toBe(true);
    const statements: string[] = [];
    const counting = { query: (text: string, values?: unknown[]) => (statements.push(text), stack.runtime.pool.query(text, values)) } as unknown as pg.Pool;
    const watchers = startWatchers(counting, 50, stack.runtime.deps.logger);
    const viewer = { userId: watcher.userId, schoolId: admin.schoolId, role: "TEACHER" as const };
    const gone = new Set<number>();
    const denied = new Set<number>();
    const unwatch = Array.from({ length: 200 }, (_, i) => i % 2 === 0
      ? watchers.watchUser(viewer, () => gone.add(i))
      : watchers.watchRecord(viewer, { kind: "student", id: studentId }, () => denied.add(i)));
    try {
      await waitFor(async () => statements.length >= 6, 10_000, "three ticks");
      const perTick = statements.slice(0, 6).map((text) => (text.includes("from users") ? "users" : text.includes("student_assignments") ? "pairs" : text));
      expect(perTick).toEqual(["users", "pairs", "users", "pairs", "users", "pairs"]);
      expect([gone.size, denied.size]).toEqual([0, 0]);

      await deleteAssignment(stack.runtime.pool, admin.schoolId, watcher.userId, studentId);
      await waitFor(async () => denied.size === 100, 10_000, "every record watch to be denied");
      expect(gone.size).toBe(0);
      await stack.runtime.pool.query("delete from users where id = $1", [watcher.userId]);
      await waitFor(async () => gone.size === 100, 10_000, "every user watch to see its user gone");
    } finally {
      for (const end of unwatch) end();
    }
  });
});
