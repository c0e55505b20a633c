import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addEvidence } from "../src/services/evidence.ts";
import {
  ADD_EVIDENCE,
  addReadyEvidence,
  createStudentViaApi,
  startTestStack,
  type TestStack,
  testLogger,
} from "./helpers/stack.ts";

const SEARCH = /* GraphQL */ `
  query Search($studentId: ID!, $query: String!, $first: Int) {
    searchEvidence(studentId: $studentId, query: $query, first: $first) {
      score
      chunk { id text ordinal evidence { id title kind } }
    }
  }
`;

const READING_NOTE = `Progress on IEP Goal 1 (oral reading fluency). On DIBELS 8 oral reading fluency probes the
student read 44 words correct per minute with 92% accuracy, up from a baseline of 18 words correct per minute.
Repeated reading with a partner three times a week improved phrasing and expression. Reading fluency remains
below the grade-level benchmark of 72 words correct per minute.`;
const MATH_NOTE = `Math computation: the student solved 12 of 20 two-digit addition problems with regrouping on the
curriculum-based measure. Errors were mostly in carrying the tens. Manipulatives and a number line helped.`;
const BEHAVIOUR_NOTE = `Classroom behaviour: during independent seatwork the student was on task for 65% of observed
intervals. Movement breaks every 15 minutes and a visual timer reduced off-task behaviour during math.`;

/**
 * Evidence rows, and ingestion jobs (read through graphile-worker's public `jobs` view) whose key
 * names no evidence row (must always be 0). Every ingestion job is added under the key
 * `ingest_evidence:<evidence id>`; nothing here reschedules one, so none loses its key.
 */
async function rowCounts(stack: TestStack) {
  const { rows } = await stack.runtime.pool.query(
    `select (select count(*)::int from evidence) as evidence,
            (select count(*)::int from graphile_worker.jobs j
              where j.task_identifier = 'ingest_evidence'
                and not exists (select 1 from evidence e where j.key = 'ingest_evidence:' || e.id)) as orphan_jobs`,
  );
  return rows[0] as { evidence: number; orphan_jobs: number };
}

