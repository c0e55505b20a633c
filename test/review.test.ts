import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { signToken } from "../src/auth.ts";
import { insertUser, type UserRole } from "../src/db/schools.ts";
import { PROMPT_VERSION } from "../src/iep/prompt-version.ts";
import { DEFAULT_SECURITY } from "../src/security.ts";
import { queryDatabase } from "./helpers/database.ts";
import { generate, studentWithEvidence } from "./helpers/generation.ts";
import { startTestStack, TEST_JWT_SECRET, type Tenant, type TestStack } from "./helpers/stack.ts";

// Fragments, not interpolated field strings, so that codegen can read every document (npm run codegen).
const SECTION_FIELDS = /* GraphQL */ `fragment ReviewSectionFields on IepSection { id kind label content missingCitations
  citations { chunkId missing chunk { id text ordinal evidence { id title } } evidence { id } }
  provenance { source model promptVersion generation { id } citedEvidence { id title } editedBy { id name } editedAt changedPaths fromVersion { id version } } }`;
const IEP_FIELDS = /* GraphQL */ `fragment ReviewIepFields on Iep { id version revision status content submittedAt submittedBy { id } approvedAt approvedBy { id } basedOn { id version }
  missingCitations sections { ...ReviewSectionFields } }`;

const READ_IEP = /* GraphQL */ `query ReviewReadIep($id: ID!) { iep(id: $id) { ...ReviewIepFields } } ${IEP_FIELDS} ${SECTION_FIELDS}`;
const VERSIONS = /* GraphQL */ `
  query ReviewVersions($id: ID!, $against: ID) {
    iep(id: $id) { id versions { id version status } diff(against: $against) { kind change changedPaths before after } }
  }
`;
const EDIT = /* GraphQL */ `
  mutation ReviewEditSection($input: EditIepSectionInput!) {
    editIepSection(input: $input) {
      __typename
      ... on EditIepSectionSuccess { iep { ...ReviewIepFields } section { ...ReviewSectionFields } }
      ... on ValidationError { message fieldErrors { path message } }
      ... on InvalidStateError { message currentState }
      ... on NotFoundError { message resourceType }
    }
  }
  ${IEP_FIELDS} ${SECTION_FIELDS}
`;
const SUBMIT = /* GraphQL */ `
  mutation ReviewSubmit($id: ID!) {
    submitIepForReview(id: $id) {
      __typename
      ... on IepReviewSuccess { iep { id status revision submittedAt submittedBy { id } } }
      ... on Error { message }
      ... on InvalidStateError { currentState }
    }
  }
`;
const APPROVE = /* GraphQL */ `
  mutation ReviewApprove($id: ID!) {
    approveIep(id: $id) {
      __typename
      ... on IepReviewSuccess { iep { id status approvedAt approvedBy { id name } } }
      ... on Error { message }
      ... on InvalidStateError { currentState }
    }
  }
`;
const REGENERATE = /* GraphQL */ `
  mutation ReviewRegenerate($input: RegenerateIepSectionInput!) {
    regenerateIepSection(input: $input, async: false) { __typename ... on GenerateIepSuccess { generation { id status iep { id } } } ... on Error { message } }
  }
`;

const REVIEW_LOAD = /* GraphQL */ `
  query ReviewLoad($id: ID!) {
    iep(id: $id) {
      versions {
        id approvedBy { id } versions { id } diff { change } missingCitations
        sections { id provenance { source generation { id } editedBy { id } citedEvidence { id } } citations { missing chunk { id evidence { title } } } }
      }
    }
  }
`;

type Section = { id: string; kind: string; content: any; provenance: any; citations: any[]; missingCitations: string[] };
const section = (iep: { sections: Section[] }, kind: string) => iep.sections.find((s) => s.kind === kind)!;
const clone = <T>(value: T): T => structuredClone(value);

