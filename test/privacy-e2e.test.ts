import type { Client as WsClient } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { insertUser } from "../src/db/schools.ts";
import { defaultGeneratedText, splitIntoChunks } from "../src/gemini/simulator/generation.ts";
import type { GenerateRequestInfo } from "../src/gemini/simulator/server.ts";
import { collectGenerationEvents, generate, waitForStatus, wsClient } from "./helpers/generation.ts";
import { addReadyEvidence, createStudentViaApi, startTestStack, type TestStack } from "./helpers/stack.ts";

/**
 * No student identity leaves the building: with synthetic PII in the record, the evidence and the
 * team's instructions, every request the Gemini simulator receives (embeddings of evidence chunks
 * and of queries, drafts, section redrafts and the repair request) is searched for it; the model's
 * answers (which quote the evidence, so they carry placeholders) come back restored, streamed and stored.
 */

const DOB = "2016-03-01";
/** Every identifying string of the record, checked case-insensitively in every request body. */
const PII = [
  "Zephyrine", "Quillfeather", "Octavian", "Priya", "Raman", "2016-03-01", "03/01/2016", "March 1, 2016", "1 March 2016",
  "octavian.quillfeather@example.com", "(503) 555-0142", "555-0142", "555.0142", "5550142", "S-20391847", "20391847",
  "42 Larkspur Lane", "Larkspur",
];
const INSTRUCTIONS =
  "Zephyrine's father Octavian Quillfeather ((503) 555-0142, octavian.quillfeather@example.com) asks that goals for Zephyrine "
  + "(born 1 March 2016, student S-20391847, 42 Larkspur Lane) emphasise reading fluency. Ms. Raman agrees.";
const EVIDENCE = [
  {
    kind: "PARENT_INPUT", title: "Intake from Octavian Quillfeather",
    body: "Zephyrine Quillfeather (DOB 03/01/2016, student ID S-20391847) lives with her father Octavian Quillfeather at 42 Larkspur Lane, "
      + "Portland, OR 97214. Contact: octavian.quillfeather@example.com or (503) 555-0142. Octavian reports that Zephyrine's reading "
      + "at home has improved; she now reads for 20 minutes each evening.",
  },
  {
    kind: "PROGRESS_NOTE", title: "Reading fluency progress for Zephyrine",
    body: "Zephyrine read 44 words correct per minute with 92% accuracy on the spring DIBELS 8 probe, up from a baseline of 18. "
      + "Ms. Raman notes that Zephyrine's accuracy improves with repeated reading. Zephyrine was born March 1, 2016.",
  },
  {
    kind: "EVALUATION", title: "Psychoeducational evaluation",
    body: "Zephyrine Quillfeather, date of birth 2016-03-01, SASID 20391847. WIAT-4 math problem solving standard score 82; "
      + "numerical operations 79. Priya Raman, school psychologist, recommends manipulatives. Questions: 503.555.0142.",
  },
] as const;
const PLACEHOLDER = /\[(?:STUDENT|GUARDIAN|STAFF|EMAIL|PHONE|ID|ADDRESS|DATE)[A-Z0-9_]*\]/i;

const SET_GUARDIANS = /* GraphQL */ `
  mutation SetGuardians($input: SetStudentGuardiansInput!) {
    setStudentGuardians(input: $input) {
      __typename
      ... on SetStudentGuardiansSuccess { student { id guardians { name relationship email phone address } } }
      ... on ValidationError { fieldErrors { path message } }
      ... on NotFoundError { resourceType resourceId }
    }
  }
`;
const REGENERATE_SECTION = /* GraphQL */ `
  mutation Regenerate($input: RegenerateIepSectionInput!) {
    regenerateIepSection(input: $input) { __typename ... on GenerateIepSuccess { generation { id } } }
  }
`;
const SEARCH = /* GraphQL */ `
  query SearchPseudonymized($studentId: ID!, $query: String!) { searchEvidence(studentId: $studentId, query: $query, first: 5) { chunk { text } } }
`;
const GUARDIAN = {
  name: "Octavian Quillfeather", relationship: "father", email: "octavian.quillfeather@example.com",
  phone: "(503) 555-0142", address: "42 Larkspur Lane, Portland, OR 97214",
};

/** The PII strings found in the bodies of the simulator's requests from `from` on, with the request operation. */
function leaks(stack: TestStack, from = 0): string[] {
  return stack.simulator.requests.slice(from).flatMap((request) => {
    const body = JSON.stringify(request.body).toLowerCase();
    return PII.filter((value) => body.includes(value.toLowerCase())).map((value) => `${request.operation}: ${value}`);
  });
}

function bodiesOf(stack: TestStack, operation: string, from = 0): string[] {
  return stack.simulator.requests.slice(from).filter((r) => r.operation === operation).map((r) => JSON.stringify(r.body));
}

/**
 * The simulator's default draft, padded with leading JSON whitespace so that one of the 6 pieces it
 * streams (src/gemini/simulator/server.ts STREAM_CHUNK_COUNT) ends inside a placeholder.
 */