describe("evidence", () => {
  let stack: TestStack;
  let studentId: string;

  beforeAll(async () => {
    stack = await startTestStack();
    studentId = await createStudentViaApi(stack);
  });
  afterAll(() => stack?.close());

  it("ingests a document through the real worker: chunked, embedded, READY", async () => {
    const id = await addReadyEvidence(stack, studentId, { title: "Reading fluency note", body: READING_NOTE });
    const { data } = await stack.gql(`query($id: ID!) { evidence(id: $id) { status chunkCount chunks { ordinal text } } }`, { id });
    expect(data.evidence.status).toBe("READY");
    expect(data.evidence.chunkCount).toBeGreaterThan(0);
    expect(data.evidence.chunks[0].text).toContain("oral reading fluency");
    const { rows } = await stack.runtime.pool.query("select vector_dims(embedding) as dims from evidence_chunks where evidence_id = $1", [id]);
    expect(rows.every((row) => row.dims === 768)).toBe(true);
    const embedRequests = stack.simulator.requests.filter((r) => r.operation === "embed");
    expect(embedRequests.length).toBeGreaterThan(0);
  });

  it("ranks the reading-fluency note first for 'reading fluency' (hybrid retrieval)", async () => {
    const other = await createStudentViaApi(stack, { firstName: "Ranking" });
    await addReadyEvidence(stack, other, { title: "Math probe", body: MATH_NOTE });
    const readingId = await addReadyEvidence(stack, other, { title: "Progress note: reading", body: READING_NOTE });
    await addReadyEvidence(stack, other, { title: "Behaviour observation", kind: "TEACHER_OBSERVATION", body: BEHAVIOUR_NOTE });

    const { data, errors } = await stack.gql(SEARCH, { studentId: other, query: "reading fluency", first: 3 });
    expect(errors).toBeUndefined();
    expect(data.searchEvidence.length).toBe(3);
    expect(data.searchEvidence[0].chunk.evidence.id).toBe(readingId);
    const scores = data.searchEvidence.map((m: { score: number }) => m.score);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);

    const math = await stack.gql(SEARCH, { studentId: other, query: "two-digit addition with regrouping", first: 1 });
    expect(math.data.searchEvidence[0].chunk.evidence.title).toBe("Math probe");
  });

  it("scopes search and reads to the caller's school", async () => {
    const outsider = await stack.createTenant();
    const search = await stack.gql(SEARCH, { studentId, query: "reading fluency" }, outsider.token);
    expect(search.errors).toBeUndefined();
    expect(search.data.searchEvidence).toEqual([]);
    const student = await stack.gql(`query($id: ID!) { student(id: $id) { id } }`, { id: studentId }, outsider.token);
    expect(student.data.student).toBeNull();
    const list = await stack.gql(`{ students(first: 50) { totalCount edges { node { id } } } }`, {}, outsider.token);
    expect(list.data.students.totalCount).toBe(0);
    const add = await stack.gql(ADD_EVIDENCE, { input: { studentId, kind: "OTHER", title: "x", body: "y" } }, outsider.token);
    expect(add.data.addEvidence).toMatchObject({ __typename: "NotFoundError", resourceType: "Student", resourceId: studentId });
  });

  it.each([
    ["an empty body", { body: "   " }, ["body"]],
    ["an empty title", { title: "" }, ["title"]],
    ["a body beyond the documented limit", { body: "x".repeat(200_001) }, ["body"]],
    ["a malformed student id", { studentId: "not-a-uuid" }, ["studentId"]],
  ])("answers %s with a typed ValidationError and writes nothing", async (_label, override, path) => {
    const before = await rowCounts(stack);
    const { data, errors } = await stack.gql(ADD_EVIDENCE, {
      input: { studentId, kind: "PROGRESS_NOTE", title: "Note", body: "Some text.", ...override },
    });
    expect(errors).toBeUndefined();
    expect(data.addEvidence.__typename).toBe("ValidationError");
    expect(data.addEvidence.fieldErrors.map((f: { path: string[] }) => f.path)).toContainEqual(path);
    expect(await rowCounts(stack)).toEqual(before);
  });

  it("answers an unknown student with a typed NotFoundError and writes nothing", async () => {
    const before = await rowCounts(stack);
    const missing = "00000000-0000-4000-8000-000000000000";
    const { data } = await stack.gql(ADD_EVIDENCE, { input: { studentId: missing, kind: "OTHER", title: "t", body: "b" } });
    expect(data.addEvidence).toMatchObject({ __typename: "NotFoundError", resourceId: missing });
    expect(await rowCounts(stack)).toEqual(before);
  });

  it("rejects an unknown evidence kind at the GraphQL layer", async () => {
    const { data, errors } = await stack.gql(ADD_EVIDENCE, { input: { studentId, kind: "GOSSIP", title: "t", body: "b" } });
    expect(data).toBeUndefined();
    expect(errors?.[0]?.message).toMatch(/EvidenceKind/);
  });

  it("rolls back the evidence row and its job when the transaction that added them fails at commit", async () => {
    const pool = stack.runtime.pool;
    // The transaction is made to fail as late as possible: a deferred constraint trigger on our own
    // `evidence` table runs at COMMIT, after the row and its ingestion job were written, and raises
    // only if the job is already visible to it (read through graphile-worker's public `jobs` view;
    // graphile's private tables are left alone). A job added on another connection would survive
    // the rollback as an orphan; a job added after the commit would let the commit (and the call)
    // succeed. Only a job added in the same transaction gives the error and leaves nothing.
    await pool.query(`create function fail_evidence_commit() returns trigger language plpgsql as $$
      begin
        if exists (select 1 from graphile_worker.jobs where key = 'ingest_evidence:' || new.id) then
          raise exception 'simulated failure at commit, after the ingestion job was added';
        end if;
        return null;
      end $$`);
    await pool.query(`create constraint trigger fail_evidence_commit after insert on evidence
      deferrable initially deferred for each row execute function fail_evidence_commit()`);
    try {
      const before = await rowCounts(stack);
      const viewer = { userId: stack.tenant.userId, schoolId: stack.tenant.schoolId, role: "CASE_MANAGER" as const };
      await expect(
        addEvidence(pool, viewer, { studentId, kind: "OTHER", title: "Doomed", body: "Never stored." }, { maxChars: 1000, log: testLogger() }),
      ).rejects.toThrow(/simulated failure at commit, after the ingestion job was added/);
      // No evidence row, and no ingestion job left behind for one (orphan_jobs).
      expect(await rowCounts(stack)).toEqual(before);
      const { rows } = await pool.query("select count(*)::int as n from evidence where title = 'Doomed'");
      expect(rows[0].n).toBe(0);
    } finally {
      await pool.query("drop trigger fail_evidence_commit on evidence");
      await pool.query("drop function fail_evidence_commit()");
    }
  });

  it("rejects empty and oversize search arguments with BAD_USER_INPUT", async () => {
    const empty = await stack.gql(SEARCH, { studentId, query: "  " });
    expect(empty.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    const tooMany = await stack.gql(SEARCH, { studentId, query: "reading", first: 500 });
    expect(tooMany.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
  });
});
