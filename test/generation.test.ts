import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GENERATE_IEP, GENERATION, generate, studentWithEvidence, waitForStatus } from "./helpers/generation.ts";
import { defaultGeneratedText } from "../src/gemini/simulator/generation.ts";
import { startTestStack, type TestStack } from "./helpers/stack.ts";

const REGENERATE_SECTION = /* GraphQL */ `
  mutation RegenerateSection($input: RegenerateIepSectionInput!, $async: Boolean) {
    regenerateIepSection(input: $input, async: $async) {
      __typename
      ... on GenerateIepSuccess { generation { id kind status section iep { id version } } }
      ... on ValidationError { message fieldErrors { path message } }
      ... on NotFoundError { resourceType resourceId }
      ... on InvalidStateError { message currentState }
    }
  }
`;

const SECTION_KINDS_FOR_10_YEAR_OLD = [
  "PRESENT_LEVELS", "ANNUAL_GOALS", "PROGRESS_REPORTING", "SERVICES", "LEAST_RESTRICTIVE_ENVIRONMENT", "ASSESSMENT_PARTICIPATION",
];

/** The shape of a JSON value: keys and types, not the text. */
function shapeOf(value: unknown): unknown {
  if (Array.isArray(value)) return value.length > 0 ? [shapeOf(value[0])] : [];
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).sort().map(([k, v]) => [k, shapeOf(v)]));
  return value === null ? null : typeof value;
}