function draftWithSplitPlaceholder(request: GenerateRequestInfo): { text: string; split: string } {
  const text = defaultGeneratedText(request.body);
  for (let pad = 0; pad < 2000; pad++) {
    const padded = " ".repeat(pad) + text;
    const split = splitIntoChunks(padded, 6).map((piece) => /\[[A-Z_0-9]+$/.exec(piece)?.[0]).find(Boolean);
    if (split) return { text: padded, split };
  }
  throw new Error("no padding splits a placeholder");
}

describe("no student identity reaches Gemini", () => {
  let stack: TestStack;
  let studentId: string;
  let client: WsClient;
  const splits: string[] = [];

  beforeAll(async () => {
    stack = await startTestStack();
    client = wsClient(stack);
    await insertUser(stack.runtime.pool, { schoolId: stack.tenant.schoolId, email: "p.raman@example.org", name: "Dr. Priya Raman", role: "TEACHER" });
    studentId = await createStudentViaApi(stack, {
      firstName: "Zephyrine", lastName: "Quillfeather", dateOfBirth: DOB, grade: "4", disabilityCategories: ["SPECIFIC_LEARNING_DISABILITY"],
    });
    const set = await stack.gql(SET_GUARDIANS, { input: { studentId, guardians: [GUARDIAN] } });
    expect(set.data.setStudentGuardians).toEqual({ __typename: "SetStudentGuardiansSuccess", student: { id: studentId, guardians: [GUARDIAN] } });
    for (const doc of EVIDENCE) await addReadyEvidence(stack, studentId, doc);
  });
  afterAll(async () => {
    stack.simulator.setGenerateHandler(undefined);
    await client?.dispose();
    await stack?.close();
  });

  it("setStudentGuardians answers bad input with ValidationError and an unknown student with NotFoundError", async () => {
    const invalid = await stack.gql(SET_GUARDIANS, { input: { studentId, guardians: [{ ...GUARDIAN, email: "nope", phone: "12" }] } });
    expect(invalid.data.setStudentGuardians.__typename).toBe("ValidationError");
    expect(invalid.data.setStudentGuardians.fieldErrors.map((e: { path: string[] }) => e.path.join("."))).toEqual(["guardians.0.email", "guardians.0.phone"]);
    const unknown = "00000000-0000-4000-8000-000000000000";
    const missing = await stack.gql(SET_GUARDIANS, { input: { studentId: unknown, guardians: [] } });
    expect(missing.data.setStudentGuardians).toEqual({ __typename: "NotFoundError", resourceType: "Student", resourceId: unknown });
    const outsider = await stack.createTenant();
    const other = await stack.gql(SET_GUARDIANS, { input: { studentId, guardians: [] } }, outsider.token);
    expect(other.data.setStudentGuardians.__typename).toBe("NotFoundError");
    const still = await stack.gql(`query($id: ID!) { student(id: $id) { guardians { name } } }`, { id: studentId });
    expect(still.data.student.guardians).toEqual([{ name: GUARDIAN.name }]);
  });

  it("setStudentGuardians twice in one document answers each with its own list; a page of students loads guardians", async () => {
    const other = await createStudentViaApi(stack, { firstName: "Ada", lastName: "Lin" });
    const both = await stack.gql(
      `mutation($id: ID!, $g: [GuardianInput!]!) {
        cleared: setStudentGuardians(input: { studentId: $id, guardians: [] }) { ... on SetStudentGuardiansSuccess { student { guardians { name } } } }
        set: setStudentGuardians(input: { studentId: $id, guardians: $g }) { ... on SetStudentGuardiansSuccess { student { guardians { name } } } }
      }`,
      { id: other, g: [{ name: "Mei Lin", relationship: "mother" }] },
    );
    expect(both.data).toEqual({ cleared: { student: { guardians: [] } }, set: { student: { guardians: [{ name: "Mei Lin" }] } } });
    const page = await stack.gql(`{ students(first: 10) { edges { node { firstName guardians { name relationship } } } } }`);
    expect(page.data.students.edges.map((e: { node: unknown }) => e.node)).toEqual([
      { firstName: "Zephyrine", guardians: [{ name: GUARDIAN.name, relationship: "father" }] },
      { firstName: "Ada", guardians: [{ name: "Mei Lin", relationship: "mother" }] },
    ]);
  });

  it("embeds evidence with placeholders and keeps the stored chunk text original", async () => {
    const embeds = bodiesOf(stack, "embed");
    expect(embeds.length).toBeGreaterThanOrEqual(EVIDENCE.length);
    expect(embeds.join("\n")).toContain("[STUDENT]");
    expect(leaks(stack)).toEqual([]);
    const { data } = await stack.gql(`query($id: ID!) { student(id: $id) { evidence { chunks { text } } } }`, { id: studentId });
    const stored = data.student.evidence.flatMap((e: { chunks: { text: string }[] }) => e.chunks.map((c) => c.text)).join("\n");
    for (const value of ["Zephyrine Quillfeather", "Octavian", "S-20391847", "(503) 555-0142", "42 Larkspur Lane"]) expect(stored).toContain(value);
  });

  it("searchEvidence with her name embeds a masked query and still finds her evidence", async () => {
    const before = stack.simulator.requests.length;
    const { data, errors } = await stack.gql(SEARCH, { studentId, query: "Zephyrine Quillfeather reading fluency at 42 Larkspur Lane" });
    expect(errors).toBeUndefined();
    expect(data.searchEvidence.length).toBeGreaterThan(0);
    expect(data.searchEvidence[0].chunk.text).toContain("Zephyrine");
    expect(bodiesOf(stack, "embed", before)).toEqual([expect.stringContaining("[STUDENT] [STUDENT_LAST] reading fluency at [ADDRESS_1]")]);
    expect(leaks(stack, before)).toEqual([]);
  });

  it("generateIep: retrieval, prompt and instructions are masked; streamed text and the stored IEP have the real name", async () => {
    const before = stack.simulator.requests.length;
    stack.simulator.setGenerateHandler((request) => {
      stack.simulator.setLatencyMs(600); // the stream's pieces arrive ~100 ms apart, after the subscription is open
      const { text, split } = draftWithSplitPlaceholder(request);
      splits.push(split);
      return text;
    });
    try {
      const queued = await generate(stack, { studentId, academicYear: "2026-2027", instructions: INSTRUCTIONS });
      const events = await collectGenerationEvents(client, { id: queued.id, afterSeq: 0 }, { timeoutMs: 25_000 });
      const done = await waitForStatus(stack, queued.id, ["SUCCEEDED", "FAILED"]);
      expect(done.error).toBeNull();
      expect(splits.length).toBeGreaterThan(0);

      const deltas = events.map((e) => e.textDelta).filter((t): t is string => t !== null);
      expect(deltas.length).toBeGreaterThanOrEqual(2);
      for (const delta of deltas) expect(delta).not.toMatch(PLACEHOLDER);
      expect(JSON.parse(deltas.join(""))).toEqual(done.iep.content);
      const stored = JSON.stringify(done.iep.content);
      expect(stored).toContain("Zephyrine");
      expect(stored).not.toMatch(PLACEHOLDER);

      const [draftRequest] = bodiesOf(stack, "stream", before);
      expect(draftRequest).toContain("First name: [STUDENT]");
      expect(draftRequest).toContain("[GUARDIAN_1] ([PHONE_1], [EMAIL_1])");
      expect(bodiesOf(stack, "embed", before).join("\n")).toContain("[GUARDIAN_1]");
      expect(leaks(stack, before)).toEqual([]);
    } finally {
      stack.simulator.setGenerateHandler(undefined);
      stack.simulator.setLatencyMs(0);
    }
  });

  it("regenerateIepSection (existing IEP in the prompt) and its repair request are masked; the new version is restored", async () => {
    const first = await generate(stack, { studentId, academicYear: "2025-2026", instructions: INSTRUCTIONS }, { async: false });
    const base = await waitForStatus(stack, first.id, ["SUCCEEDED"]);
    expect(JSON.stringify(base.iep.content)).toContain("Zephyrine");
    const before = stack.simulator.requests.length;
    let calls = 0;
    stack.simulator.setGenerateHandler((request) => {
      calls += 1;
      // The first answer cites a chunk it was never shown (rejected, so repaired once); both quote placeholders.
      const draft = JSON.parse(defaultGeneratedText(request.body));
      if (calls === 1) draft.goals[0].citations = ["00000000-0000-4000-8000-000000000000"];
      return draft;
    });
    try {
      const result = await stack.gql(REGENERATE_SECTION, { input: { iepId: base.iep.id, section: "ANNUAL_GOALS", instructions: INSTRUCTIONS } });
      const done = await waitForStatus(stack, result.data.regenerateIepSection.generation.id, ["SUCCEEDED", "FAILED"]);
      expect(done.error).toBeNull();
      expect(done.events.map((e: { stage: string }) => e.stage)).toContain("REPAIRING");

      const [redraft, repair] = bodiesOf(stack, "stream", before);
      expect(redraft).toContain("The current IEP content");
      expect(redraft).toContain("[STUDENT]");
      expect(repair).toContain("rejected by validation");
      expect(leaks(stack, before)).toEqual([]);

      const goals = JSON.stringify(done.iep.content.annualGoals);
      expect(goals).toContain("Zephyrine");
      expect(JSON.stringify(done.iep.content)).not.toMatch(PLACEHOLDER);
      expect(done.iep.content.presentLevels).toEqual(base.iep.content.presentLevels);
    } finally {
      stack.simulator.setGenerateHandler(undefined);
    }
  });

  it("not one request of this file carried an identifier", async () => {
    expect(stack.simulator.requests.length).toBeGreaterThan(EVIDENCE.length + 4);
    expect(leaks(stack)).toEqual([]);
  });
});
