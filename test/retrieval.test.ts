import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hybridSearchChunks, type RankedChunk } from "../src/db/evidence.ts";
import { asSchool } from "../src/db/tenant.ts";
import { SECTION_RETRIEVAL_QUERIES } from "../src/iep/prompt.ts";
import { RRF_K, searchStudentEvidence, searchStudentEvidenceMany } from "../src/services/retrieval.ts";
import { addReadyEvidence, createStudentViaApi, startTestStack, type Tenant, type TestStack } from "./helpers/stack.ts";

const DOCUMENTS = [
  { title: "Reading", body: "Oral reading fluency rose from 18 to 44 words correct per minute. Repeated reading with a partner improved phrasing." },
  { title: "Math", body: "Math computation: 12 of 20 two-digit addition problems with regrouping solved. A number line helped with carrying." },
  { title: "Behaviour", body: "On task for 65% of observed intervals; movement breaks every 15 minutes and a visual timer reduced off-task behaviour." },
  { title: "Services", body: "Speech therapy 60 minutes weekly and occupational therapy 30 minutes weekly for fine motor handwriting support." },
  { title: "Placement", body: "General education classroom 80% of the day with peers; resource room for reading and math, inclusion in science." },
  { title: "Assessment", body: "State assessment with accommodations: extended time, read-aloud for math, separate setting. No alternate assessment." },
];
const QUERIES = [...Object.values(SECTION_RETRIEVAL_QUERIES).slice(0, 6), "reading fluency words correct per minute"];

/** What a test compares: ids, ranks and score of each match, in order. */
function shape(matches: RankedChunk[]) {
  return matches.map((m) => ({ id: m.chunk.id, student: m.chunk.student_id, score: m.score, semantic: m.semanticRank, lexical: m.lexicalRank }));
}