describe("IEP generation", () => {
  let stack: TestStack;
  let youngStudent: string;
  let teenStudent: string;

  beforeAll(async () => {
    stack = await startTestStack();
    [youngStudent, teenStudent] = await Promise.all([
      studentWithEvidence(stack, { dateOfBirth: "2016-03-01", grade: "5" }),
      studentWithEvidence(stack, { dateOfBirth: "2010-01-18", grade: "10" }),
    ]);
  });
  afterAll(() => stack?.close());

  it("async and sync produce the same IEP structure from the same input", async () => {
    const input = { studentId: youngStudent, academicYear: "2026-2027", instructions: "Focus on math problem solving." };
    const queued = await generate(stack, input);
    expect(queued.status).toBe("QUEUED");
    const asyncDone = await waitForStatus(stack, queued.id, ["SUCCEEDED", "FAILED"]);
    const syncDone = (await stack.gql(GENERATE_IEP, { input, async: false })).data.generateIep.generation;
    expect(syncDone.status).toBe("SUCCEEDED");
    const syncView = (await stack.gql(GENERATION, { id: syncDone.id })).data.generation;

    expect(asyncDone.status).toBe("SUCCEEDED");
    expect(syncView.iep.sections.map((s: { kind: string }) => s.kind)).toEqual(asyncDone.iep.sections.map((s: { kind: string }) => s.kind));
    expect(shapeOf(syncView.iep.content)).toEqual(shapeOf(asyncDone.iep.content));
    expect([asyncDone.iep.version, syncView.iep.version].sort()).toEqual([1, 2]);
    expect(syncView.events.map((e: { stage: string }) => e.stage)).toEqual(asyncDone.events.map((e: { stage: string }) => e.stage));
  });

  it("writes every §300.320 section a 10-year-old needs, and no transition or transfer of rights", async () => {
    const done = await waitForStatus(stack, (await generate(stack, { studentId: youngStudent })).id, ["SUCCEEDED", "FAILED"]);
    expect(done.error).toBeNull();
    expect(done.iep.sections.map((s: { kind: string }) => s.kind)).toEqual(SECTION_KINDS_FOR_10_YEAR_OLD);
    expect(done.iep.content.transition).toBeNull();
    expect(done.iep.content.transferOfRights).toBeNull();
    expect(done.iep.model).toMatch(/simulator/);
  });

  it("gives a student who is 16 during the IEP a transition section (and transfer of rights at 17)", async () => {
    const done = await waitForStatus(stack, (await generate(stack, { studentId: teenStudent, academicYear: "2026-2027" })).id, ["SUCCEEDED", "FAILED"]);
    expect(done.error).toBeNull();
    const kinds = done.iep.sections.map((s: { kind: string }) => s.kind);
    expect(kinds).toContain("TRANSITION");
    expect(kinds).toContain("TRANSFER_OF_RIGHTS");
    expect(done.iep.content.transition.postsecondaryGoals.education).toEqual(expect.any(String));
    expect(done.iep.content.transition.transitionServices.length).toBeGreaterThan(0);
  });

  it("retrieves evidence for every section with one batched query-embedding call", async () => {
    const before = stack.simulator.requests.length;
    const done = (await stack.gql(GENERATE_IEP, { input: { studentId: youngStudent }, async: false })).data.generateIep.generation;
    expect(done.status).toBe("SUCCEEDED");
    const embeds = stack.simulator.requests.slice(before).filter((r) => r.operation === "embed");
    expect(embeds).toHaveLength(1);
    const queries = (embeds[0]!.body as { requests: { taskType: string }[] }).requests;
    expect(queries).toHaveLength(SECTION_KINDS_FOR_10_YEAR_OLD.length);
    expect(queries.every((q) => q.taskType === "RETRIEVAL_QUERY")).toBe(true);
  });

  it("cites only chunks of this student, at least one per goal and present-levels statement", async () => {
    const done = await waitForStatus(stack, (await generate(stack, { studentId: youngStudent })).id, ["SUCCEEDED", "FAILED"]);
    const { rows } = await stack.runtime.pool.query("select id from evidence_chunks where student_id = $1", [youngStudent]);
    const ownChunks = new Set(rows.map((r) => r.id));
    const content = done.iep.content;
    const statements = [...content.presentLevels.academicAchievement, ...content.presentLevels.functionalPerformance, content.presentLevels.disabilityImpact];
    for (const item of [...statements, ...content.annualGoals.goals]) {
      expect(item.citations.length).toBeGreaterThan(0);
      for (const id of item.citations) expect(ownChunks.has(id)).toBe(true);
    }
    for (const goal of content.annualGoals.goals) {
      for (const field of ["baseline", "condition", "behavior", "criterion", "measurementMethod", "timeframe"]) {
        expect(goal[field]).toEqual(expect.stringMatching(/\S/));
      }
    }
    const cited = done.iep.sections.flatMap((s: { citations: { chunkId: string; chunk: { id: string } | null }[] }) => s.citations);
    expect(cited.length).toBeGreaterThan(0);
    expect(cited.every((c: { chunkId: string; chunk: { id: string } | null }) => c.chunk?.id === c.chunkId)).toBe(true);
  });

  it("redrafts one section as a new IEP version and keeps the others", async () => {
    const first = await waitForStatus(stack, (await generate(stack, { studentId: youngStudent, academicYear: "2025-2026" })).id, ["SUCCEEDED"]);
    stack.simulator.setGenerateHandler((request) => {
      const schema = request.responseJsonSchema as { properties?: Record<string, unknown> };
      if (!schema?.properties?.goals) return defaultGeneratedText(request.body);
      const chunkId = /chunk: ([0-9a-f-]{36})/.exec(request.promptText)?.[1];
      return { goals: [{ area: "Math problem solving", baseline: "Solves 12 of 20 two-step word problems (60%).",
        condition: "Given a two-step word problem and manipulatives", behavior: "will solve it", criterion: "with 80% accuracy across 3 consecutive probes",
        measurementMethod: "Curriculum-based measurement probes", timeframe: "By the end of the IEP year", citations: [chunkId],
        shortTermObjectives: ["By the first progress report, solves one-step word problems with 80% accuracy."] }] };
    });
    try {
      const result = await stack.gql(REGENERATE_SECTION, { input: { iepId: first.iep.id, section: "ANNUAL_GOALS", instructions: "One math goal only." } });
      const generation = result.data.regenerateIepSection.generation;
      expect(generation).toMatchObject({ kind: "SECTION", section: "ANNUAL_GOALS", status: "QUEUED" });
      const done = await waitForStatus(stack, generation.id, ["SUCCEEDED", "FAILED"]);
      expect(done.error).toBeNull();
      expect(done.iep.version).toBe(first.iep.version + 1);
      expect(done.iep.academicYear).toBe("2025-2026");
      expect(done.iep.content.annualGoals.goals).toHaveLength(1);
      expect(done.iep.content.annualGoals.goals[0].area).toBe("Math problem solving");
      const { annualGoals: _newGoals, ...restNew } = done.iep.content;
      const { annualGoals: _oldGoals, ...restOld } = first.iep.content;
      expect(restNew).toEqual(restOld);
    } finally {
      stack.simulator.setGenerateHandler(undefined);
    }
  });

  it("refuses to redraft a section that does not apply to the student's age", async () => {
    const done = await waitForStatus(stack, (await generate(stack, { studentId: youngStudent })).id, ["SUCCEEDED"]);
    const { data } = await stack.gql(REGENERATE_SECTION, { input: { iepId: done.iep.id, section: "TRANSITION" } });
    expect(data.regenerateIepSection).toMatchObject({ __typename: "InvalidStateError", currentState: "TRANSITION" });
  });

  it.each([
    ["a malformed academic year", { academicYear: "2026" }, "ValidationError"],
    ["non-consecutive years", { academicYear: "2026-2028" }, "ValidationError"],
    ["a priority out of range", { priority: 1000 }, "ValidationError"],
    ["an unknown student", { studentId: "00000000-0000-4000-8000-000000000000" }, "NotFoundError"],
    ["a malformed student id", { studentId: "nope" }, "ValidationError"],
  ])("answers %s with a typed %s and queues nothing", async (_label, override, typename) => {
    const before = (await stack.runtime.pool.query("select count(*)::int as n from generations")).rows[0].n;
    const { data } = await stack.gql(GENERATE_IEP, { input: { studentId: youngStudent, ...override } });
    expect(data.generateIep.__typename).toBe(typename);
    expect((await stack.runtime.pool.query("select count(*)::int as n from generations")).rows[0].n).toBe(before);
  });

  it("answers unknown ids with NotFoundError and hides other schools' generations", async () => {
    const done = await waitForStatus(stack, (await generate(stack, { studentId: youngStudent })).id, ["SUCCEEDED"]);
    const outsider = await stack.createTenant();
    expect((await stack.gql(GENERATION, { id: done.id }, outsider.token)).data.generation).toBeNull();
    const cancel = await stack.gql(`mutation($id: ID!) { cancelGeneration(id: $id) { __typename ... on NotFoundError { resourceType } } }`,
      { id: done.id }, outsider.token);
    expect(cancel.data.cancelGeneration).toEqual({ __typename: "NotFoundError", resourceType: "Generation" });
    const generate16 = await stack.gql(GENERATE_IEP, { input: { studentId: youngStudent } }, outsider.token);
    expect(generate16.data.generateIep.__typename).toBe("NotFoundError");
    const redraft = await stack.gql(REGENERATE_SECTION, { input: { iepId: done.iep.id, section: "SERVICES" } }, outsider.token);
    expect(redraft.data.regenerateIepSection).toMatchObject({ __typename: "NotFoundError", resourceType: "Iep" });
  });

  it("shows queue position and estimated completion while queued, and clears them when done", async () => {
    const now = Date.now();
    const queued = (await stack.gql(GENERATE_IEP, { input: { studentId: youngStudent } })).data.generateIep.generation;
    expect(queued.status).toBe("QUEUED");
    expect(queued.queuePosition).toBeGreaterThanOrEqual(1);
    expect(Date.parse(queued.estimatedCompletionAt)).toBeGreaterThan(now);
    const done = await waitForStatus(stack, queued.id, ["SUCCEEDED"]);
    expect(done.queuePosition).toBeNull();
    expect(done.estimatedCompletionAt).toBeNull();
    expect(done.progress).toBe(1);
    const seqs = done.events.map((e: { seq: number }) => e.seq);
    expect(seqs).toEqual(seqs.map((_: number, i: number) => i + 1));
  });

  it("lists generations newest first, filtered by status and student", async () => {
    const { data } = await stack.gql(`query($s: ID!) {
      generations(filter: { studentId: $s, status: [SUCCEEDED] }, first: 3) { edges { node { id status createdAt student { id } } } pageInfo { hasNextPage endCursor } }
    }`, { s: youngStudent });
    const nodes = data.generations.edges.map((e: { node: { status: string; createdAt: string; student: { id: string } } }) => e.node);
    expect(nodes.length).toBe(3);
    expect(nodes.every((n: { status: string; student: { id: string } }) => n.status === "SUCCEEDED" && n.student.id === youngStudent)).toBe(true);
    const times = nodes.map((n: { createdAt: string }) => Date.parse(n.createdAt));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    expect(data.generations.pageInfo.hasNextPage).toBe(true);
  });
});