describe("review workflow", () => {
  let stack: TestStack;
  let cm: Tenant;
  let studentId: string;
  let otherStudentId: string;

  async function colleague(role: UserRole): Promise<Tenant> {
    const user = await insertUser(stack.runtime.pool, { schoolId: cm.schoolId, email: `${role}-${Math.random()}@example.org`, name: `A ${role}`, role });
    return { schoolId: cm.schoolId, userId: user.id, token: await signToken({ userId: user.id, schoolId: cm.schoolId, role }, TEST_JWT_SECRET) };
  }
  async function newIep(student = studentId): Promise<any> {
    const generation = await generate(stack, { studentId: student, academicYear: "2026-2027" }, { async: false });
    expect(generation.status).toBe("SUCCEEDED");
    return (await stack.gql(READ_IEP, { id: generation.iep!.id })).data.iep;
  }
  async function edit(input: Record<string, unknown>, token = cm.token) {
    const result = await stack.gql(EDIT, { input }, token);
    return result.data?.editIepSection ?? result;
  }
  const editRows = async (iepId: string) => queryDatabase(stack.db.url, "select * from iep_section_edits where iep_id = $1 order by id", [iepId]);
  const audits = async (iepId: string, action: string) =>
    queryDatabase(stack.db.url, "select * from audit_log where resource_id = $1 and action = $2", [iepId, action]);

  beforeAll(async () => {
    // The statement-count test reads every version's sections and citations: more than the default cost limit allows.
    stack = await startTestStack({ security: { requestLimits: { ...DEFAULT_SECURITY.requestLimits, maxCost: 100_000 } } });
    cm = stack.tenant;
    [studentId, otherStudentId] = await Promise.all([studentWithEvidence(stack), studentWithEvidence(stack)]);
  }, 60_000);
  afterAll(() => stack?.close());

  it("gives each section a stable id, its label and AI provenance; citations resolve to chunk text, document and position", async () => {
    const iep = await newIep();
    const goals = section(iep, "ANNUAL_GOALS");
    expect(goals.id).toBe(`${iep.id}:ANNUAL_GOALS`);
    expect((goals as any).label).toBe("Measurable annual goals");
    expect(goals.provenance).toMatchObject({ source: "AI", model: expect.any(String), promptVersion: PROMPT_VERSION, editedBy: null, changedPaths: [] });
    expect(goals.provenance.generation.id).toBeTruthy();
    expect(goals.provenance.citedEvidence.length).toBeGreaterThan(0);
    expect(goals.citations.length).toBeGreaterThan(0);
    for (const citation of goals.citations) {
      expect(citation.missing).toBe(false);
      expect(citation.chunk.id).toBe(citation.chunkId);
      expect(citation.chunk.text.length).toBeGreaterThan(0);
      expect(citation.chunk.ordinal).toBeGreaterThanOrEqual(0);
      expect(citation.evidence.id).toBe(citation.chunk.evidence.id);
    }
    expect(goals.missingCitations).toEqual([]);
  });

  it("edits a DRAFT section in place, recording who, when and which paths changed", async () => {
    const iep = await newIep();
    const content = clone(section(iep, "ANNUAL_GOALS").content);
    content.goals[0].criterion = "Reads 60 words correct per minute in 4 of 5 weekly probes";
    const result = await edit({ iepId: iep.id, section: "ANNUAL_GOALS", content });
    expect(result.__typename).toBe("EditIepSectionSuccess");
    expect(result.iep).toMatchObject({ id: iep.id, version: iep.version, status: "DRAFT", revision: iep.revision + 1 });
    expect(result.section.content.goals[0].criterion).toBe(content.goals[0].criterion);
    expect(result.section.provenance).toMatchObject({
      source: "PERSON", model: null, generation: null, editedBy: { id: cm.userId }, changedPaths: ["annualGoals.goals[0].criterion"],
      fromVersion: { id: iep.id },
    });
    expect(Date.parse(result.section.provenance.editedAt)).toBeGreaterThan(Date.now() - 60_000);
    expect(section(result.iep, "PRESENT_LEVELS").provenance.source).toBe("AI");
    expect(await editRows(iep.id)).toHaveLength(1);
    expect(await audits(iep.id, "EDITED")).toHaveLength(1);

    const again = await edit({ iepId: iep.id, section: "ANNUAL_GOALS", content });
    expect(again.iep.revision).toBe(iep.revision + 1);
    expect(await editRows(iep.id)).toHaveLength(1);
  });

  it("refuses an invalid section, a foreign citation and an unknown chunk with ValidationError, writing nothing", async () => {
    const iep = await newIep();
    const other = await newIep(otherStudentId);
    const goals = section(iep, "ANNUAL_GOALS").content;

    const missingField = clone(goals);
    delete missingField.goals[0].criterion;
    const foreign = clone(goals);
    foreign.goals[0].citations = [section(other, "ANNUAL_GOALS").citations[0].chunkId];
    const unknown = clone(goals);
    unknown.goals[0].citations = ["00000000-0000-4000-8000-000000000000"];
    const empty = clone(section(iep, "PROGRESS_REPORTING").content);
    empty.method = "   ";

    const cases: [string, unknown, string[]][] = [
      ["ANNUAL_GOALS", missingField, ["content", "goals", "0", "criterion"]],
      ["ANNUAL_GOALS", foreign, ["content", "goals", "0", "citations", "0"]],
      ["ANNUAL_GOALS", unknown, ["content", "goals", "0", "citations", "0"]],
      ["PROGRESS_REPORTING", empty, ["content", "method"]],
      ["TRANSITION", { postsecondaryGoals: null }, ["content", "postsecondaryGoals"]],
      ["ANNUAL_GOALS", 42, ["content"]],
    ];
    for (const [kind, content, path] of cases) {
      const result = await edit({ iepId: iep.id, section: kind, content });
      expect(result.__typename, JSON.stringify(result)).toBe("ValidationError");
      expect(result.fieldErrors.map((e: { path: string[] }) => e.path), kind).toContainEqual(path);
    }
    const after = (await stack.gql(READ_IEP, { id: iep.id })).data.iep;
    expect(after.revision).toBe(iep.revision);
    expect(after.content).toEqual(iep.content);
    expect(await editRows(iep.id)).toEqual([]);
    expect(await audits(iep.id, "EDITED")).toEqual([]);
    expect((await edit({ iepId: "00000000-0000-4000-8000-000000000000", section: "ANNUAL_GOALS", content: goals })).__typename).toBe("NotFoundError");
  });

  it("moves DRAFT → IN_REVIEW → FINAL, recording who and when; other moves are InvalidStateError", async () => {
    const iep = await newIep();
    const early = (await stack.gql(APPROVE, { id: iep.id })).data.approveIep;
    expect(early).toMatchObject({ __typename: "InvalidStateError", currentState: "DRAFT" });

    const submitted = (await stack.gql(SUBMIT, { id: iep.id })).data.submitIepForReview;
    expect(submitted.iep).toMatchObject({ status: "IN_REVIEW", submittedBy: { id: cm.userId } });
    expect((await stack.gql(SUBMIT, { id: iep.id })).data.submitIepForReview).toMatchObject({ __typename: "InvalidStateError", currentState: "IN_REVIEW" });

    const content = clone(section(iep, "PROGRESS_REPORTING").content);
    content.frequency = "Every six weeks, with a written progress report";
    const inReview = await edit({ iepId: iep.id, section: "PROGRESS_REPORTING", content });
    expect(inReview.iep).toMatchObject({ id: iep.id, status: "IN_REVIEW" });

    const admin = await colleague("ADMIN");
    const approved = (await stack.gql(APPROVE, { id: iep.id }, admin.token)).data.approveIep;
    expect(approved.iep).toMatchObject({ status: "FINAL", approvedBy: { id: admin.userId, name: "A ADMIN" } });
    expect(Date.parse(approved.iep.approvedAt)).toBeGreaterThan(Date.now() - 60_000);
    expect((await stack.gql(APPROVE, { id: iep.id })).data.approveIep).toMatchObject({ __typename: "InvalidStateError", currentState: "FINAL" });
    expect(await audits(iep.id, "SUBMITTED")).toHaveLength(1);
    expect(await audits(iep.id, "APPROVED")).toHaveLength(1);
  });

  it("editing a FINAL IEP starts one new DRAFT version from it; versions and per-section diffs", async () => {
    const base = await newIep();
    const goals = clone(section(base, "ANNUAL_GOALS").content);
    goals.goals[0].behavior = "will read grade-level passages aloud accurately";
    await edit({ iepId: base.id, section: "ANNUAL_GOALS", content: goals });
    await stack.gql(SUBMIT, { id: base.id });
    await stack.gql(APPROVE, { id: base.id });

    const lre = clone(section(base, "LEAST_RESTRICTIVE_ENVIRONMENT").content);
    lre.percentTimeInGeneralEducation = lre.percentTimeInGeneralEducation === 75 ? 70 : 75;
    const branched = await edit({ iepId: base.id, section: "LEAST_RESTRICTIVE_ENVIRONMENT", content: lre });
    expect(branched.__typename).toBe("EditIepSectionSuccess");
    expect(branched.iep).toMatchObject({ status: "DRAFT", version: base.version + 1, basedOn: { id: base.id }, approvedBy: null });
    expect(branched.iep.id).not.toBe(base.id);
    const finalNow = (await stack.gql(READ_IEP, { id: base.id })).data.iep;
    expect(finalNow).toMatchObject({ status: "FINAL", content: { ...base.content, annualGoals: goals } });

    const v2 = branched.iep;
    expect(section(v2, "LEAST_RESTRICTIVE_ENVIRONMENT").provenance).toMatchObject({
      source: "PERSON", changedPaths: ["leastRestrictiveEnvironment.percentTimeInGeneralEducation"], fromVersion: { id: v2.id },
    });
    expect(section(v2, "ANNUAL_GOALS").provenance).toMatchObject({ source: "PERSON", changedPaths: ["annualGoals.goals[0].behavior"], fromVersion: { id: base.id } });
    expect(section(v2, "SERVICES").provenance).toMatchObject({ source: "AI", fromVersion: { id: base.id }, promptVersion: PROMPT_VERSION });

    const view = (await stack.gql(VERSIONS, { id: v2.id })).data.iep;
    expect(view.versions.map((v: { id: string }) => v.id).slice(0, 2)).toEqual([v2.id, base.id]);
    const byKind = Object.fromEntries(view.diff.map((d: { kind: string }) => [d.kind, d]));
    expect(byKind.LEAST_RESTRICTIVE_ENVIRONMENT).toMatchObject({ change: "CHANGED", changedPaths: ["leastRestrictiveEnvironment.percentTimeInGeneralEducation"] });
    expect(byKind.LEAST_RESTRICTIVE_ENVIRONMENT.after.percentTimeInGeneralEducation).toBe(lre.percentTimeInGeneralEducation);
    expect(byKind.ANNUAL_GOALS).toMatchObject({ change: "UNCHANGED", changedPaths: [] });
    expect(byKind.TRANSITION).toMatchObject({ change: "UNCHANGED", before: null, after: null });
    const against = (await stack.gql(VERSIONS, { id: v2.id, against: base.id })).data.iep.diff;
    expect(against).toEqual(view.diff);
    const first = (await stack.gql(VERSIONS, { id: base.id, against: v2.id })).data.iep.diff;
    expect(first.find((d: { kind: string }) => d.kind === "LEAST_RESTRICTIVE_ENVIRONMENT").change).toBe("CHANGED");
    const foreign = await stack.gql(VERSIONS, { id: v2.id, against: (await newIep(otherStudentId)).id });
    expect(foreign.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    expect(foreign.errors?.[0]?.path).toEqual(["iep", "diff"]);

    // Another edit of the FINAL version goes to the same draft: no third version.
    const progress = clone(section(base, "PROGRESS_REPORTING").content);
    progress.method = "Curriculum-based measurement probes, graphed weekly";
    const again = await edit({ iepId: base.id, section: "PROGRESS_REPORTING", content: progress });
    expect(again.iep).toMatchObject({ id: v2.id, version: v2.version });
    const stale = await edit({ iepId: base.id, section: "PROGRESS_REPORTING", content: section(base, "PROGRESS_REPORTING").content, expectedRevision: finalNow.revision });
    expect(stale).toMatchObject({ __typename: "InvalidStateError", currentState: "STALE" });
  });

  it("concurrent edits lose none: different sections of a DRAFT, and two first edits of a FINAL version", async () => {
    const iep = await newIep();
    const changes: [string, (c: any) => void][] = [
      ["PROGRESS_REPORTING", (c) => { c.frequency = "Monthly, in writing"; }],
      ["LEAST_RESTRICTIVE_ENVIRONMENT", (c) => { c.explanation = "Pull-out reading instruction 45 minutes daily."; }],
      ["ASSESSMENT_PARTICIPATION", (c) => { c.accommodations = [...c.accommodations, "Extended time (1.5x)"]; }],
      ["SERVICES", (c) => { c.supplementaryAids = [...c.supplementaryAids, "Visual timer"]; }],
    ];
    const contents = changes.map(([kind, change]) => {
      const content = clone(section(iep, kind).content);
      change(content);
      return [kind, content] as const;
    });
    const results = await Promise.all(contents.map(([kind, content]) => edit({ iepId: iep.id, section: kind, content })));
    expect(results.map((r) => r.__typename)).toEqual(changes.map(() => "EditIepSectionSuccess"));
    const after = (await stack.gql(READ_IEP, { id: iep.id })).data.iep;
    for (const [kind, content] of contents) expect(section(after, kind).content).toEqual(content);
    expect(after.revision).toBe(iep.revision + changes.length);
    expect(await editRows(iep.id)).toHaveLength(changes.length);

    await stack.gql(SUBMIT, { id: iep.id });
    await stack.gql(APPROVE, { id: iep.id });
    const [a, b] = await Promise.all(contents.slice(0, 2).map(([kind, content]) => {
      const changed = clone(content);
      if (kind === "PROGRESS_REPORTING") changed.frequency = "Quarterly";
      else changed.explanation = "Full day in the general education classroom with push-in support.";
      return edit({ iepId: iep.id, section: kind, content: changed });
    }));
    expect(a.iep.id).toBe(b.iep.id);
    const branch = (await stack.gql(READ_IEP, { id: a.iep.id })).data.iep;
    expect(section(branch, "PROGRESS_REPORTING").content.frequency).toBe("Quarterly");
    expect(section(branch, "LEAST_RESTRICTIVE_ENVIRONMENT").content.explanation).toMatch(/^Full day/);
    const versions = (await stack.gql(VERSIONS, { id: iep.id })).data.iep.versions;
    expect(versions.filter((v: { id: string; status: string }) => v.status === "DRAFT" && v.id === branch.id)).toHaveLength(1);
    expect(versions.filter((v: { version: number }) => v.version > after.version)).toHaveLength(1);
  });

  it("a TEACHER on the caseload reads but may not edit, submit or approve; another case manager's IEP is refused", async () => {
    const iep = await newIep();
    const admin = await colleague("ADMIN");
    const teacher = await colleague("TEACHER");
    const otherManager = await colleague("CASE_MANAGER");
    const assigned = await stack.gql(`mutation ReviewAssign($input: StudentAssignmentInput!) { assignStudent(input: $input) { __typename } }`,
      { input: { userId: teacher.userId, studentId } }, admin.token);
    expect(assigned.data.assignStudent.__typename).toBe("AssignStudentSuccess");

    const read = await stack.gql(READ_IEP, { id: iep.id }, teacher.token);
    expect(read.data.iep.sections.length).toBeGreaterThan(0);
    for (const token of [teacher.token, otherManager.token]) {
      const edited = await stack.gql(EDIT, { input: { iepId: iep.id, section: "PROGRESS_REPORTING", content: section(iep, "PROGRESS_REPORTING").content } }, token);
      expect(edited.errors?.map((e) => e.extensions?.code)).toEqual(["FORBIDDEN"]);
      expect((await stack.gql(SUBMIT, { id: iep.id }, token)).errors?.map((e) => e.extensions?.code)).toEqual(["FORBIDDEN"]);
      expect((await stack.gql(APPROVE, { id: iep.id }, token)).errors?.map((e) => e.extensions?.code)).toEqual(["FORBIDDEN"]);
    }
    const outsider = await stack.createTenant("ADMIN");
    expect((await stack.gql(SUBMIT, { id: iep.id }, outsider.token)).data.submitIepForReview.__typename).toBe("NotFoundError");
    expect((await stack.gql(READ_IEP, { id: iep.id })).data.iep).toMatchObject({ status: "DRAFT", revision: iep.revision });
  });

  it("reads every version's sections, provenance, citations and diffs in as many statements for three versions as for one", async () => {
    const single = await createStudentWithIeps(1);
    const several = await createStudentWithIeps(3);
    const one = await statementsFor(single);
    const three = await statementsFor(several);
    expect(one.data.iep.versions).toHaveLength(1);
    expect(three.data.iep.versions).toHaveLength(3);
    const sources = three.data.iep.versions.flatMap((i: { sections: Section[] }) => i.sections.map((s) => s.provenance.source));
    expect(sources).toContain("PERSON");
    expect(sources).toContain("AI");
    expect(three.statements.length, three.statements.join("\n")).toBe(one.statements.length);
  });

  /** A new student's newest IEP of `count` versions, each with an edited section. */
  async function createStudentWithIeps(count: number): Promise<string> {
    const id = await studentWithEvidence(stack);
    let iep: any;
    for (let i = 0; i < count; i += 1) {
      iep = await newIep(id);
      const content = clone(section(iep, "PROGRESS_REPORTING").content);
      content.frequency = `Every ${i + 3} weeks`;
      expect((await edit({ iepId: iep.id, section: "PROGRESS_REPORTING", content })).__typename).toBe("EditIepSectionSuccess");
    }
    return iep.id;
  }

  /** Runs REVIEW_LOAD for an IEP, returning the data and the SQL statements the API sent. */
  async function statementsFor(id: string) {
    const statements: string[] = [];
    const pool = stack.runtime.pool;
    const original = pool.query.bind(pool) as (...args: unknown[]) => unknown;
    const spy = vi.spyOn(pool, "query").mockImplementation(((...args: unknown[]) => {
      const text = typeof args[0] === "string" ? args[0] : (args[0] as { text?: string }).text ?? "";
      if (!/worker_heartbeats|graphile_worker|generation_events|pg_notify/.test(text)) statements.push(text.replace(/\s+/g, " ").slice(0, 90));
      return original(...args);
    }) as typeof pool.query);
    try {
      const result = await stack.gql(REVIEW_LOAD, { id });
      expect(result.errors, JSON.stringify(result.errors)).toBeUndefined();
      return { data: result.data, statements };
    } finally {
      spy.mockRestore();
    }
  }

  it("flags citations whose evidence chunks no longer exist", async () => {
    const iep = await newIep(otherStudentId);
    const goal = section(iep, "ANNUAL_GOALS");
    const gone = goal.citations[0].chunkId;
    await queryDatabase(stack.db.url, "delete from evidence_chunks where id = $1", [gone]);

    const after = (await stack.gql(READ_IEP, { id: iep.id })).data.iep;
    const goals = section(after, "ANNUAL_GOALS");
    expect(goals.missingCitations).toEqual([gone]);
    expect(goals.citations.find((c: { chunkId: string }) => c.chunkId === gone)).toMatchObject({ missing: true, chunk: null, evidence: null });
    expect(goals.citations.filter((c: { missing: boolean }) => !c.missing).length).toBe(goals.citations.length - 1);
    expect(after.missingCitations).toEqual([gone]);
  });

  it("a section regeneration keeps the base version's provenance for the sections it copies", async () => {
    const base = await newIep();
    const present = clone(section(base, "PRESENT_LEVELS").content);
    present.disabilityImpact.statement = "Decoding difficulties limit access to grade-level texts without support.";
    await edit({ iepId: base.id, section: "PRESENT_LEVELS", content: present });
    const regenerated = (await stack.gql(REGENERATE, { input: { iepId: base.id, section: "SERVICES" } })).data.regenerateIepSection;
    expect(regenerated.generation.status).toBe("SUCCEEDED");
    const iep = (await stack.gql(READ_IEP, { id: regenerated.generation.iep.id })).data.iep;
    expect(section(iep, "PRESENT_LEVELS").provenance).toMatchObject({ source: "PERSON", fromVersion: { id: base.id }, editedBy: { id: cm.userId } });
    expect(section(iep, "SERVICES").provenance).toMatchObject({ source: "AI", generation: { id: regenerated.generation.id }, fromVersion: { id: iep.id } });
    expect(section(iep, "ANNUAL_GOALS").provenance).toMatchObject({ source: "AI", fromVersion: { id: base.id } });
  });
});