describe("retrieval: one statement for a draft's searches, exact, scoped to one student", () => {
  let stack: TestStack;
  let other: Tenant;
  let ada: string;
  let bea: string;
  let theirs: string;

  beforeAll(async () => {
    stack = await startTestStack();
    other = await stack.createTenant();
    ada = await createStudentViaApi(stack);
    bea = await createStudentViaApi(stack, { firstName: "Bea" });
    theirs = await createStudentViaApi(stack, { firstName: "Cy" }, other.token);
    for (const doc of DOCUMENTS) {
      await addReadyEvidence(stack, ada, doc);
      await addReadyEvidence(stack, bea, { ...doc, body: `${doc.body} Bea's copy.` });
      await addReadyEvidence(stack, theirs, doc, other.token);
    }
  });
  afterAll(() => stack?.close());

  const deps = () => stack.runtime.deps;
  const asTenant = <T>(work: () => Promise<T>) => asSchool(stack.tenant.schoolId, work);

  it("answers a draft's queries in one batch exactly as separate searches would", async () => {
    const embedCalls = stack.simulator.requests.filter((r) => r.operation === "embed").length;
    const batched = await asTenant(() => searchStudentEvidenceMany(deps(), { schoolId: stack.tenant.schoolId, studentId: ada, queries: QUERIES, limit: 6 }));
    expect(stack.simulator.requests.filter((r) => r.operation === "embed").length).toBe(embedCalls + 1);
    expect(batched).toHaveLength(QUERIES.length);
    for (const [i, query] of QUERIES.entries()) {
      const alone = await asTenant(() => searchStudentEvidence(deps(), { schoolId: stack.tenant.schoolId, studentId: ada, query, limit: 6 }));
      expect(alone.length).toBeGreaterThan(0);
      expect(shape(batched[i]!)).toEqual(shape(alone));
    }
    expect(batched[6]![0]!.chunk.text).toContain("words correct per minute");
  });

  it("ranks the vector part exactly: the same order as every distance computed by a full scan", async () => {
    const embedding = (await deps().gemini.embed(["fine motor handwriting therapy"], "RETRIEVAL_QUERY"))[0]!;
    const [found] = await asTenant(() => hybridSearchChunks(stack.runtime.pool, {
      schoolId: stack.tenant.schoolId, studentId: ada, queries: [{ text: "", embedding }], limit: 50, candidates: 50, rrfK: RRF_K,
    }));
    const { rows } = await stack.runtime.pool.query(
      "select id from (select id, embedding <=> $2::vector as d from evidence_chunks where student_id = $1 offset 0) all_rows order by d, id",
      [ada, `[${embedding.join(",")}]`]);
    expect(found!.map((m) => m.chunk.id)).toEqual(rows.map((row) => row.id));
    expect(found!.map((m) => m.semanticRank)).toEqual(rows.map((_, i) => i + 1));
    expect(found!.every((m) => m.lexicalRank === null)).toBe(true);
  });

  it("never returns another student's chunks, even when theirs match better", async () => {
    const [results] = await asTenant(() => searchStudentEvidenceMany(deps(), {
      schoolId: stack.tenant.schoolId, studentId: ada, queries: ["Bea's copy reading fluency"], limit: 50,
    }));
    const { rows } = await stack.runtime.pool.query("select count(*)::int as n from evidence_chunks where student_id = $1", [ada]);
    expect(results!.length).toBe(rows[0].n);
    expect(results!.every((m) => m.chunk.student_id === ada && !m.chunk.text.includes("Bea's copy"))).toBe(true);
  });

  it("keeps schools apart under row-level security, even when the statement is given the other school's ids", async () => {
    const search = (schoolId: string, studentId: string) =>
      searchStudentEvidenceMany(deps(), { schoolId, studentId, queries: QUERIES.slice(0, 2), limit: 6 });
    expect(await asTenant(() => search(stack.tenant.schoolId, theirs))).toEqual([[], []]);
    expect(await asTenant(() => search(other.schoolId, theirs))).toEqual([[], []]);
    const own = await asSchool(other.schoolId, () => search(other.schoolId, theirs));
    expect(own.every((matches) => matches.length > 0 && matches.every((m) => m.chunk.student_id === theirs))).toBe(true);
  });

  it("returns nothing for no queries and an empty list for a query without matches", async () => {
    expect(await asTenant(() => searchStudentEvidenceMany(deps(), { schoolId: stack.tenant.schoolId, studentId: ada, queries: [], limit: 6 }))).toEqual([]);
    const unknown = "00000000-0000-4000-8000-000000000000";
    expect(await asTenant(() => searchStudentEvidenceMany(deps(), { schoolId: stack.tenant.schoolId, studentId: unknown, queries: ["reading"], limit: 6 })))
      .toEqual([[]]);
  });

  it("keeps to the evidence kinds asked for (an IEP request's evidenceKinds)", async () => {
    const prior = await addReadyEvidence(stack, bea, { kind: "PRIOR_IEP", title: "Last IEP", body: "Prior IEP goal: oral reading fluency of 40 words correct per minute." });
    const search = (evidenceKinds?: ("PRIOR_IEP" | "PROGRESS_NOTE")[]) => asTenant(async () => (await searchStudentEvidenceMany(deps(), {
      schoolId: stack.tenant.schoolId, studentId: bea, queries: ["reading fluency words correct per minute"], limit: 50, evidenceKinds,
    }))[0]!);
    const { rows } = await stack.runtime.pool.query("select id from evidence_chunks where evidence_id = $1", [prior]);
    const priorIds = new Set(rows.map((row) => row.id as string));
    const ids = (matches: RankedChunk[]) => new Set(matches.map((m) => m.chunk.id));
    const every = ids(await search());
    expect([...priorIds].every((id) => every.has(id))).toBe(true);
    expect(ids(await search(["PROGRESS_NOTE"]))).toEqual(new Set([...every].filter((id) => !priorIds.has(id))));
    expect(ids(await search(["PRIOR_IEP"]))).toEqual(priorIds);
  });
});
